"""Fault plans: declarative, chainable, replayable.

    plan = (FaultPlan()
            .partition("orchestrator", "inventory-service", start=2, end=8)
            .crash("orchestrator", at=3.0, restart_after=5.0)
            .fail("payment-service", rate=0.5, start=0, end=10))

Times are simulated seconds. A plan is immutable: each method returns a new
plan, so a scenario clicked together in a widget can be kept, dumped to YAML
(`to_yaml`) and replayed (`FaultPlan.from_yaml`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from .durations import format_duration, parse_duration
from .errors import Diagnostic, WorkflowError, did_you_mean

__all__ = ["Fault", "FaultPlan", "FAULT_KINDS"]

INF = math.inf
FAULT_KINDS = ("partition", "crash", "fail", "slow", "loss", "duplicate")


@dataclass(frozen=True)
class Fault:
    """One fault. `nodes` is (node,) or a link (a, b); `None` entries mean every node."""

    kind: str
    nodes: tuple
    start: float = 0.0
    end: float = INF
    one_way: bool = False
    rate: float = 0.0
    factor: float = 1.0
    error: str = "ServiceError"
    at: float | None = None
    after: str | None = None
    instance: int | None = None
    restart_after: float | None = None

    def active(self, now: float) -> bool:
        return self.start <= now < self.end

    def on_link(self, src: str, dst: str) -> bool:
        a, b = self.nodes
        if (a is None or a == src) and (b is None or b == dst):
            return True
        return not self.one_way and (a is None or a == dst) and (b is None or b == src)

    def to_dict(self) -> dict:
        out: dict = {}
        if self.kind in ("partition", "loss", "duplicate") or (self.kind == "slow" and len(self.nodes) == 2):
            out[self.kind] = [n if n is not None else "*" for n in self.nodes]
        else:
            out[self.kind] = self.nodes[0]
        defaults = Fault(self.kind, self.nodes)
        for f in fields(self):
            if f.name in ("kind", "nodes"):
                continue
            value = getattr(self, f.name)
            if value != getattr(defaults, f.name):
                if f.name in ("start", "end", "at", "restart_after"):
                    # repr() round-trips exactly; format_duration would round.
                    value = f"{float(value)!r}s" if math.isfinite(value) else "never"
                out[f.name] = value
        return out


def _rate(rate: float, what: str) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"{what} rate is a probability between 0 and 1, got {rate!r}")
    return float(rate)


def _window(start, end) -> tuple[float, float]:
    start = 0.0 if start is None else float(start)
    end = INF if end is None else float(end)
    if start < 0 or end <= start:
        raise ValueError(f"a fault window needs 0 <= start < end, got start={start}, end={end}")
    return start, end


@dataclass(frozen=True)
class FaultPlan:
    faults: tuple[Fault, ...] = field(default=())

    def _with(self, fault: Fault) -> "FaultPlan":
        return FaultPlan(self.faults + (fault,))

    def __add__(self, other: "FaultPlan") -> "FaultPlan":
        return FaultPlan(self.faults + other.faults)

    def __len__(self) -> int:
        return len(self.faults)

    def __iter__(self):
        return iter(self.faults)

    # -- the faults ----------------------------------------------------------
    def partition(self, a: str, b: str, *, start: float = 0.0, end: float | None = None,
                  one_way: bool = False) -> "FaultPlan":
        """No message crosses between a and b in [start, end); with one_way, only a → b is cut."""
        start, end = _window(start, end)
        return self._with(Fault("partition", (a, b), start, end, one_way=bool(one_way)))

    def split(self, *groups, start: float = 0.0, end: float | None = None) -> "FaultPlan":
        """A network split: every node of each group is cut off from every node of the other groups."""
        if len(groups) < 2 or not all(isinstance(g, (list, tuple)) and g for g in groups):
            raise ValueError("split takes two or more non-empty lists of nodes, e.g. "
                             "split(['client-a', 'replica-1'], ['client-b', 'replica-2', 'replica-3'])")
        plan = self
        for i, left in enumerate(groups):
            for right in groups[i + 1:]:
                for a in left:
                    for b in right:
                        plan = plan.partition(a, b, start=start, end=end)
        return plan

    def crash(self, node: str, *, at: float | None = None, after: str | None = None,
              instance: int | None = None, restart_after: float | None = None) -> "FaultPlan":
        """Crash `node` at a time, or right `after` a named step completes (in `instance`, or the first).

        Without `restart_after` the node stays down for the rest of the run.
        """
        if (at is None) == (after is None):
            raise ValueError("crash needs exactly one of at= (a time) or after= (a step name)")
        if at is not None and at < 0:
            raise ValueError(f"crash time must be >= 0, got {at}")
        if restart_after is not None and restart_after <= 0:
            raise ValueError(f"restart_after must be > 0 seconds, got {restart_after}")
        return self._with(Fault("crash", (node,), at=None if at is None else float(at), after=after,
                                instance=instance, restart_after=restart_after))

    def fail(self, service: str, *, rate: float, start: float = 0.0, end: float | None = None,
             error: str = "ServiceError") -> "FaultPlan":
        """Requests to `service` fail with probability `rate` during [start, end)."""
        start, end = _window(start, end)
        return self._with(Fault("fail", (service,), start, end, rate=_rate(rate, "fail"), error=error))

    def slow(self, node: str, b: str | None = None, *, factor: float, start: float = 0.0,
             end: float | None = None) -> "FaultPlan":
        """Multiply a service's processing latency (or, given two nodes, a link's latency) by `factor`."""
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor <= 0:
            raise ValueError(f"slow factor must be a positive number, got {factor!r}")
        start, end = _window(start, end)
        nodes = (node,) if b is None else (node, b)
        return self._with(Fault("slow", nodes, start, end, factor=float(factor)))

    def loss(self, a: str | None = None, b: str | None = None, *, rate: float, start: float = 0.0,
             end: float | None = None, one_way: bool = False) -> "FaultPlan":
        """Drop each message between a and b (None: any node) with probability `rate`."""
        start, end = _window(start, end)
        return self._with(Fault("loss", (a, b), start, end, one_way=one_way, rate=_rate(rate, "loss")))

    def duplicate(self, a: str | None = None, b: str | None = None, *, rate: float, start: float = 0.0,
                  end: float | None = None, one_way: bool = False) -> "FaultPlan":
        """Deliver each message between a and b twice with probability `rate`."""
        start, end = _window(start, end)
        return self._with(Fault("duplicate", (a, b), start, end, one_way=one_way,
                                rate=_rate(rate, "duplicate")))

    # -- inspection ----------------------------------------------------------
    def nodes(self) -> list[str]:
        """Every node a fault names, in order of mention."""
        seen: dict[str, None] = {}
        for f in self.faults:
            for n in f.nodes:
                if n is not None:
                    seen[n] = None
        return list(seen)

    def check_nodes(self, known) -> None:
        """Raise WorkflowError naming each fault whose node is not in the simulation."""
        known = list(known)
        problems = []
        for i, f in enumerate(self.faults):
            for n in f.nodes:
                if n is not None and n not in known:
                    problems.append(Diagnostic(
                        "bad-fault", f"{f.kind} names node {n!r}, which is not in this simulation "
                        f"(nodes: {', '.join(known)})", path=f"faults[{i}]", hint=did_you_mean(n, known),
                        file="<fault plan>"))
        if problems:
            raise WorkflowError(problems)

    # -- YAML ----------------------------------------------------------------
    def to_dicts(self) -> list[dict]:
        return [f.to_dict() for f in self.faults]

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump({"faults": self.to_dicts()}, sort_keys=False, default_flow_style=None)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<fault plan>") -> "FaultPlan":
        from .faultfile import parse_fault_plan

        return parse_fault_plan(text, source=source)

    def describe(self) -> list[str]:
        """One line per fault, for printing."""
        out = []
        for f in self.faults:
            when = ""
            if f.kind == "crash":
                when = f"at {format_duration(f.at)}" if f.at is not None else f"after {f.after}"
                if f.restart_after:
                    when += f", restart after {format_duration(f.restart_after)}"
            else:
                end = format_duration(f.end) if math.isfinite(f.end) else "end"
                when = f"{format_duration(f.start)}–{end}"
            link = " ↔ " if not f.one_way else " → "
            target = link.join(n or "*" for n in f.nodes)
            extra = {"fail": f" rate {f.rate:g}", "loss": f" rate {f.rate:g}", "duplicate": f" rate {f.rate:g}",
                     "slow": f" ×{f.factor:g}"}.get(f.kind, "")
            out.append(f"{f.kind} {target}{extra} ({when})")
        return out


def parse_time(value, what: str) -> float:
    """Seconds from a YAML time: a duration with unit, or 'never' for infinity."""
    if value == "never":
        return INF
    return parse_duration(value, allow_zero=True) if isinstance(value, str) else _bad_time(value, what)


def _bad_time(value, what):
    raise ValueError(f"{what} is a duration with a unit such as '2s', got {value!r}")
