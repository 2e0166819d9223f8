"""An event store (EventStoreDB-like): a stream per order, expected versions, catch-up subscriptions.

* A stream per aggregate: order 17's events are appended to stream ``order-17``. Every append
  names the version the writer expects the stream to be at (`-1`, NO_STREAM, for a new one); a
  stale expectation is refused with `WrongExpectedVersion` — optimistic concurrency. An append
  repeated with the same event ids at the same expected version succeeds without writing twice,
  so the order service can retry safely.
* The cluster ("broker-1".."broker-3") commits a write once a majority holds it (a follower holds
  it `replication_lag` seconds after the leader); only committed events are acknowledged and read.
  A leader crash loses only unacknowledged appends, which the writer retries with the new leader,
  elected `failover` seconds later. A dead or stalled follower does not hold writes back while a
  majority lives.
* Catch-up subscriptions: each consumer reads the committed events of its share of the streams
  (streams split by a stable hash) from its own checkpoint, in commit order — so every order's
  events arrive in order. The checkpoint is the consumer's to store (after each batch here); after
  a crash it resumes from the checkpoint and sees the rest of that batch again. There is no
  rebalance: a dead consumer's share waits for it to come back.
* Projections rebuilt from history: a repair resets the subscriptions to the first event at or
  after the bug and re-applies everything since. Events are kept forever unless `max_age_days`
  is set (the ``$maxAge`` stream metadata; events past it are scavenged).
"""

from __future__ import annotations

import math
import zlib
from bisect import bisect_right
from dataclasses import dataclass

from . import _check
from .consumer import Consumer
from .option import HOP, BrokerNode, Option
from .workload import DAY

__all__ = ["EventStoreConfig", "EventStoreOption", "StreamStore", "WrongExpectedVersion", "NO_STREAM", "ANY"]

# Documented behaviour (EventStoreDB):
# - expected version on append, -1 = no stream, a mismatch is refused ("Wrong expected EventNumber"):
#   https://developers.eventstore.com/clients/http-api/v5/optional-http-headers/expected-version.html
#   https://developers.eventstore.com/clients/grpc/appending-events.html
# - "Identical append operations are idempotent if the optimistic concurrency check is not disabled":
#   https://developers.eventstore.com/clients/dotnet/21.2/appending
# - quorum writes (a majority acknowledges before the client is told; 3 nodes tolerate 1 failure):
#   https://developers.eventstore.com/server/v20.10/cluster.html
#   subscriptions may read from followers: https://developers.eventstore.com/server/v21.6/clustering/node-roles.html
# - catch-up subscriptions: historical events then live ones, in order; nothing is stored on the server,
#   the subscriber keeps its own checkpoint:
#   https://developers.eventstore.com/clients/dotnet/5.0/subscriptions/catchup-subscriptions.html
#   https://docs.kurrent.io/clients/grpc/subscriptions
# - $maxAge / $maxCount stream metadata, then scavenging:
#   https://docs.rs/eventstore/2.1.1/eventstore/struct.StreamMetadata.html
# Model choices: replication_lag, failover, checkpoint after every batch.
NO_STREAM = -1
ANY = "any"


class WrongExpectedVersion(Exception):
    """An append named a version the stream is not at."""

    def __init__(self, stream: str, expected, actual: int) -> None:
        super().__init__(f"stream {stream!r} is at version {actual}, the append expected {expected}")
        self.stream, self.expected, self.actual = stream, expected, actual


class Rec:
    __slots__ = ("stream", "version", "id", "data", "ts")

    def __init__(self, stream: str, version: int, id, data, ts: float) -> None:
        self.stream, self.version, self.id, self.data, self.ts = stream, version, id, data, ts


