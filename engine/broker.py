"""A message broker: topics, at-least-once delivery with acks, redelivery, dead letters.

* Publishing goes through an outbox: a publish the network drops (partition,
  loss, broker down) is sent again every `publish_retry` seconds. Publisher
  confirms are modelled by this effect; the confirm messages themselves are
  not simulated.
* Each subscriber of a topic gets its own copy. A delivery that is not acked
  within `ack_timeout` is delivered again (so a consumer may see duplicates);
  after `max_deliveries` deliveries the message goes to the dead letters.
* Stored messages survive a broker crash; redelivery resumes at restart.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sim import Deadlines, Node

__all__ = ["Broker", "BrokerConfig"]

BROKER = "broker"


@dataclass(frozen=True, kw_only=True)
class BrokerConfig:
    ack_timeout: float = 5.0
    max_deliveries: int = 5
    publish_retry: float = 1.0
    max_publishes: int = 100

    def __post_init__(self) -> None:
        if not self.ack_timeout > 0 or not self.publish_retry > 0:
            raise ValueError("broker ack_timeout and publish_retry must be > 0 seconds")
        if self.max_deliveries < 1 or self.max_publishes < 1:
            raise ValueError("broker max_deliveries and max_publishes must be >= 1")

    @classmethod
    def from_spec(cls, spec) -> "BrokerConfig":
        if spec is None:
            return cls()
        if isinstance(spec, BrokerConfig):
            return spec
        if not isinstance(spec, dict):
            raise ValueError(f"broker settings are a mapping, got {spec!r}")
        known = ("ack_timeout", "max_deliveries", "publish_retry", "max_publishes")
        unknown = [k for k in spec if k not in known]
        if unknown:
            raise ValueError(f"unknown broker setting(s) {', '.join(unknown)}; use {', '.join(known)}")
        return cls(**spec)


class _Delivery:
    __slots__ = ("id", "topic", "node", "handler", "payload", "tag", "count")

    def __init__(self, id, topic, node, handler, payload, tag):
        self.id, self.topic, self.node, self.handler = id, topic, node, handler
        self.payload, self.tag, self.count = payload, tag, 0


class Broker(Node):
    def __init__(self, sim, config: BrokerConfig | None = None) -> None:
        super().__init__(sim, BROKER)
        self.config = config or BrokerConfig()
        self.subscribers: dict[str, list[tuple[str, object]]] = {}
        self.unacked: dict[int, _Delivery] = {}  # durable
        self._next_id = 0
        self._deadlines = Deadlines(sim, self.config.ack_timeout, self._expire, self._unexpired)

    def subscribe(self, topic: str, node: str, handler) -> None:
        """`handler(payload, ack)` runs at `node` for every delivery; call `ack()` when done."""
        subs = self.subscribers.setdefault(topic, [])
        if all(n != node for n, _ in subs):
            subs.append((node, handler))

    # -- publishing ------------------------------------------------------------
    def publish(self, src: str, topic: str, payload, tag=(None, None, None), _tries: int = 1) -> None:
        sim = self.sim
        if not sim.nodes[src].up:  # a crashed publisher's outbox resumes when it restarts
            sim.at(self.config.publish_retry, self.publish, src, topic, payload, tag, _tries)
            return
        sim.network.send(src, BROKER, topic, self._accept, (topic, payload, tag), tag,
                         on_drop=lambda: self._resend(src, topic, payload, tag, _tries))

    def _resend(self, src, topic, payload, tag, tries) -> None:
        if tries >= self.config.max_publishes:
            self.sim.trace.add(self.sim.now, "dead-letter", tag[0], tag[1], tag[2], src, BROKER,
                               f"{topic} (outbox gave up)")
            return
        self.sim.at(self.config.publish_retry, self.publish, src, topic, payload, tag, tries + 1)

    def _accept(self, topic, payload, tag) -> None:
        # A topic nobody subscribes to keeps its message unread, as a log would: not a dead letter.
        for node, handler in self.subscribers.get(topic, ()):
            self._next_id += 1
            self._deliver(_Delivery(self._next_id, topic, node, handler, payload, tag))

    # -- delivery ----------------------------------------------------------------
    def _deliver(self, d: _Delivery) -> None:
        sim = self.sim
        d.count += 1
        if d.count > self.config.max_deliveries:
            self.unacked.pop(d.id, None)
            sim.trace.add(sim.now, "dead-letter", d.tag[0], d.tag[1], d.tag[2], BROKER, d.node, d.topic)
            return
        self.unacked[d.id] = d
        ack = lambda: sim.network.send(d.node, BROKER, "ack", self._ack, (d.id,), d.tag)  # noqa: E731
        sim.network.send(BROKER, d.node, d.topic, d.handler, (d.payload, ack), d.tag)
        self._deadlines.add((d.id, d.count, self.epoch))

    def _ack(self, delivery_id: int) -> None:
        self.unacked.pop(delivery_id, None)

    def _unexpired(self, item) -> bool:
        """Is this ack deadline still waited for? Not if acked, redelivered, or the broker restarted since."""
        delivery_id, count, epoch = item
        d = self.unacked.get(delivery_id)
        return d is not None and d.count == count and epoch == self.epoch

    def _expire(self, item) -> None:
        self._deliver(self.unacked[item[0]])

    def on_restart(self) -> None:
        for d in list(self.unacked.values()):
            self._deliver(d)
