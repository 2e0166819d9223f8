"""A log (Kafka-like): partitions by key, replication with acks, retention and compaction, replay.

* Partitions: an event goes to partition ``crc32(order id) % partitions`` (Kafka hashes the key
  with murmur2; any stable hash shows the same thing), or to a random partition with
  ``partition_by="random"``. Order holds within a partition only.
* Replication: each partition has `replication_factor` replicas on brokers "broker-1".. and a
  leader. A follower holds a record `replication_lag` seconds after the leader appended it.
  Consumers read up to the high watermark — records every in-sync replica holds — whatever
  `acks` is. With ``acks="all"`` the producer hears back at the high watermark; with ``acks="1"``
  as soon as the leader appended. When a leader crashes, the records its followers did not yet
  hold are gone: with acks=1 the producer was already told they were written (lost orders); with
  acks=all it was not, and sends them again to the new leader, elected `failover` seconds later.
  The controller fences a dead broker at the same moment (its session has expired), so a dead
  follower leaves every in-sync set `failover` seconds after the crash, and acks=all waits for it
  until then. A follower that stops fetching but stays registered (`follower_stall`: a stuck
  fetcher thread, a slow disk, a broken link to one leader) is not fenced: it stays in the in-sync
  set for `replica_lag_max` seconds and holds the high watermark — and every acks=all write —
  that long. With fewer in-sync replicas than `min_insync_replicas`, acks=all writes are refused
  and retried.
* Retention and compaction are applied when a replay asks for data (there is no background
  cleaner): records older than `retention_hours` (or beyond `retention_bytes` per partition) are
  gone; with compaction, records in closed segments (older than `segment_hours`) are gone when a
  later record has the same key. Retention is per record here; Kafka deletes whole segments, so
  real data can outlive retention.ms by up to a segment's age.
* Consumer groups with committed offsets, rebalances and replay: see group.py.
"""

from __future__ import annotations

import math
import zlib
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from . import _check
from .group import Group, LogConsumer
from .option import HOP, BrokerNode, Option
from .workload import DAY

__all__ = ["LogConfig", "LogOption", "Partition"]

# Documented defaults (Apache Kafka):
# - log.retention.hours = 168 (7 days), log.retention.bytes = -1 (no size limit), log.roll.hours = 168:
#   https://kafka.apache.org/documentation/#brokerconfigs_log.retention.hours
#   https://kafka.apache.org/documentation/#brokerconfigs_log.retention.bytes
#   https://docs.cloudera.com/HDPDocuments/HDP3/HDP-3.0.0/installing-configuring-kafka/content/log_settings.html
# - cleanup.policy = delete; compact keeps the last record per key: https://kafka.apache.org/documentation/#compaction
# - acks = all by default since Kafka 3.0 (was 1), with enable.idempotence = true (KIP-679):
#   https://kafka.apache.org/30/getting-started/upgrade
# - min.insync.replicas = 1; with acks=all, fewer in-sync replicas make the write fail (NotEnoughReplicas):
#   https://kafka.apache.org/documentation/#topicconfigs_min.insync.replicas
# - replica.lag.time.max.ms = 30,000: a follower that has not caught up for that long leaves the ISR;
#   consumers read only up to the high watermark:
#   https://kafka.apache.org/documentation/#brokerconfigs_replica.lag.time.max.ms
# - KRaft: a broker whose heartbeats stop is fenced after broker.session.timeout.ms = 9,000 (heartbeats every
#   broker.heartbeat.interval.ms = 2,000); the controller then removes it from every ISR and moves its leaderships:
#   https://kafka.apache.org/documentation/#brokerconfigs_broker.session.timeout.ms
#   https://cwiki.apache.org/confluence/display/KAFKA/KIP-631%3A+The+Quorum-based+Kafka+Controller
# - unclean.leader.election.enable = false: only an in-sync replica may become leader:
#   https://kafka.apache.org/documentation/#topicconfigs_unclean.leader.election.enable
# Model choices, not Kafka defaults: partitions (Kafka's num.partitions is 1; 6 lets 3 consumers share),
# replication_lag (how far followers trail), failover (fencing a dead broker — its session timeout — and
# electing leaders: 10 s against KRaft's 9 s session timeout).
POLICIES = ("delete", "compact", "compact,delete")


