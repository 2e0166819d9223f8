"""A queue (SQS / RabbitMQ-like): competing consumers, acks, redelivery, dead letters, no replay.

* Competing consumers: each message goes to one consumer at a time; a receive takes up to
  `batch` messages (SQS's ReceiveMessage returns at most 10), and the consumer deletes (acks)
  them together when the batch is done (DeleteMessageBatch; RabbitMQ's ``multiple`` ack).
* Redelivery: a message not acked within `ack_timeout` becomes visible again and goes to whoever
  asks next — the SQS visibility timeout, or RabbitMQ's delivery acknowledgement timeout. A
  RabbitMQ consumer whose connection dies has its unacked messages requeued at once; an SQS
  queue cannot tell, and waits out the visibility timeout. A delete carrying the receipt handle
  of an earlier receive does not delete (SQS wants the most recent handle).
* Dead letters: a message received more than `max_receives` times is moved to the dead-letter
  queue instead of being delivered (SQS redrive policy ``maxReceiveCount``).
* Acked messages are deleted: nothing can be replayed. Unconsumed messages expire after
  `retention_days` (SQS ``MessageRetentionPeriod``).
* Ordering: a standard queue hands messages to competing consumers in parallel and puts
  redelivered ones at the back, so one order's events can be applied out of order. With
  ``fifo=True`` (SQS FIFO, one message group per order) a group is locked while any of its
  messages is in flight and its messages are delivered strictly in order.

The queue is replicated on `nodes` brokers ("broker-1"..) and served by one of them: a crash of
that node loses no stored message (SQS stores redundantly; a RabbitMQ quorum queue replicates to a
majority), but publishes, receives and deletes fail until another node serves the queue,
`failover` seconds later (one node: until it restarts). RabbitMQ then requeues every unacked
message (its connections were reset); SQS's visibility timers simply run on. A follower that stalls
(`follower_stall`) changes nothing: a quorum queue confirms a publish once a majority holds it.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

from ..sim import Deadlines
from . import _check
from .consumer import Consumer
from .option import HOP, BrokerNode, Option
from .workload import DAY

__all__ = ["QueueConfig", "QueueOption"]

# Documented defaults, per flavor:
# - SQS visibility timeout 30 s (0 s to 12 h):
#   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html
#   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/working-with-visibility-timeouts.html
# - SQS maxReceiveCount has no default: a redrive policy must name it (1 to 1,000). 5 is this model's choice.
#   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
# - SQS MessageRetentionPeriod default 345,600 s = 4 days (60 s to 14 days):
#   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
# - RabbitMQ consumer_timeout (delivery acknowledgement timeout) default 1,800,000 ms = 30 min; on a timeout
#   or a closed channel the unacked deliveries are requeued:
#   https://www.rabbitmq.com/docs/consumers#acknowledgement-timeout
#   https://www.rabbitmq.com/docs/confirms#automatic-requeueing
#   RabbitMQ has no delivery limit unless a quorum queue's delivery-limit is set: None. Quorum queues replicate
#   to 3 nodes by default on Amazon MQ:
#   https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/quorum-queues-best-practices.html
# - SQS FIFO message groups, strict order within a group:
#   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagegroupid-property.html
FLAVORS = {
    "sqs": {"ack_timeout": 30.0, "max_receives": 5, "retention_days": 4.0, "requeue_on_disconnect": False},
    "rabbitmq": {"ack_timeout": 1800.0, "max_receives": None, "retention_days": None,
                 "requeue_on_disconnect": True},
}
DEFAULT = "default"


@dataclass(frozen=True, kw_only=True)
class QueueConfig:
    """The queue's settings; DEFAULT fields take the flavor's documented value (see FLAVORS)."""

    flavor: str = "sqs"
    ack_timeout: float | str = DEFAULT       # s: SQS visibility timeout / RabbitMQ consumer_timeout
    max_receives: int | None | str = DEFAULT  # deliveries before the dead-letter queue; None: no limit
    retention_days: float | None | str = DEFAULT
    fifo: bool = False
    batch: int = 10
    nodes: int = 3           # the queue replicated on a majority (an SQS queue's storage; a quorum queue)
    failover: float = 10.0   # s until another node serves the queue (a model choice, as for the others)

    def __post_init__(self) -> None:
        f = FLAVORS[_check.choice("flavor", self.flavor, tuple(FLAVORS))]
        for key in ("ack_timeout", "max_receives", "retention_days"):
            if getattr(self, key) == DEFAULT:
                object.__setattr__(self, key, f[key])
        object.__setattr__(self, "ack_timeout", _check.seconds("ack_timeout", self.ack_timeout, allow_zero=False))
        if self.max_receives is not None:
            _check.whole("max_receives", self.max_receives, low=1, high=1000)
        if self.retention_days is not None:
            _check.number("retention_days", self.retention_days, low=0, low_open=True)
        if not isinstance(self.fifo, bool):
            raise ValueError(f"fifo must be true or false, got {self.fifo!r}")
        _check.whole("batch", self.batch, low=1, high=10_000)
        _check.whole("nodes", self.nodes, low=1, high=9)
        object.__setattr__(self, "failover", _check.seconds("failover", self.failover, allow_zero=False))

    @property
    def requeue_on_disconnect(self) -> bool:
        return FLAVORS[self.flavor]["requeue_on_disconnect"]


class _Entry:
    __slots__ = ("id", "msg", "receives", "token", "consumer", "enq")

    def __init__(self, msg, enq: float) -> None:
        self.id, self.msg, self.enq = msg.id, msg, enq
        self.receives = self.token = 0
        self.consumer = None


class QueueBroker:
    """The queue's state, replicated on every node and served by the leader; standard (one visible
    line) or FIFO (one line per order)."""

    def __init__(self, sim, option: "QueueOption") -> None:
        self.sim, self.option, self.cfg = sim, option, option.config
        self.ready: OrderedDict = OrderedDict()   # standard: entry id -> entry, in visible order
        self.groups: dict = {}                    # fifo: order -> deque of its ready entries, by id
        self.avail: OrderedDict = OrderedDict()   # fifo: orders with ready entries and none in flight
        self.busy: dict = {}                      # fifo: order -> entries in flight
        self.inflight: dict = {}
        self.dead: list = []
        self.waiting: list = []
        self.deadlines = Deadlines(sim, self.cfg.ack_timeout, self._expire, self._pending)

    # -- storing -----------------------------------------------------------------------------------------
    def accept(self, msg) -> None:
        self._enqueue(_Entry(msg, self.sim.now))

    def _enqueue(self, e: _Entry) -> None:
        if self.cfg.fifo:
            g = e.msg.order
            q = self.groups.setdefault(g, deque())
            i = len(q)
            while i and q[i - 1].id > e.id:  # a redelivered entry goes back to its place in the group
                i -= 1
            q.insert(i, e)
            if g not in self.busy and g not in self.avail:
                self.avail[g] = None
        else:
            self.ready[e.id] = e  # a redelivered entry goes to the back: no ordering promise
        self._wake()

    def _wake(self) -> None:
        while self.waiting:
            c = self.waiting.pop(0)
            if c.up and not c.busy and not c.polling:
                c.poll()
                return

    # -- receiving ---------------------------------------------------------------------------------------
    def receive(self, consumer: str, n: int) -> list:
        out, now, cfg, group = [], self.sim.now, self.cfg, None
        while len(out) < n:
            e, group = self._next(group)
            if e is None:
                break
            if cfg.retention_days is not None and now - e.enq > cfg.retention_days * DAY:
                e.msg.lost = now
                self._release(e)
                self.sim.trace.add(now, "message-dropped", e.msg.order, e.msg.kind, node=self.name,
                                   info="expired (retention)")
                continue
            e.receives += 1
            if cfg.max_receives is not None and e.receives > cfg.max_receives:
                e.msg.dead = now
                self.dead.append(e)
                self._release(e)
                self.sim.trace.add(now, "dead-letter", e.msg.order, e.msg.kind, e.receives, self.name,
                                   consumer, "queue")
                continue
            e.token += 1
            e.consumer = consumer
            self.inflight[e.id] = e
            self.deadlines.add((e.id, e.token))
            out.append(e)
        return out

    def _next(self, group):
        """The next visible entry; a FIFO receive keeps taking from one group while it has any."""
        if not self.cfg.fifo:
            return (self.ready.popitem(last=False)[1] if self.ready else None), None
        if group is not None and self.groups.get(group):
            self.avail.pop(group, None)  # still taking from it: it is not available to anyone else
        else:
            group = None
            while self.avail and not group:
                g = self.avail.popitem(last=False)[0]
                group = g if self.groups.get(g) else None  # a group emptied by a late delete is skipped
            if group is None:
                return None, None
        e = self.groups[group].popleft()
        self.busy[group] = self.busy.get(group, 0) + 1
        return e, group

    def _release(self, e: _Entry) -> None:
        """A FIFO entry left flight (acked, expired, dead-lettered): unlock its group when none remain."""
        if not self.cfg.fifo:
            return
        g = e.msg.order
        self.busy[g] -= 1
        if not self.busy[g]:
            del self.busy[g]
            if self.groups.get(g):
                self.avail[g] = None
                self._wake()

    # -- acks and redelivery -------------------------------------------------------------------------------
    def delete(self, pairs) -> None:
        """A batch delete: (entry, receipt token) pairs; a stale token does not delete."""
        if not self.up:
            return  # the request failed: the messages stay in flight and come back
        for e, token in pairs:
            if e.token != token:
                continue
            if self.inflight.pop(e.id, None) is e:
                self._release(e)
            elif not self.cfg.fifo:
                self.ready.pop(e.id, None)  # visible again, but not yet received again: still deletable
            elif e in self.groups.get(e.msg.order, ()):
                self.groups[e.msg.order].remove(e)

    def _pending(self, item) -> bool:
        e = self.inflight.get(item[0])
        return e is not None and e.token == item[1]

    def _expire(self, item) -> None:
        self._requeue(self.inflight[item[0]])

    def _requeue(self, e: _Entry) -> None:
        del self.inflight[e.id]
        if self.cfg.requeue_on_disconnect:
            e.token += 1  # RabbitMQ: the channel is gone, and its delivery tags with it
        if self.cfg.fifo:
            self.busy[e.msg.order] -= 1
            if not self.busy[e.msg.order]:
                del self.busy[e.msg.order]
        self._enqueue(e)

    @property
    def up(self) -> bool:
        return self.option.leader is not None

    @property
    def name(self) -> str:
        return self.option.leader or "-"

    def requeue_consumer(self, consumer: str) -> None:
        """RabbitMQ: the consumer's connection closed; its unacked deliveries go back now."""
        if self.up:
            for e in [e for e in self.inflight.values() if e.consumer == consumer]:
                self._requeue(e)

    def served_again(self) -> None:
        """A node serves the queue again (failover or restart)."""
        if self.cfg.requeue_on_disconnect:  # every connection was reset: every unacked delivery requeued
            for e in list(self.inflight.values()):
                self._requeue(e)
        self.option.unpark()


