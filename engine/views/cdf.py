"""`plot_latency_cdf`: the empirical CDF of instance latencies, one step line per run."""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..run import percentile
from .style import MUTED, new_axes, seconds, series_style

__all__ = ["plot_latency_cdf"]


def plot_latency_cdf(runs, ax=None, status: str | None = "completed", percentiles=(50, 95, 99), log: bool = False):
    """`runs` is a Run or a dict label → Run; `status` picks instances (None: every finished one)."""
    runs = runs if isinstance(runs, dict) else {_label(runs): runs}
    fig, ax = new_axes(ax, (8.0, 4.8))
    empty = []
    for i, (label, run) in enumerate(runs.items()):
        values = sorted(run.latencies(status))
        if values:
            _curve(ax, label, values, percentiles, series_style(i))
        else:
            empty.append(_why_empty(label, run, status))
    ax.set_xlabel("latency (s)")
    ax.set_ylabel("fraction of instances")
    ax.set_ylim(0, 1.02)
    if log and len(empty) < len(runs):
        ax.set_xscale("log")
    ax.grid(color="#E5E5E5", linewidth=0.8)
    which = f"{status} instances" if status else "finished instances"
    ax.set_title(f"Latency CDF of {which} (dotted: p{', p'.join(map(str, percentiles))})")
    if empty:
        ax.text(0.98, 0.04, "\n".join(empty), transform=ax.transAxes, ha="right", va="bottom", fontsize=8.5,
                color="#444444", bbox={"facecolor": "#F4F4F4", "edgecolor": MUTED, "boxstyle": "round"})
    if len(empty) < len(runs):
        ax.legend(loc="best", fontsize=8, title="run (n): percentiles", title_fontsize=8)
    return fig


def _label(run) -> str:
    return f"{run.mode}, seed {run.seed}"


def _curve(ax, label, values, percentiles, style: dict) -> None:
    n = len(values)
    ys = np.arange(1, n + 1) / n
    marks = "  ".join(f"p{q} {seconds(percentile(values, q))}" for q in percentiles)
    colour = style["color"]
    ax.step([values[0]] + values, [0.0, *ys], where="post", color=colour, linestyle=style["linestyle"],
            linewidth=1.8, label=f"{label} (n={n}): {marks}")
    for q in percentiles:
        x = percentile(values, q)
        ax.plot([x, x], [0, q / 100], linestyle=":", color=colour, linewidth=1.2, gid="percentile")
        ax.plot([x], [q / 100], marker=style["marker"], color=colour, markersize=5, gid="percentile")


def _why_empty(label, run, status) -> str:
    counts = Counter(x.status for x in run.instances)
    seen = ", ".join(f"{k} {v}" for k, v in counts.items()) or "no instances at all"
    hint = " — try status=None" if counts and status else ""
    return f"{label}: no {status or 'finished'} instances ({seen}){hint}"