@dataclass(frozen=True, kw_only=True)
class LogConfig:
    """The topic's, producer's and consumer group's settings; seconds unless the name says hours."""

    partitions: int = 6
    partition_by: str = "key"
    brokers: int = 3
    replication_factor: int = 3
    acks: str = "all"
    min_insync_replicas: int = 1
    retention_hours: float = 168.0        # -1: no time limit
    retention_bytes: int = -1             # per partition; -1: no size limit
    cleanup_policy: str = "delete"
    segment_hours: float = 168.0
    replication_lag: float = 0.05
    replica_lag_max: float = 30.0
    failover: float = 10.0
    session_timeout: float = 45.0         # group.py cites these four
    heartbeat_interval: float = 3.0
    auto_commit: bool = True
    auto_commit_interval: float = 5.0
    batch: int = 500

    def __post_init__(self) -> None:
        acks = self.acks if isinstance(self.acks, (bool, float)) else {1: "1", -1: "all", "-1": "all"}.get(
            self.acks, self.acks)
        object.__setattr__(self, "acks", _check.choice("acks", acks, ("all", "1")))
        _check.whole("partitions", self.partitions, low=1, high=1000)
        _check.choice("partition_by", self.partition_by, ("key", "random"))
        _check.whole("brokers", self.brokers, low=1, high=100)
        _check.whole("replication_factor", self.replication_factor, low=1, high=self.brokers,
                     allowed=f"a whole number from 1 to brokers={self.brokers}")
        _check.whole("min_insync_replicas", self.min_insync_replicas, low=1, high=self.replication_factor,
                     allowed=f"a whole number from 1 to replication_factor={self.replication_factor}")
        if self.retention_hours != -1:
            _check.number("retention_hours", self.retention_hours, low=0, low_open=True,
                          allowed="a number of hours > 0, or -1 for no time limit")
        if self.retention_bytes != -1:
            _check.whole("retention_bytes", self.retention_bytes, low=1,
                         allowed="a whole number of bytes > 0, or -1 for no size limit")
        _check.choice("cleanup_policy", self.cleanup_policy, POLICIES)
        _check.number("segment_hours", self.segment_hours, low=0, low_open=True)
        for key in ("replication_lag", "replica_lag_max", "failover", "session_timeout", "heartbeat_interval",
                    "auto_commit_interval"):
            object.__setattr__(self, key, _check.seconds(key, getattr(self, key), allow_zero=False))
        if not isinstance(self.auto_commit, bool):
            raise ValueError(f"auto_commit must be true or false, got {self.auto_commit!r}")
        _check.whole("batch", self.batch, low=1, high=100_000)

    @property
    def retention_s(self) -> float:
        return math.inf if self.retention_hours == -1 or "delete" not in self.cleanup_policy \
            else self.retention_hours * 3600.0


class Partition:
    """One partition's log (offsets are list indices), its replicas, leader and in-sync set."""

    __slots__ = ("index", "replicas", "leader", "isr", "ts", "msgs", "hw", "start", "removed", "waiting")

    def __init__(self, index: int, replicas: list[str]) -> None:
        self.index, self.replicas = index, replicas
        self.leader: str | None = replicas[0]
        self.isr = list(replicas)
        self.ts: list[float] = []    # append time of each offset
        self.msgs: list = []
        self.hw = 0                  # offsets below it are held by every in-sync replica
        self.start = 0               # log start offset (retention)
        self.removed: set = set()    # offsets compacted away (membership tests only)
        self.waiting: list = []      # consumers waiting for the high watermark to move