class QueueConsumer(Consumer):
    """Receive a batch, apply it, delete it; wait on the broker when the queue is empty."""

    def __init__(self, sim, name: str, app, option: "QueueOption") -> None:
        super().__init__(sim, name, app)
        self.option = option
        self.polling = False

    def poll(self) -> None:
        if self.up and not self.busy and not self.polling:
            b = self.option.broker
            if b.up and not b.ready and not b.avail:
                b.waiting.append(self)  # nothing visible: a long poll waits for a message
                return
            self.polling = True
            self.sim.at(2 * HOP, self._receive, self.epoch)  # the request and its response

    def _receive(self, epoch: int) -> None:
        if epoch != self.epoch:
            return
        self.polling = False
        b = self.option.broker
        if not b.up:
            self.option.park(self.poll)
            return
        entries = b.receive(self.name, self.option.config.batch)
        if not entries:
            b.waiting.append(self)
            return
        for e in entries:
            self.sim.trace.add(self.sim.now, "message", e.msg.order, e.msg.kind, e.receives, b.name, self.name,
                               "queue", e.msg.t)
        tokens = [e.token for e in entries]
        self.process([e.msg for e in entries], lambda: self._done(entries, tokens))

    def _done(self, entries, tokens) -> None:
        self.sim.at(HOP, self.option.broker.delete, list(zip(entries, tokens)))
        self.poll()

    def on_crash(self) -> None:
        super().on_crash()
        self.polling = False
        if self.option.config.requeue_on_disconnect:
            self.option.broker.requeue_consumer(self.name)


