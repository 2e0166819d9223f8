"""The spans of one instance, read from the trace: what the timeline draws.

An attempt runs from `attempt-started` to its outcome (`step-completed`,
`attempt-failed`, `attempt-timeout`); a compensation from
`compensation-started` to `compensation-ok` / `-failed` / `-timeout`; work
from a `work` event's `start` to its `time`; a node is down from
`node-crashed` to `node-restarted`. A span with no outcome is "open".
"""

from __future__ import annotations

from typing import NamedTuple

from .select import downtimes

__all__ = ["Span", "spans", "pack"]

START = {"attempt-started": "attempt", "compensation-started": "compensation"}
OUTCOME = {"step-completed": ("attempt", "ok"), "attempt-failed": ("attempt", "failed"),
           "attempt-timeout": ("attempt", "timeout"), "compensation-ok": ("compensation", "ok"),
           "compensation-failed": ("compensation", "failed"), "compensation-timeout": ("compensation", "timeout")}


class Span(NamedTuple):
    kind: str  # attempt, compensation, work, crash
    lane: str  # the service (or node) it happened on
    start: float
    end: float
    outcome: str  # ok failed timeout open | work: ok error duplicate | crash: down
    step: str | None = None
    attempt: int | None = None


def spans(run, instance: int, *, until: float) -> list[Span]:
    """Attempts, compensations and work of one instance, and every crash; open spans end at `until`."""
    out: list[Span] = []
    begun: dict[tuple, float] = {}  # (attempt | compensation, step, attempt number, lane) -> start
    for e in run.trace.for_instance(instance):
        if e.kind in START or e.kind in OUTCOME:
            kind = START.get(e.kind) or OUTCOME[e.kind][0]
            key = (kind, e.step, e.attempt, e.peer or run.workflow[e.step].service)
            if e.kind in START:
                begun[key] = e.time
            elif key in begun:
                out.append(Span(kind, key[3], begun.pop(key), e.time, OUTCOME[e.kind][1], e.step, e.attempt))
        elif e.kind == "work":
            outcome = e.info if e.info in ("ok", "duplicate") else "error"
            out.append(Span("work", e.node, e.start, e.time, outcome, e.step, e.attempt))
    out += [Span(kind, lane, start, until, "open", step, n) for (kind, step, n, lane), start in begun.items()]
    # A node that never came back is down to the end of the picture, and beyond.
    out += [Span("crash", node, start, end if end is not None else max(until, start) * 1.05 + 1, "down")
            for node, start, end in downtimes(run)]
    return out


def pack(found: list[Span], min_width: float) -> tuple[dict[Span, int], dict[str, int]]:
    """Give overlapping bars of one lane separate tracks: (span → track, lane → tracks used).

    A bar's work goes on the bar's track, and a bar reaches as far as its work
    does (a fire-and-forget step is published at once but worked on later).
    """
    bars = sorted((s for s in found if s.kind in ("attempt", "compensation")), key=lambda s: s.start)
    owner = {w: _owner(w, bars) for w in found if w.kind == "work"}
    reach = {b: b.start + max(b.end - b.start, min_width) for b in bars}
    for w, b in owner.items():
        if b is not None:
            reach[b] = max(reach[b], w.start + max(w.end - w.start, min_width))
    track: dict[Span, int] = {}
    ends: dict[str, list[float]] = {}
    for b in bars:
        free = ends.setdefault(b.lane, [])
        i = next((i for i, end in enumerate(free) if end <= b.start), len(free))
        free[i:i + 1] = [reach[b]]
        track[b] = i
    track.update({w: track[b] if b is not None else 0 for w, b in owner.items()})
    return track, {lane: len(e) for lane, e in ends.items()}


def _owner(work: Span, bars: list[Span]) -> Span | None:
    """The latest bar of the same lane, step and attempt that began before the work did."""
    mine = [b for b in bars if (b.lane, b.step, b.attempt) == (work.lane, work.step, work.attempt)
            and b.start <= work.start]
    return mine[-1] if mine else None