class LogOption(Option):
    name = "log"

    def __init__(self, sim, app, config: LogConfig, consumers: int) -> None:
        super().__init__(sim, app, config)
        c = config
        self.brokers = [sim.add(BrokerNode(sim, f"broker-{k + 1}", self)) for k in range(c.brokers)]
        names = [b.name for b in self.brokers]
        self.partitions = [Partition(i, [names[(i + r) % c.brokers] for r in range(c.replication_factor)])
                           for i in range(c.partitions)]
        self.in_sync_at = {n: 0.0 for n in names}  # when a restarted broker has caught up
        self.assigned_partition: dict[int, Partition] = {}
        self.consumers = [sim.add(LogConsumer(sim, f"consumer-{k + 1}", app, self)) for k in range(consumers)]
        self.group = Group(self)

    def start(self) -> None:
        self.group.assign()
        for c in self.consumers:
            c.poll()

    # -- producing ---------------------------------------------------------------------------------------
    def partition_of(self, msg) -> Partition:
        p = self.assigned_partition.get(msg.id)
        if p is None:
            n = self.config.partitions
            i = (zlib.crc32(str(msg.order).encode()) % n if self.config.partition_by == "key"
                 else self.sim.rng.randrange(n))
            p = self.assigned_partition[msg.id] = self.partitions[i]
        return p

    def arrive(self, msg) -> None:
        sim, cfg, p = self.sim, self.config, self.partition_of(msg)
        if p.leader is None or (cfg.acks == "all" and len(p.isr) < cfg.min_insync_replicas):
            self.park(self.publish, msg)  # no leader, or NotEnoughReplicas: the producer retries
            return
        p.ts.append(sim.now)
        p.msgs.append(msg)
        if msg.stored is None:
            msg.stored = sim.now
        sim.at(cfg.replication_lag, self._advance, p)
        if cfg.acks == "1":
            self.producer.acked(msg, sim.now + HOP)

    def _advance(self, p: Partition) -> None:
        """Move the high watermark over every record all in-sync replicas now hold."""
        sim, lag = self.sim, self.config.replication_lag
        now = sim.now
        if p.leader is None or any(not sim.nodes[b].up or now < self.in_sync_at[b]
                                   or (b in self.stalled and b != p.leader) for b in p.isr):
            return  # a dead, stalled or lagging in-sync replica holds the watermark back
        hw0 = p.hw
        while p.hw < len(p.ts) and p.ts[p.hw] + lag <= now:
            if self.config.acks == "all":
                self.producer.acked(p.msgs[p.hw], now + HOP)
            p.hw += 1
        if p.hw > hw0:
            self._wake(p)

    def _wake(self, p: Partition) -> None:
        waiting, p.waiting = p.waiting, []
        for c in waiting:
            c.poll()

    # -- brokers failing ---------------------------------------------------------------------------------
    def node_crashed(self, b: str) -> None:
        sim, cfg = self.sim, self.config
        for p in self.partitions:
            if p.leader == b:
                # the followers hold what was appended up to replication_lag ago; the rest is gone —
                # unless no other in-sync replica lives: then the partition waits for b and its disk
                others = [r for r in p.isr if r != b and sim.nodes[r].up]
                cut = max(bisect_right(p.ts, sim.now - cfg.replication_lag), p.hw) if others else len(p.ts)
                for m in p.msgs[cut:]:
                    if m.acked is not None:  # acks=1: the producer was told it was written
                        m.lost = sim.now
                        sim.trace.add(sim.now, "message-dropped", m.order, m.kind, node=b,
                                      info="unreplicated tail of a crashed leader")
                    else:
                        self.park(self.publish, m)  # acks=all: never acknowledged, so sent again
                del p.ts[cut:], p.msgs[cut:]
                p.leader = None
                if others:
                    p.isr.remove(b)
                self.note("leader lost", partition=p.index, broker=b)
                sim.at(cfg.failover, self._elect, p)
            elif b in p.isr:
                sim.at(cfg.failover, self._shrink, p, b, sim.nodes[b].epoch)  # fenced with the elections

    def _elect(self, p: Partition) -> None:
        if p.leader is not None:
            return
        live = [r for r in p.replicas if r in p.isr and self.sim.nodes[r].up]
        if not live:
            return  # no in-sync replica left: offline until one comes back (no unclean election)
        p.leader = live[0]
        self.note("leader elected", partition=p.index, broker=p.leader)
        self._advance(p)
        self._wake(p)
        self.unpark()

    def _shrink(self, p: Partition, b: str, epoch: int) -> None:
        """The controller fences the crashed broker: out of the in-sync set, unless it came back meanwhile."""
        node = self.sim.nodes[b]
        if not node.up and node.epoch == epoch:
            self._leave_isr(p, b)

    def _leave_isr(self, p: Partition, b: str) -> None:
        if b in p.isr and len(p.isr) > 1:
            p.isr.remove(b)
            self.note("isr shrink", partition=p.index, broker=b)
            self._advance(p)

    def node_stalled(self, b: str) -> None:
        super().node_stalled(b)
        for p in self.partitions:
            if b in p.isr and b != p.leader:
                self.sim.at(self.config.replica_lag_max, self._drop_laggard, p, b, self.stalled[b])

    def _drop_laggard(self, p: Partition, b: str, stall: int) -> None:
        """replica.lag.time.max.ms has passed and the follower has not caught up: out of the in-sync set."""
        if self.stalled.get(b) == stall and b != p.leader:
            self._leave_isr(p, b)

    def node_resumed(self, b: str) -> bool:
        resumed = super().node_resumed(b)
        if resumed and self.sim.nodes[b].up:
            self.node_restarted(b)  # catches up with one fetch and rejoins the in-sync sets
        return resumed

    def node_restarted(self, b: str) -> None:
        sim = self.sim
        self.in_sync_at[b] = sim.now + self.config.replication_lag  # catching up takes a fetch
        for p in self.partitions:
            if b in p.replicas:
                if b not in p.isr:
                    p.isr.append(b)
                    self.note("isr expand", partition=p.index, broker=b)
                sim.at(self.config.replication_lag, self._advance, p)
                if p.leader is None:
                    sim.at(self.config.replication_lag, self._elect, p)
        self.unpark()

    # -- retention, compaction, replay ---------------------------------------------------------------------
    def visible(self, p: Partition, at: float) -> tuple[int, set]:
        """(log start offset, compacted offsets) of `p` as retention and compaction leave it at time `at`."""
        cfg = self.config
        start = p.start
        if cfg.retention_s < math.inf:
            start = max(start, bisect_left(p.ts, at - cfg.retention_s))
        if cfg.retention_bytes > 0:
            start = max(start, len(p.ts) - cfg.retention_bytes // self.workload.event_bytes)
        removed = set(p.removed)
        if "compact" in cfg.cleanup_policy:
            closed = bisect_left(p.ts, at - cfg.segment_hours * 3600.0)
            last = {m.order: o for o, m in enumerate(p.msgs)}
            removed.update(o for o in range(closed) if last[p.msgs[o].order] != o)
        return start, removed

    def replayable(self, since: float, at: float | None = None) -> list:
        at = self.sim.now if at is None else at
        out = []
        for p in self.partitions:
            start, removed = self.visible(p, at)
            out += [p.msgs[o] for o in range(max(start, bisect_left(p.ts, since)), p.hw) if o not in removed]
        return sorted(out, key=lambda m: m.id)

    def repair(self, since: float) -> None:
        """Reset the group's offsets to the first record at or after `since` still held, and replay."""
        now = self.sim.now
        reset = []
        for p in self.partitions:
            p.start, p.removed = self.visible(p, now)
            o = max(p.start, bisect_left(p.ts, since))
            reset.append(o)
        self.note("offsets reset for replay", replayable=len(self.replayable(since)))
        self.group.reset(reset, [p.hw for p in self.partitions])

    def day_scale(self, workload, days: float) -> dict:
        """Events held after `days` days under retention and compaction, and their bytes on all replicas."""
        cfg = self.config
        ret = cfg.retention_s / DAY
        seg = cfg.segment_hours / 24.0
        per_order = 1.0 / len(workload.events)

        def held(n: float) -> float:
            lo = max(0.0, n - ret)
            if "compact" in cfg.cleanup_policy:  # closed segments keep one record per order (its last)
                cut = max(lo, n - seg)
                events = workload.events_between(cut, n) + workload.events_between(lo, cut) * per_order
            else:
                events = workload.events_between(lo, n)
            if cfg.retention_bytes > 0:
                events = min(events, cfg.retention_bytes / workload.event_bytes * cfg.partitions)
            return events

        scale = workload.event_bytes * cfg.replication_factor
        return {"stored_events": held(days), "storage_bytes": held(days) * scale,
                "storage_bytes_day_before": held(max(days - 1, 0)) * scale}
