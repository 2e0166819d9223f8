"""The consuming application, the same for every option: an order projection fed in batches.

A consumer takes a batch from its option (a receive, a poll, a subscription read), applies each
event to the projection — "order 17 is now paid" — one after another, each taking a lognormal
service time (median `service_time` seconds, sigma 0.5, the engine's default service shape), then
tells its option it is done (a batch delete, an offset commit, a checkpoint). What the option does
with that, and what it does when the consumer dies before saying it, is the difference between them.

Faults of the application itself, as plain parameters of ``simulate_messaging``:

* ``consumer_crash`` — the named consumer crashes right after applying an event whose batch it has
  not yet acknowledged, at the first such moment at or after ``at``: a crash mid-batch, every time.
* ``slow_consumer`` — its service time is multiplied by ``factor`` during [start, end).
* ``consumer_bug`` — during [start, end) every consumer writes a wrong status (the deploy was bad);
  the fix ships at ``end + repair_after`` and the option is asked to replay from ``start``.

Every apply is recorded (`App.applies`) with its simulated time; the metrics derive from them.
"""

from __future__ import annotations

import math

from ..sim import Node

__all__ = ["App", "Consumer"]

SIGMA = 0.5


class App:
    """The application's settings and its record of applies: (time s, consumer, Msg, replay?, wrong?)."""

    def __init__(self, sim, *, service_time: float, slow: dict | None, crash: dict | None,
                 bug: dict | None) -> None:
        self.sim = sim
        self.mu = math.log(service_time)
        self.slow, self.crash, self.bug = slow, crash, bug
        self.crash_fired = False
        self.applies: list[tuple] = []

    def service_time(self, consumer: str, now: float) -> float:
        t = self.sim.rng.lognormvariate(self.mu, SIGMA)
        s = self.slow
        if s and s["consumer"] == consumer and s["start"] <= now < s["end"]:
            t *= s["factor"]
        return t

    def apply(self, consumer: str, msg, replay: bool) -> None:
        now = self.sim.now
        b = self.bug
        wrong = bool(b) and not replay and b["start"] <= now < b["end"]
        self.applies.append((now, consumer, msg, replay, wrong))
        self.sim.trace.add(now, "effect", msg.order, msg.kind, None, consumer, None,
                           "wrong" if wrong else ("replay" if replay else "do"))

    def crash_due(self, consumer: str) -> bool:
        c = self.crash
        return (c is not None and not self.crash_fired and c["consumer"] == consumer
                and self.sim.now >= c["at"])


class Consumer(Node):
    """Applies a batch one event at a time; a crash loses the rest of the batch and its pending ack."""

    def __init__(self, sim, name: str, app: App) -> None:
        super().__init__(sim, name)
        self.app = app
        self.batch = None  # (msgs, replay flags, done callback); index of the next in self.i
        self.i = 0

    @property
    def busy(self) -> bool:
        return self.batch is not None

    def process(self, msgs: list, done, replay: list | None = None) -> None:
        """Apply `msgs` in order, then call `done()` — unless the consumer crashes first."""
        self.batch, self.i = (msgs, replay, done), 0
        self.sim.at(self.app.service_time(self.name, self.sim.now), self._step, self.epoch)

    def _step(self, epoch: int) -> None:
        if epoch != self.epoch:
            return  # crashed since: the rest of the batch is gone with the process
        msgs, replay, done = self.batch
        self.app.apply(self.name, msgs[self.i], bool(replay and replay[self.i]))
        self.i += 1
        if self.app.crash_due(self.name):
            self._crash_mid_batch()
        elif self.i < len(msgs):
            self.sim.at(self.app.service_time(self.name, self.sim.now), self._step, self.epoch)
        else:
            self.batch = None
            done()

    def _crash_mid_batch(self) -> None:
        app = self.app
        app.crash_fired = True
        self.crash()
        if app.crash["restart_after"] is not None:
            self.sim.at(app.crash["restart_after"], self.restart)

    def on_crash(self) -> None:
        self.batch = None

    def poll(self) -> None:  # each option's consumer says how it fetches
        raise NotImplementedError

    def on_restart(self) -> None:
        self.poll()
