"""What a run returns: instances, a summary and an invariant check, all derived from the trace."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from .trace import Trace

__all__ = ["Run", "Instance", "StepOutcome", "Summary", "STATUSES", "percentile"]

#: Terminal statuses, plus "running" for an instance that never terminated.
STATUSES = ("completed", "compensated", "needs_intervention", "failed", "running")


@dataclass
class StepOutcome:
    """One step of one instance: `outcome` ∈ completed failed skipped not-started."""

    attempts: int = 0
    outcome: str = "not-started"
    indefinite: bool = False  # some attempt timed out: the work may have happened
    compensated: bool = False
    compensation_exhausted: bool = False
    started: float | None = None
    ended: float | None = None


@dataclass
class Instance:
    id: int
    status: str
    start: float
    end: float | None
    steps: dict[str, StepOutcome] = field(default_factory=dict)

    @property
    def latency(self) -> float | None:
        """Seconds from arrival to the end of the saga (None if it never ended)."""
        return None if self.end is None else self.end - self.start


def percentile(values, q: float) -> float:
    """The q-th percentile (0–100) by the nearest-rank method; nan for no values."""
    values = sorted(values)
    if not values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(values)))
    return values[rank - 1]


def derive_instances(trace: Trace, wf, mode: str = "choreography") -> list[Instance]:
    """Rebuild every instance's story from the trace alone.

    In choreography an instance whose message was dead-lettered and that never finished is parked
    for a human (`needs_intervention`); in orchestration only the orchestrator ends an instance.
    """
    per: dict[int, dict] = {}
    dead: dict[int, None] = {}
    for e in trace.events:
        i = e.instance
        if i is None:
            continue
        kind = e.kind
        if kind == "instance-started":
            per[i] = {"start": e.time, "ended": None,
                      "steps": {name: StepOutcome() for name in wf.step_names}}
            continue
        if kind == "dead-letter":
            dead[i] = None
            continue
        rec = per.get(i)
        if rec is None:
            continue
        if kind == "instance-ended":
            rec["ended"] = (e.info, e.time)
            continue
        step = rec["steps"].get(e.step)
        if step is None:
            continue
        if kind == "attempt-started":
            step.attempts = max(step.attempts, e.attempt)
            if step.started is None:
                step.started = e.time
        elif kind == "attempt-timeout":
            step.indefinite = True
        elif kind == "step-completed":
            step.outcome, step.ended = "completed", e.time
        elif kind == "step-failed":
            step.outcome, step.ended = "failed", e.time
        elif kind == "step-skipped":
            step.outcome = "skipped"
        elif kind == "step-compensated":
            step.compensated, step.ended = True, e.time
        elif kind == "compensation-exhausted":
            step.compensation_exhausted = True
        elif kind == "step-unwound":
            step.ended = max(step.ended or e.time, e.time)
            rec.setdefault("unwound", {})[e.step] = e.time
    out = []
    for i, rec in per.items():
        status, end = _status(rec, wf, i in dead and mode == "choreography")
        out.append(Instance(i, status, rec["start"], end, rec["steps"]))
    return out


def _status(rec, wf, dead_lettered: bool) -> tuple[str, float | None]:
    if rec["ended"] is not None:  # the orchestrator said so
        return rec["ended"]
    steps = rec["steps"]
    if all(s.outcome == "completed" for s in steps.values()):
        return "completed", max(s.ended for s in steps.values())
    unwound = rec.get("unwound", {})
    if any(s.outcome == "failed" for s in steps.values()) and len(unwound) == len(steps):
        end = max(unwound.values())
        if any(s.compensation_exhausted for s in steps.values()):
            return "needs_intervention", end
        return ("compensated" if any(s.compensated for s in steps.values()) else "failed"), end
    # Never terminated. A dead-lettered message means it is parked for a human.
    return ("needs_intervention" if dead_lettered else "running"), None


@dataclass
class Summary:
    workflow: str
    mode: str
    seed: int
    orders: int
    statuses: dict[str, int]
    latency: dict[str, float]
    attempts: int
    retries: int
    timeouts: int
    messages: int
    dropped: dict[str, int]
    dead_letters: int
    effects: int
    duplicate_effects: int
    compensations: int
    sim_time: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def __str__(self) -> str:
        def s(x):
            return "—" if math.isnan(x) else f"{x:.3f}s"

        statuses = ", ".join(f"{k} {v}" for k, v in self.statuses.items() if v) or "none"
        lat = self.latency
        dropped = sum(self.dropped.values())
        why = ", ".join(f"{k} {v}" for k, v in self.dropped.items())
        lines = [
            f"{self.workflow} · {self.mode} · seed {self.seed} · {self.orders} order(s)",
            f"  status     {statuses}",
            f"  latency    p50 {s(lat['p50'])}  p95 {s(lat['p95'])}  p99 {s(lat['p99'])}  max {s(lat['max'])}"
            "  (completed instances)",
            f"  attempts   {self.attempts} ({self.retries} retries, {self.timeouts} timeouts)",
            f"  messages   {self.messages} delivered, {dropped} dropped" + (f" ({why})" if why else ""),
            f"  effects    {self.effects} applied, {self.duplicate_effects} duplicate(s); "
            f"{self.compensations} step(s) compensated",
        ]
        if self.dead_letters:
            lines.append(f"  dead letters {self.dead_letters}")
        if any(self.statuses[k] for k in ("completed", "compensated", "needs_intervention", "failed")):
            lines.append(f"  last end   {self.sim_time:.3f}s (simulated)")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython shows the text, not the dataclass
        p.text(str(self))


class Run:
    """The result of `engine.simulate`: everything is derived from `trace`."""

    def __init__(self, workflow, mode: str, seed: int, trace: Trace, *, orders: int, profiles: dict) -> None:
        self.workflow = workflow
        self.mode = mode
        self.seed = seed
        self.trace = trace
        self.orders = orders
        self.profiles = profiles  # service name -> the ServiceProfile used

    @cached_property
    def instances(self) -> list[Instance]:
        return derive_instances(self.trace, self.workflow, self.mode)

    def latencies(self, status: str | None = "completed") -> list[float]:
        return [x.latency for x in self.instances
                if x.latency is not None and (status is None or x.status == status)]

    def summary(self) -> Summary:
        counts = Counter(x.status for x in self.instances)
        lat = self.latencies()
        kinds = Counter(e.kind for e in self.trace.events)
        dropped = Counter(e.info for e in self.trace.events if e.kind == "message-dropped")
        effects = Counter((e.instance, e.step, e.node, e.info) for e in self.trace.events if e.kind == "effect")
        return Summary(
            workflow=self.workflow.name, mode=self.mode, seed=self.seed, orders=self.orders,
            statuses={k: counts.get(k, 0) for k in STATUSES},
            latency={"p50": percentile(lat, 50), "p95": percentile(lat, 95), "p99": percentile(lat, 99),
                     "max": max(lat) if lat else math.nan, "mean": sum(lat) / len(lat) if lat else math.nan},
            attempts=kinds["attempt-started"], retries=kinds["retry-scheduled"],
            timeouts=kinds["attempt-timeout"], messages=kinds["message"],
            dropped=dict(sorted(dropped.items())), dead_letters=kinds["dead-letter"],
            effects=sum(effects.values()), duplicate_effects=sum(n - 1 for n in effects.values()),
            compensations=kinds["step-compensated"],
            sim_time=max((x.end for x in self.instances if x.end is not None), default=0.0),
        )

    def check(self, effects: bool = False):
        """The saga invariants over the trace: a `Report` with `.ok` and `.violations`.

        With `effects=True`, also the business invariants (`engine.EFFECT_INVARIANTS`):
        no work takes effect twice, and a failed instance leaves no effect undone.
        """
        from .invariants import check_run

        return check_run(self, effects=effects)

    def __repr__(self) -> str:
        counts = Counter(x.status for x in self.instances)
        return f"<Run {self.workflow.name} {self.mode} seed={self.seed} {dict(counts)}>"