class QueueOption(Option):
    name = "queue"

    def __init__(self, sim, app, config: QueueConfig, consumers: int) -> None:
        super().__init__(sim, app, config)
        self.nodes = [sim.add(BrokerNode(sim, f"broker-{k + 1}", self)) for k in range(config.nodes)]
        self.leader: str | None = self.nodes[0].name
        self.broker = QueueBroker(sim, self)
        self.consumers = [sim.add(QueueConsumer(sim, f"consumer-{k + 1}", app, self)) for k in range(consumers)]

    # -- nodes failing: the queue is unavailable until another node serves it --------------------------------
    def node_crashed(self, name: str) -> None:
        if name == self.leader:
            self.leader = None
            self.note("queue unavailable", broker=name)
            if len(self.nodes) > 1:
                self.sim.at(self.config.failover, self._failover)

    def _failover(self) -> None:
        live = [n for n in self.nodes if n.up]
        if self.leader is None and len(live) > len(self.nodes) // 2:  # a majority elects a new leader
            self.leader = live[0].name
            self.note("queue served again", broker=self.leader)
            self.broker.served_again()

    def node_restarted(self, name: str) -> None:
        if self.leader is None:
            if len(self.nodes) == 1:
                self.leader = name
                self.note("queue served again", broker=name)
                self.broker.served_again()
            else:
                self._failover()

    def arrive(self, msg) -> None:
        if not self.broker.up:
            self.park(self.publish, msg)
            return
        if msg.stored is None:
            msg.stored = self.sim.now
        self.broker.accept(msg)
        self.producer.acked(msg, self.sim.now + HOP)

    def stored(self) -> list:
        b = self.broker
        held = list(b.ready.values()) + [e for q in b.groups.values() for e in q] + list(b.inflight.values())
        return held + b.dead

    def replayable(self, since: float, at: float | None = None) -> list:
        """Only what is still stored: acked messages were deleted; dead letters expire with retention."""
        at = self.sim.now if at is None else at
        keep = self.config.retention_days
        return sorted((e.msg for e in self.stored()
                       if e.msg.t is not None and e.msg.t >= since and (keep is None or at - e.enq <= keep * DAY)),
                      key=lambda m: m.id)

    def repair(self, since: float) -> None:
        self.note("replay impossible", detail="acked messages were deleted; nothing from the bug is left",
                  replayable=len(self.replayable(since)))

    def day_scale(self, workload, days: float) -> dict:
        """A queue holds only its backlog and dead letters (until retention), on every node: storage stays flat."""
        keep = self.config.retention_days

        def held(day):
            return sum(1 for e in self.stored() if keep is None or day * DAY - e.enq <= keep * DAY)
        size = workload.event_bytes * self.config.nodes
        return {"stored_events": held(days), "storage_bytes": held(days) * size,
                "storage_bytes_day_before": held(max(days - 1, 0)) * size}