class StreamStore:
    """Streams and the ``$all`` log, with expected-version checks and idempotent retries; no time, no network."""

    def __init__(self) -> None:
        self.streams: dict[str, list[Rec]] = {}
        self.all: list[Rec] = []

    def version(self, stream: str) -> int:
        """The stream's version: the number of its last event, NO_STREAM (-1) when it has none."""
        return len(self.streams.get(stream, ())) - 1

    def append(self, stream: str, events: list, expected_version=ANY, now: float = 0.0) -> int:
        """Append (event id, data) pairs if the stream is at `expected_version` (or ANY); return the new version.

        `now` (simulated seconds) stamps the records. Raises WrongExpectedVersion on a stale expectation.
        """
        recs = self.streams.get(stream, [])
        current = len(recs) - 1
        if expected_version != ANY and expected_version != current:
            at = expected_version + 1
            if 0 <= at and [r.id for r in recs[at:at + len(events)]] == [e[0] for e in events]:
                return at + len(events) - 1  # the same append again: already written, nothing to do
            raise WrongExpectedVersion(stream, expected_version, current)
        recs = self.streams.setdefault(stream, recs)
        for event_id, data in events:
            rec = Rec(stream, len(recs), event_id, data, now)
            recs.append(rec)
            self.all.append(rec)
        return len(recs) - 1

    def truncate(self, n: int) -> list[Rec]:
        """Forget ``$all`` from position `n` on (a crashed leader's unreplicated tail); return what went."""
        gone = self.all[n:]
        del self.all[n:]
        for rec in reversed(gone):
            self.streams[rec.stream].pop()
        return gone


@dataclass(frozen=True, kw_only=True)
class EventStoreConfig:
    """Cluster size, replication lag and failover (s), subscription batch, optional $maxAge (days)."""

    nodes: int = 3
    replication_lag: float = 0.05
    failover: float = 10.0
    batch: int = 500
    max_age_days: float | None = None

    def __post_init__(self) -> None:
        _check.whole("nodes", self.nodes, low=1, high=9)
        for key in ("replication_lag", "failover"):
            object.__setattr__(self, key, _check.seconds(key, getattr(self, key), allow_zero=False))
        _check.whole("batch", self.batch, low=1, high=100_000)
        if self.max_age_days is not None:
            _check.number("max_age_days", self.max_age_days, low=0, low_open=True)


class Subscriber(Consumer):
    """A catch-up subscription over one share of the streams, checkpointing after each batch."""

    def __init__(self, sim, name: str, app, option: "EventStoreOption", share: int) -> None:
        super().__init__(sim, name, app)
        self.option, self.share = option, share
        self.pos = self.checkpoint = 0
        self.polling = False
        self.reset: int | None = None

    def poll(self) -> None:
        if self.up and not self.busy and not self.polling:
            if self.reset is None and self.pos >= len(self.option.shares[self.share]):
                self.option.waiting[self.share] = self  # caught up: a live subscription waits for news
                return
            self.polling = True
            self.sim.at(2 * HOP, self._read, self.epoch)

    def _read(self, epoch: int) -> None:
        if epoch != self.epoch:
            return
        self.polling = False
        o = self.option
        if not any(n.up for n in o.nodes):
            o.park(self.poll)
            return
        if self.reset is not None:
            self.pos = self.checkpoint = self.reset
            self.reset = None
        share, until = o.shares[self.share], o.replay_until[self.share]
        recs, replay, i = [], [], self.pos
        while i < len(share) and len(recs) < o.config.batch:
            if share[i].id not in o.scavenged:
                recs.append(share[i])
                replay.append(i < until)
            i += 1
        self.pos = i
        if not recs:
            o.waiting[self.share] = self
            return
        for r in recs:
            self.sim.trace.add(self.sim.now, "message", r.data.order, r.data.kind, None, o.leader, self.name,
                               r.stream, r.data.t)
        self.process([r.data for r in recs], self._done, replay)

    def _done(self) -> None:
        self.checkpoint = self.pos
        self.poll()

    def on_crash(self) -> None:
        super().on_crash()
        self.polling = False

    def on_restart(self) -> None:
        self.pos = self.checkpoint
        self.poll()


