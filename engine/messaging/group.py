"""A Kafka consumer group: partitions shared among consumers, committed offsets, rebalances.

* Each partition is assigned to one live member (round robin over members sorted by name); a
  member reads its partitions from its position up to the high watermark, `batch` records a poll
  at most (``max.poll.records``).
* Offsets: with ``auto_commit`` a member commits the positions of everything it has processed
  when it polls and `auto_commit_interval` seconds have passed since its last commit (Kafka
  commits inside ``poll()``); otherwise it commits after every batch. A member that crashes loses
  its uncommitted progress: whoever takes its partitions starts at the committed offset and
  processes those records again — at-least-once, duplicates included.
* Rebalances stop the world (the eager protocol): when a member's session times out
  (`session_timeout` after it died: its partitions sit unread until then), or a member joins, or
  offsets are reset for a replay, every member finishes its batch, commits, and waits; members
  learn of a rebalance through their next heartbeat, so the pause lasts at least
  `heartbeat_interval`. Then partitions are assigned again and reading resumes from committed offsets.
  Incremental protocols pause less — the cooperative-sticky assignor (KIP-429) revokes only the
  partitions that move, and the consumer protocol of KIP-848 (Kafka 4.0) has the broker reassign
  them one member at a time — but a dead member's partitions still wait for its session to expire.
"""

from __future__ import annotations

from .consumer import Consumer
from .option import HOP

__all__ = ["Group", "LogConsumer"]

# Documented defaults (Apache Kafka consumer):
# - session.timeout.ms = 45,000 since Kafka 3.0 (was 10,000), KIP-735:
#   https://cwiki.apache.org/confluence/display/KAFKA/KIP-735%3A+Increase+default+consumer+session+timeout
# - heartbeat.interval.ms = 3,000; members learn of a rebalance through heartbeats:
#   https://kafka.apache.org/documentation/#consumerconfigs_heartbeat.interval.ms
# - enable.auto.commit = true, auto.commit.interval.ms = 5,000:
#   https://kafka.apache.org/documentation/#consumerconfigs_auto.commit.interval.ms
# - max.poll.records = 500: https://kafka.apache.org/documentation/#consumerconfigs_max.poll.records


class Group:
    def __init__(self, option) -> None:
        self.option, self.sim, self.cfg = option, option.sim, option.config
        self.members: list[str] = [c.name for c in option.consumers]
        n = len(option.partitions)
        self.committed = [0] * n
        self.replay_until = [0] * n   # offsets below it, read after a reset, are a replay
        self.rebalancing = False
        self.gen = 0
        self.pause_over = False
        self.reset_to: tuple | None = None

    def live(self) -> list:
        nodes = self.sim.nodes
        return [nodes[m] for m in sorted(self.members) if nodes[m].up]

    def assign(self) -> None:
        """Round robin over members; a member presumed alive (session not expired) still gets partitions."""
        members = sorted(self.members)
        nodes = self.sim.nodes
        for c in self.option.consumers:
            c.assigned = []
        for p in self.option.partitions:
            if members:
                c = nodes[members[p.index % len(members)]]
                c.assigned.append(p)
                c.pos[p.index] = self.committed[p.index]

    def commit(self, c) -> None:
        for p in c.assigned:
            self.committed[p.index] = c.pos[p.index]
        c.last_commit = self.sim.now

    # -- membership --------------------------------------------------------------------------------------
    def crashed(self, c) -> None:
        self.sim.at(self.cfg.session_timeout, self._session_expired, c.name, c.epoch)

    def _session_expired(self, name: str, epoch: int) -> None:
        c = self.sim.nodes[name]
        if not c.up and c.epoch == epoch and name in self.members:
            self.members.remove(name)
            self.rebalance("session timeout", name)

    def joined(self, c) -> None:
        if c.name not in self.members:
            self.members.append(c.name)
        self.rebalance("member joined", c.name)

    def reset(self, offsets: list, replay_until: list) -> None:
        self.reset_to = (offsets, replay_until)
        self.rebalance("offset reset")

    # -- the rebalance -------------------------------------------------------------------------------------
    def rebalance(self, reason: str, member: str | None = None) -> None:
        self.gen += 1
        self.rebalancing, self.pause_over = True, False
        self.option.note("rebalance", reason=reason, member=member)
        self.sim.at(self.cfg.heartbeat_interval, self._pause_elapsed, self.gen)

    def _pause_elapsed(self, gen: int) -> None:
        if gen == self.gen:
            self.pause_over = True
            self.try_complete()

    def try_complete(self) -> None:
        """Complete once the pause is over and no live member is still in a batch."""
        if not self.rebalancing or not self.pause_over or any(c.busy for c in self.live()):
            return
        for c in self.live():
            self.commit(c)  # offsets are committed when partitions are revoked
        if self.reset_to is not None:
            self.committed, self.replay_until = list(self.reset_to[0]), list(self.reset_to[1])
            self.reset_to = None
        self.assign()
        self.rebalancing = False
        self.option.note("rebalance done")
        for c in self.live():
            c.poll()


