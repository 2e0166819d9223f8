"""A linearizability checker for small histories of one read/write register.

Linearizability (Herlihy & Wing, TOPLAS 1990): every operation appears to take
effect at one instant between its invocation and its completion, and the
resulting order is a legal sequence of register operations. The search is
Wing & Gong's (1993) with Lowe's memoisation of (operations done, value) —
the approach of Jepsen's Knossos — exponential in the worst case, fine for the
tens of operations a lesson records.

A history is a list of operations in Jepsen's shape::

    {"process": "a", "type": "invoke", "f": "write", "value": 1, "time": 0.10}
    {"process": "a", "type": "ok",     "f": "write", "value": 1, "time": 0.25}
    {"process": "b", "type": "invoke", "f": "read",  "value": None, "time": 0.30}
    {"process": "b", "type": "ok",     "f": "read",  "value": None, "time": 0.31}   # stale!

``ok`` means it happened; ``fail`` means it certainly did not; ``info`` (or an
invocation never completed) means it may or may not have — a timed-out write
may take effect at any time after its invocation, or never. The register
starts at ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["check_linearizable", "LinearizabilityResult", "Operation"]

_TYPES = ("invoke", "ok", "fail", "info")
_FS = ("read", "write")


@dataclass(frozen=True)
class Operation:
    """One invocation paired with its completion."""

    process: object
    f: str
    value: object
    start: float
    end: float  # math.inf when indefinite
    type: str  # ok or info
    index: int  # position of the invocation in the history

    def describe(self) -> str:
        what = f"write {self.value!r}" if self.f == "write" else f"read → {self.value!r}"
        end = "never completed (indefinite)" if math.isinf(self.end) else f"{self.end:.3f}s"
        return f"process {self.process}: {what}, invoked {self.start:.3f}s, completed {end}"


@dataclass
class LinearizabilityResult:
    valid: bool
    operations: list[Operation]
    counterexample: list[Operation] = field(default_factory=list)
    explanation: str = ""

    def __bool__(self) -> bool:
        return self.valid

    def __str__(self) -> str:
        head = f"linearizable? {'true' if self.valid else 'false'} — {len(self.operations)} operation(s)"
        if self.valid:
            return head
        lines = [head, f"  {self.explanation}", "  minimal counterexample:"]
        lines += [f"    {op.describe()}" for op in self.counterexample]
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


def pair(history) -> list[Operation]:
    """Invocations matched with their completions; failed operations dropped (they did not happen)."""
    ops: list[Operation] = []
    open_: dict = {}
    for n, event in enumerate(history):
        _validate(event, n)
        p, kind = event["process"], event["type"]
        if kind == "invoke":
            if p in open_:
                raise ValueError(f"history[{n}]: process {p!r} invoked again before its last operation completed; "
                                 "a process does one operation at a time")
            open_[p] = (n, event)
            continue
        if p not in open_:
            raise ValueError(f"history[{n}]: a {kind} for process {p!r}, which has nothing in flight")
        start_n, invoke = open_.pop(p)
        if event["f"] != invoke["f"]:
            raise ValueError(f"history[{n}]: completes a {invoke['f']} with f={event['f']!r}")
        if kind == "fail":
            continue
        value = invoke["value"] if invoke["f"] == "write" else event.get("value")
        if kind == "info" and invoke["f"] == "read":
            continue  # a read that may not have happened constrains nothing
        end = math.inf if kind == "info" else float(event["time"])
        ops.append(Operation(p, invoke["f"], value, float(invoke["time"]), end, kind, start_n))
    for start_n, invoke in open_.values():  # never completed: indefinite
        if invoke["f"] == "write":
            ops.append(Operation(invoke["process"], "write", invoke["value"], float(invoke["time"]), math.inf,
                                 "info", start_n))
    return sorted(ops, key=lambda o: o.index)


def _validate(event, n: int) -> None:
    if not isinstance(event, dict):
        raise ValueError(f"history[{n}] is not a dict with process, type, f, value, time: {event!r}")
    missing = [k for k in ("process", "type", "f", "time") if k not in event]
    if missing:
        raise ValueError(f"history[{n}] lacks {', '.join(missing)}: {event!r}")
    if event["type"] not in _TYPES:
        raise ValueError(f"history[{n}]: type must be one of {', '.join(_TYPES)}, got {event['type']!r}")
    if event["f"] not in _FS:
        raise ValueError(f"history[{n}]: f must be read or write, got {event['f']!r}")


def _search(ops: list[Operation], initial=None) -> bool:
    """Is there a legal order of `ops`, each placed between its start and end? (info writes optional)"""
    n = len(ops)
    required = 0
    for i, op in enumerate(ops):
        if op.type == "ok":
            required |= 1 << i
    seen: set = set()
    stack = [(0, initial)]
    while stack:
        done, value = stack.pop()
        if done & required == required:
            return True
        if (done, value) in seen:
            continue
        seen.add((done, value))
        # The next op to take effect must start before every pending op has ended.
        horizon = min((ops[i].end for i in range(n) if not done >> i & 1), default=math.inf)
        for i in range(n):
            if done >> i & 1:
                continue
            op = ops[i]
            if op.start > horizon:
                continue
            if op.f == "write":
                stack.append((done | 1 << i, op.value))
            elif op.value == value:
                stack.append((done | 1 << i, value))
    return False


def _minimise(ops: list[Operation]) -> list[Operation]:
    """Drop operations one at a time while the rest stays non-linearizable (1-minimal).

    A write is kept while a kept read returned its value: a read of a value nobody
    wrote is a trivial counterexample that would hide the real one.
    """
    keep = list(ops)
    changed = True
    while changed:  # until a full pass removes nothing: a write may become removable once its reads are gone
        changed = False
        for op in list(keep):
            if op.f == "write" and any(o.f == "read" and o.value == op.value for o in keep):
                continue
            trial = [o for o in keep if o is not op]
            if not _search(trial):
                keep, changed = trial, True
    return keep


def _explain(ops: list[Operation]) -> str:
    reads = [o for o in ops if o.f == "read"]
    writes = [o for o in ops if o.f == "write"]
    if len(reads) == 1:
        r = reads[0]
        sources = [w for w in writes if w.value == r.value]
        for w in writes:
            if w.end < r.start and all(s.end < w.start for s in sources) and w.value != r.value:
                was = f"the value written by process {sources[0].process}" if sources else "the initial value"
                return (f"stale read: process {r.process} read {r.value!r} ({was}) at {r.start:.3f}s, but "
                        f"process {w.process}'s write of {w.value!r} had completed at {w.end:.3f}s, before "
                        f"the read began")
        if isinstance(r.value, tuple) and not sources:
            return (f"process {r.process} read the siblings {r.value!r}: concurrent writes kept side by side. "
                    f"A register returns one value, so a store that keeps siblings is not linearizable")
        if r.value is not None and not sources:
            return f"process {r.process} read {r.value!r}, a value nobody wrote"
    return ("no order of these operations, each taking effect between its invocation and completion, "
            "is a legal register history")


def check_linearizable(history) -> LinearizabilityResult:
    """Check a Jepsen-style register history; the result has `.valid` and a minimal `.counterexample`."""
    ops = pair(list(history))
    if len(ops) > 60:
        raise ValueError(f"{len(ops)} operations: this checker is meant for small histories (≤ 60); "
                         "check a window of the history instead")
    if _search(ops):
        return LinearizabilityResult(True, ops)
    smallest = _minimise(ops)
    return LinearizabilityResult(False, ops, smallest, _explain(smallest))
