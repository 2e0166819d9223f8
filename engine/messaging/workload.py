"""The order workload: orders per day, growth, a burst; each order a key with several events in order.

Two time scales, on purpose (a SimPy run of 100,000 orders a day over weeks is far too many events):

* **The window** — `window` simulated seconds (default one hour) of day 0's traffic, message by
  message: Poisson order arrivals at ``orders_per_day / 86,400`` per second, times `burst["factor"]`
  during the burst. Each order then emits its `events` ("created", "paid", "shipped") in order, a
  mean of `event_gap` seconds apart (exponential). Real orders take hours or days between steps;
  the gap is compressed so that an order's events are in flight together, which is when ordering
  can break. No broker timer is compressed: visibility timeouts, session timeouts and commit
  intervals keep their documented values.
* **Days** — `orders_on_day(d)` grows from `orders_per_day` to `growth_to` over `growth_days`
  (compound growth, then flat). Retention, audit completeness and storage are computed from it at
  day granularity by each option's rules (see ``day_scale`` in queue.py, log.py, eventstore.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import _check

__all__ = ["Workload", "Msg", "ADR_001"]

DAY = 86_400.0

#: ADR-001's load: 10,000 orders a day growing to 100,000 within a year, with a burst 20× the average.
ADR_001 = {"orders_per_day": 10_000, "growth_to": 100_000, "growth_days": 365,
           "burst": {"at": 1200, "duration": 600, "factor": 20}}


class Msg:
    """One event of one order, as the producer (the order service) emits it.

    Times are simulated seconds: `due` when the order step happened (end-to-end latency starts
    here), `t` when the order service emitted it (after the previous step was acknowledged),
    `stored` when a broker first held it, `acked` when the option acknowledged it; `lost` and
    `dead` when it was lost or dead-lettered.
    """

    __slots__ = ("id", "order", "seq", "kind", "due", "next", "t", "stored", "acked", "lost", "dead")

    def __init__(self, id: int, order: int, seq: int, kind: str, due: float) -> None:
        self.id, self.order, self.seq, self.kind, self.due = id, order, seq, kind, due
        self.next: Msg | None = None
        self.t = self.stored = self.acked = self.lost = self.dead = None

    def __repr__(self) -> str:
        return f"<Msg order {self.order} #{self.seq} {self.kind}>"


@dataclass(frozen=True, kw_only=True)
class Workload:
    """Orders per day (float), growth, the simulated window (s), a burst, events per order, bytes per event."""

    orders_per_day: float = 10_000
    growth_to: float | None = None
    growth_days: float = 365
    window: float = 3600.0
    burst: dict | None = None           # {"at": s, "duration": s, "factor": x}
    events: tuple = ("created", "paid", "shipped")
    event_gap: float = 1.0
    event_bytes: int = 1000

    def __post_init__(self) -> None:
        _check.number("workload orders_per_day", self.orders_per_day, low=0, low_open=True)
        if self.growth_to is not None:
            _check.number("workload growth_to", self.growth_to, low=0, low_open=True)
        _check.number("workload growth_days", self.growth_days, low=0, low_open=True)
        object.__setattr__(self, "window", _check.seconds("workload window", self.window, allow_zero=False))
        object.__setattr__(self, "event_gap", _check.seconds("workload event_gap", self.event_gap))
        _check.whole("workload event_bytes", self.event_bytes, low=1)
        events = self.events
        if (not isinstance(events, (list, tuple)) or not events
                or not all(isinstance(e, str) and e for e in events) or len(set(events)) != len(events)):
            raise ValueError(f"workload events must be a non-empty list of distinct names, got {events!r}")
        object.__setattr__(self, "events", tuple(events))
        if self.burst is not None:
            _check.keys("workload burst", self.burst, ("at", "duration", "factor"))
            b = {"at": _check.seconds("workload burst at", self.burst.get("at", 0.0)),
                 "duration": _check.seconds("workload burst duration", self.burst.get("duration", 300.0),
                                            allow_zero=False),
                 "factor": _check.number("workload burst factor", self.burst.get("factor", 10.0), low=0,
                                         low_open=True)}
            object.__setattr__(self, "burst", b)

    @classmethod
    def from_spec(cls, spec) -> "Workload":
        """From None (the defaults), a Workload, or a mapping of its fields."""
        if spec is None:
            return cls()
        if isinstance(spec, Workload):
            return spec
        _check.keys("workload", spec, [f for f in cls.__dataclass_fields__])
        return cls(**spec)

    # -- the window ----------------------------------------------------------------------------------
    def segments(self) -> list[tuple[float, float, float]]:
        """(start s, end s, orders per second) pieces of the window; the burst multiplies the rate."""
        base = self.orders_per_day / DAY
        b = self.burst
        if not b or b["at"] >= self.window:
            return [(0.0, self.window, base)]
        cuts = [0.0, b["at"], min(b["at"] + b["duration"], self.window), self.window]
        rates = [base, base * b["factor"], base]
        return [(cuts[i], cuts[i + 1], rates[i]) for i in range(3) if cuts[i + 1] > cuts[i]]

    def generate(self, rng) -> list[Msg]:
        """The first event of every order arriving in the window; later events hang off `Msg.next`."""
        firsts: list[Msg] = []
        mid = 0
        for start, end, rate in self.segments():
            t = start
            while True:
                t += rng.expovariate(rate)  # memoryless: restarting at each boundary is exact
                if t >= end:
                    break
                order = len(firsts) + 1
                due, prev = t, None
                for seq, kind in enumerate(self.events):
                    if seq:
                        due += rng.expovariate(1.0 / self.event_gap) if self.event_gap > 0 else 0.0
                    mid += 1
                    msg = Msg(mid, order, seq, kind, due)
                    if prev is None:
                        firsts.append(msg)
                    else:
                        prev.next = msg
                    prev = msg
        return firsts

    # -- days ----------------------------------------------------------------------------------------
    def orders_on_day(self, day: int) -> float:
        """Orders on day `day` (0-based): compound growth to `growth_to` over `growth_days`, then flat."""
        if self.growth_to is None:
            return float(self.orders_per_day)
        f = min(day / self.growth_days, 1.0)
        return self.orders_per_day * (self.growth_to / self.orders_per_day) ** f

    def events_on_day(self, day: int) -> float:
        return self.orders_on_day(day) * len(self.events)

    def events_between(self, start_day: float, end_day: float) -> float:
        """Events produced in [start_day, end_day), by whole days (a partial day counts pro rata)."""
        total, d = 0.0, math.floor(max(start_day, 0.0))
        while d < end_day:
            lo, hi = max(d, start_day), min(d + 1, end_day)
            if hi > lo:
                total += self.events_on_day(d) * (hi - lo)
            d += 1
        return total
