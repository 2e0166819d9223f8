"""A simulated service: latency, failures, capacity, crashes, idempotency keys.

A request's work takes a latency drawn from the profile, then fails (no
effect) or succeeds (the effect — a charge, a reservation — happens, and is
recorded as an ``effect`` event). The service replies only after that, so a
crash or a lost reply after the effect is exactly the indefinite failure a
caller cannot tell from a lost request.

With ``idempotent: true`` the service keeps a durable table of idempotency
keys (instance, step, phase, action): a repeat of work that already took
effect is answered from the table, and a repeat of work still in progress
waits for it; an undo of its own work that never took effect is a no-op. If
the original is merely late, it still takes effect when it arrives, after the
saga has already been compensated — unless the service also keeps
``tombstones: true``: the no-op undo then leaves a tombstone in the table, and
the late work is refused (``AlreadyCompensated``, no effect), checked when it
would commit. Without idempotency, every repeat takes effect again: a double
charge, or a double refund.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from .profiles import ServiceProfile
from .sim import Node

__all__ = ["Service", "Work", "REFUSED"]

#: The error a service with tombstones answers to work whose undo arrived first.
REFUSED = "AlreadyCompensated"


class Work(NamedTuple):
    """What a request asks for: `phase` is "do" (the step) or "undo" (a compensation)."""

    instance: int
    step: str
    phase: str
    attempt: int
    action: int = 0

    @property
    def key(self) -> tuple:
        """The idempotency key: the same for every attempt of the same work."""
        return (self.instance, self.step, self.phase, self.action)


class Service(Node):
    def __init__(self, sim, name: str, profile: ServiceProfile, serves=()) -> None:
        super().__init__(sim, name)
        self.profile = profile
        self.serves = tuple(serves)  # the steps whose work this service does (not just undoes)
        self.busy = 0
        self.queue: deque = deque()
        self.applied: dict[tuple, None] = {}   # durable: idempotency keys whose work took effect
        self.tombstones: dict[tuple, None] = {}  # durable: keys of work undone before it ever took effect
        self.inflight: dict[tuple, list] = {}  # idempotency key -> callbacks waiting for it
        plan = sim.faults.faults
        self._fail = [f for f in plan if f.kind == "fail" and f.nodes == (name,)]
        self._slow = [f for f in plan if f.kind == "slow" and f.nodes == (name,)]

    # -- requests ------------------------------------------------------------
    def submit(self, work: Work, reply) -> None:
        """Do `work` and call `reply(error)` here when done (error None = success)."""
        if not self.up:
            return
        if self.profile.idempotent:
            key = work.key
            if key in self.applied:
                now = self.sim.env.now
                self.sim.trace.add(now, "work", work.instance, work.step, work.attempt, self.name,
                                   None, "duplicate", now)
                reply(None)
                return
            waiting = self.inflight.get(key)
            if waiting is not None:
                waiting.append(reply)
                return
            self.inflight[key] = [reply]
            reply = None  # callbacks now live in self.inflight
        cap = self.profile.capacity
        if cap is not None and self.busy >= cap:
            self.queue.append((work, reply))
            return
        self._start(work, reply)

    def serve_request(self, src: str, label: str, work: Work, on_reply) -> None:
        """A request/response call: reply over the network to `src`."""
        net = self.sim.network
        tag = (work.instance, work.step, work.attempt)
        self.submit(work, lambda error: net.send(self.name, src, label, on_reply, (work, error), tag))

    def serve_command(self, payload, ack) -> None:
        """A command from the broker: do it, publish the outcome if asked, then ack."""
        work, reply_topic = payload
        broker = self.sim.broker

        def done(error):
            if reply_topic is not None:
                broker.publish(self.name, reply_topic, (work, error), (work.instance, work.step, work.attempt))
            ack()

        self.submit(work, done)

    # -- the work itself -------------------------------------------------------
    def _start(self, work: Work, reply) -> None:
        sim = self.sim
        self.busy += 1
        latency = self.profile.latency.sample(sim.rng)
        if self._slow:
            now = sim.env.now
            for f in self._slow:
                if f.active(now):
                    latency *= f.factor
        sim.at(latency, self._finish, work, reply, self.epoch, sim.env.now)

    def _finish(self, work: Work, reply, epoch: int, started: float) -> None:
        if epoch != self.epoch:  # crashed while working: the work never happened
            return
        sim = self.sim
        now = sim.env.now
        self.busy -= 1
        error = self._draw_failure(now)
        if error is None and work.key in self.tombstones:
            error = REFUSED  # its undo came first: committing it now would charge a compensated order
        if error is None and self._nothing_to_undo(work):
            # Its idempotency table shows the work never took effect here: the undo is a no-op.
            # If the original request is only late, it will still take effect when it arrives.
            sim.trace.add(now, "work", work.instance, work.step, work.attempt, self.name, None, "nothing to undo",
                          started)
            self.applied[work.key] = None
            if self.profile.tombstones:
                self.tombstones[(work.instance, work.step, "do", 0)] = None
        elif error is None:
            sim.trace.add(now, "work", work.instance, work.step, work.attempt, self.name, None, "ok", started)
            what = work.phase if work.action == 0 else f"{work.phase}:{work.action}"
            sim.trace.add(now, "effect", work.instance, work.step, work.attempt, self.name, None, what)
            if self.profile.idempotent:
                self.applied[work.key] = None
            if work.phase == "do":
                sim.step_completed(self.name, work.instance, work.step)
                if epoch != self.epoch:  # a planned crash right after this work: no reply
                    return
        else:
            sim.trace.add(now, "work", work.instance, work.step, work.attempt, self.name, None, error, started)
        replies = self.inflight.pop(work.key, ()) if self.profile.idempotent else (reply,)
        for r in replies:
            r(error)
        if self.queue and self.up:
            self._start(*self.queue.popleft())

    def _nothing_to_undo(self, work: Work) -> bool:
        """An undo of a step this service runs, whose work its idempotency table says never took effect."""
        return (work.phase == "undo" and self.profile.idempotent and work.step in self.serves
                and (work.instance, work.step, "do", 0) not in self.applied)

    def _draw_failure(self, now: float) -> str | None:
        rng = self.sim.rng
        for f in self._fail:
            if f.active(now) and rng.random() < f.rate:
                return f.error
        failures = self.profile.failures
        if not failures:
            return None
        u = rng.random()
        for error, rate in failures:
            if u < rate:
                return error
            u -= rate
        return None

    def on_crash(self) -> None:
        self.busy = 0
        self.queue.clear()
        self.inflight.clear()
