"""Side-by-side comparison of runs, every number measured from their traces.

    print(engine.compare({"orchestration": run_o, "choreography": run_c}))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["compare", "Comparison"]


@dataclass
class Comparison:
    labels: list[str]
    rows: list[tuple[str, list]]

    def as_dict(self) -> dict[str, dict]:
        return {metric: dict(zip(self.labels, values)) for metric, values in self.rows}

    def __str__(self) -> str:
        cells = [[_fmt(v) for v in values] for _, values in self.rows]
        width0 = max(len(m) for m, _ in self.rows)
        widths = [max([len(label)] + [len(row[j]) for row in cells]) for j, label in enumerate(self.labels)]
        head = " " * width0 + "  " + "  ".join(label.rjust(w) for label, w in zip(self.labels, widths))
        lines = [head]
        for (metric, _), row in zip(self.rows, cells):
            lines.append(metric.ljust(width0) + "  " + "  ".join(c.rjust(w) for c, w in zip(row, widths)))
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


def _fmt(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "—"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return str(v)


def _consumed_topics(run) -> dict[str, set]:
    out: dict[str, dict] = {}
    for e in run.trace.events:
        if e.kind == "message" and e.node == "broker" and e.peer not in ("orchestrator",) and e.info != "ack":
            out.setdefault(e.peer, {})[e.info] = None
    return out


def compare(runs: dict) -> Comparison:
    """Messages, latency, outcomes, who knows the status and coupling, for each run."""
    labels = list(runs)
    stats = {label: (run, run.summary()) for label, run in runs.items()}

    def row(name, fn):
        return (name, [fn(*stats[label]) for label in labels])

    def pct(run, s, status):
        return 100.0 * s.statuses[status] / s.orders if s.orders else math.nan

    def knows(run, s):
        return "orchestrator" if run.trace.of("instance-ended") else "nobody (trace only)"

    def coupling(run, s):
        topics = _consumed_topics(run)
        return max((len(t) for t in topics.values()), default=0)

    return Comparison(labels, [
        row("orders", lambda r, s: s.orders),
        row("completed %", lambda r, s: pct(r, s, "completed")),
        row("compensated %", lambda r, s: pct(r, s, "compensated")),
        row("needs intervention %", lambda r, s: pct(r, s, "needs_intervention")),
        row("never finished %", lambda r, s: pct(r, s, "running")),
        row("p50 latency (ms)", lambda r, s: s.latency["p50"] * 1000),
        row("p99 latency (ms)", lambda r, s: s.latency["p99"] * 1000),
        row("messages per order", lambda r, s: s.messages / s.orders if s.orders else math.nan),
        row("messages lost", lambda r, s: sum(s.dropped.values())),
        row("dead letters", lambda r, s: s.dead_letters),
        row("duplicate effects", lambda r, s: s.duplicate_effects),
        row("who knows the status", knows),
        row("max topics one service consumes", coupling),
    ])