class LogConsumer(Consumer):
    """Polls its partitions up to the high watermark; commits as configured; rejoins after a restart."""

    def __init__(self, sim, name: str, app, option) -> None:
        super().__init__(sim, name, app)
        self.option = option
        self.assigned: list = []
        self.pos: dict[int, int] = {}
        self.last_commit = 0.0
        self.polling = False
        self.commit_timer = False
        self.rr = 0

    def poll(self) -> None:
        if self.up and not self.busy and not self.polling and not self.option.group.rebalancing:
            if not any(p.leader is not None and max(self.pos[p.index], p.start) < p.hw for p in self.assigned):
                self._wait()  # nothing to fetch: a long poll waits for the high watermark to move
                return
            self.polling = True
            self.sim.at(2 * HOP, self._fetch, self.epoch)

    def _wait(self) -> None:
        for p in self.assigned:
            if self not in p.waiting:
                p.waiting.append(self)
        self._commit_later()

    def _fetch(self, epoch: int) -> None:
        if epoch != self.epoch:
            return
        self.polling = False
        g, cfg = self.option.group, self.option.config
        if g.rebalancing:
            return
        if cfg.auto_commit and self.sim.now - self.last_commit >= cfg.auto_commit_interval:
            g.commit(self)
        msgs, replay = [], []
        n, now, add = len(self.assigned), self.sim.now, self.sim.trace.add
        for k in range(n):
            p = self.assigned[(self.rr + k) % n]
            if p.leader is None:
                continue  # no leader: nothing to fetch from this partition for now
            o = max(self.pos[p.index], p.start)
            label = f"partition-{p.index}"
            while o < p.hw and len(msgs) < cfg.batch:
                if o not in p.removed:
                    m = p.msgs[o]
                    msgs.append(m)
                    replay.append(o < g.replay_until[p.index])
                    add(now, "message", m.order, m.kind, None, p.leader, self.name, label, m.t)
                o += 1
            self.pos[p.index] = o
            if len(msgs) >= cfg.batch:
                break
        self.rr += 1
        if not msgs:
            self._wait()
            return
        self.process(msgs, self._done, replay)

    def _done(self) -> None:
        g = self.option.group
        if not self.option.config.auto_commit:
            g.commit(self)
        if g.rebalancing:
            g.try_complete()
        else:
            self.poll()

    def _commit_later(self) -> None:
        """An idle member still polls, so auto-commit still happens within the interval."""
        cfg = self.option.config
        if cfg.auto_commit and not self.commit_timer and any(
                self.pos[p.index] != self.option.group.committed[p.index] for p in self.assigned):
            self.commit_timer = True
            wait = max(0.0, self.last_commit + cfg.auto_commit_interval - self.sim.now)
            self.sim.at(wait, self._idle_commit, self.epoch)

    def _idle_commit(self, epoch: int) -> None:
        self.commit_timer = False
        if epoch == self.epoch and not self.busy and not self.option.group.rebalancing:
            self.option.group.commit(self)

    def on_crash(self) -> None:
        super().on_crash()
        self.polling = self.commit_timer = False
        self.assigned, self.pos = [], {}
        self.option.group.crashed(self)
        g = self.option.group
        if g.rebalancing:
            g.try_complete()  # a rebalance waiting on this member's batch waits no more

    def on_restart(self) -> None:
        self.option.group.joined(self)