class EventStoreOption(Option):
    name = "eventstore"

    def __init__(self, sim, app, config: EventStoreConfig, consumers: int) -> None:
        super().__init__(sim, app, config)
        self.store = StreamStore()
        self.nodes = [sim.add(BrokerNode(sim, f"broker-{k + 1}", self)) for k in range(config.nodes)]
        self.leader: str | None = self.nodes[0].name
        self.committed = 0                      # $all positions below it are held by a majority
        self.in_sync_at = {n.name: 0.0 for n in self.nodes}
        self.consumers = [sim.add(Subscriber(sim, f"consumer-{k + 1}", app, self, k)) for k in range(consumers)]
        self.shares: list[list[Rec]] = [[] for _ in range(consumers)]
        self.replay_until = [0] * consumers
        self.waiting: list = [None] * consumers
        self.scavenged: set = set()             # msg ids removed by $maxAge (membership tests only)
        self.share_of: dict[str, int] = {}      # stream -> the subscription that reads it

    @property
    def majority(self) -> int:
        return len(self.nodes) // 2 + 1

    # -- appending ------------------------------------------------------------------------------------------
    def arrive(self, msg) -> None:
        if self.leader is None:
            self.park(self.publish, msg)
            return
        # the order service expects its stream at the previous event: a retry of a surviving append is a no-op
        self.store.append(f"order-{msg.order}", [(msg.id, msg)], msg.seq - 1, self.sim.now)
        if msg.stored is None:
            msg.stored = self.sim.now
        self.sim.at(self.config.replication_lag, self._advance)

    def _advance(self) -> None:
        """Commit every event a majority now holds; acknowledge it and hand it to its subscription."""
        lag, now = self.config.replication_lag, self.sim.now
        if self.leader is None:
            return
        holders = 1 + sum(1 for n in self.nodes if n.name != self.leader and n.up and now >= self.in_sync_at[n.name]
                          and n.name not in self.stalled)
        if holders < self.majority:
            return
        store, waiting, share_of = self.store.all, self.waiting, self.share_of
        while self.committed < len(store) and store[self.committed].ts + lag <= now:
            rec = store[self.committed]
            self.committed += 1
            self.producer.acked(rec.data, now + HOP)
            i = share_of.get(rec.stream)
            if i is None:
                i = share_of[rec.stream] = zlib.crc32(rec.stream.encode()) % len(self.shares)
            self.shares[i].append(rec)
            if waiting[i] is not None:
                c, waiting[i] = waiting[i], None
                c.poll()

    # -- nodes failing ----------------------------------------------------------------------------------------
    def node_crashed(self, name: str) -> None:
        sim = self.sim
        if name != self.leader:
            return  # a follower: writes go on while a majority lives
        cut = max(bisect_right([r.ts for r in self.store.all], sim.now - self.config.replication_lag),
                  self.committed)
        for rec in self.store.truncate(cut):
            self.park(self.publish, rec.data)  # never acknowledged: the order service retries
        self.leader = None
        self.note("leader lost", broker=name)
        sim.at(self.config.failover, self._elect)

    def _elect(self) -> None:
        live = [n for n in self.nodes if n.up]
        if self.leader is not None or len(live) < self.majority:
            return  # no quorum: no leader until enough nodes are back
        self.leader = live[0].name
        self.note("leader elected", broker=self.leader)
        self._advance()
        self.unpark()

    def node_resumed(self, name: str) -> bool:
        resumed = super().node_resumed(name)
        if resumed and self.sim.nodes[name].up:
            self.in_sync_at[name] = self.sim.now + self.config.replication_lag
            self.sim.at(self.config.replication_lag, self._advance)
        return resumed

    def node_restarted(self, name: str) -> None:
        self.in_sync_at[name] = self.sim.now + self.config.replication_lag
        self.sim.at(self.config.replication_lag, self._advance)
        if self.leader is None:
            self.sim.at(self.config.replication_lag, self._elect)
        self.unpark()

    # -- history ------------------------------------------------------------------------------------------------
    def _expired(self, rec: Rec, at: float) -> bool:
        age = self.config.max_age_days
        return age is not None and at - rec.ts > age * DAY

    def replayable(self, since: float, at: float | None = None) -> list:
        at = self.sim.now if at is None else at
        return [r.data for r in self.store.all[:self.committed]
                if r.data.t >= since and r.data.id not in self.scavenged and not self._expired(r, at)]

    def repair(self, since: float) -> None:
        """Rebuild the projection: every subscription goes back to the first event at or after `since`."""
        now = self.sim.now
        self.scavenged.update(r.data.id for r in self.store.all[:self.committed] if self._expired(r, now))
        for i, share in enumerate(self.shares):
            start = next((k for k, r in enumerate(share) if r.data.t >= since), len(share))
            self.replay_until[i] = len(share)
            c = self.consumers[i]
            c.reset = start
            c.poll()
        self.note("projection rebuild", replayable=len(self.replayable(since)))

    def day_scale(self, workload, days: float) -> dict:
        """Every event is kept on every node (or the last `max_age_days` of them, after scavenging)."""
        age = self.config.max_age_days
        keep = math.inf if age is None else age

        def held(n: float) -> float:
            return workload.events_between(max(0.0, n - keep), n)

        scale = workload.event_bytes * len(self.nodes)
        return {"stored_events": held(days), "storage_bytes": held(days) * scale,
                "storage_bytes_day_before": held(max(days - 1, 0)) * scale}
