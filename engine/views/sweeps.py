"""`plot_sweep`: one measure against one parameter over the rows of `engine.sweep`."""

from __future__ import annotations

import math

import numpy as np

from ..errors import did_you_mean
from .style import new_axes, series_style

__all__ = ["plot_sweep"]


def plot_sweep(rows, x: str, y: str, hue: str | None = None, ax=None):
    """Mean of `y` per value of `x` (line) and its min–max over seeds (band); one line per `hue`."""
    rows = list(rows)
    _check(rows, [c for c in (x, y, hue) if c is not None])
    fig, ax = new_axes(ax, (8.0, 4.8))
    xs = list(dict.fromkeys(r[x] for r in rows))
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in xs)
    xs = sorted(xs) if numeric else xs
    pos = {v: (v if numeric else i) for i, v in enumerate(xs)}
    groups = list(dict.fromkeys(r[hue] for r in rows)) if hue else [None]
    for i, g in enumerate(groups):
        mine = [r for r in rows if hue is None or r[hue] == g]
        label, style = (str(g) if hue else None), series_style(i)
        if numeric:
            _series(ax, mine, x, y, xs, pos, label, style)
        else:  # categories: no line between them; side by side, each with its min–max bar
            _points(ax, mine, x, y, xs, {v: p + 0.12 * (i - (len(groups) - 1) / 2) for v, p in pos.items()},
                    label, style)
    if not numeric:
        ax.set_xticks(range(len(xs)), [str(v) for v in xs])
        ax.set_xlim(-0.5, len(xs) - 0.5)
    seeds = len({r.get("seed") for r in rows})
    ax.set_xlabel(_pretty(x))
    ax.set_ylabel(_pretty(y))
    marks = "line: mean; band: min–max" if numeric else "point: mean; bar: min–max"
    ax.set_title(f"{y} vs {x}\n{marks} over {seeds} seed(s)")
    ax.grid(color="#E5E5E5", linewidth=0.8)
    if hue:
        ax.legend(fontsize=8, title=hue, title_fontsize=8)
    return fig


def _check(rows, columns) -> None:
    if not rows:
        raise ValueError("plot_sweep needs rows: the list returned by engine.sweep is empty")
    for c in columns:
        if c not in rows[0]:
            hint = did_you_mean(c, list(rows[0]))
            raise ValueError(f"the sweep rows have no column {c!r}" + (f"; {hint}" if hint else "")
                             + f" (columns: {', '.join(rows[0])})")


def _stats(rows, x, y, xs, pos):
    """(positions, means, minima, maxima) of `y` over the rows at each value of `x`; NaNs left out."""
    out = []
    for v in xs:
        vals = [float(r[y]) for r in rows if r[x] == v and r[y] is not None and not math.isnan(float(r[y]))]
        if vals:
            out.append((pos[v], float(np.mean(vals)), min(vals), max(vals)))
    return [list(c) for c in zip(*out)] if out else [[], [], [], []]


def _series(ax, rows, x, y, xs, pos, label, style) -> None:
    pts, means, lows, highs = _stats(rows, x, y, xs, pos)
    ax.fill_between(pts, lows, highs, color=style["color"], alpha=0.18, linewidth=0)
    ax.plot(pts, means, markersize=5, label=label, **style)


def _points(ax, rows, x, y, xs, pos, label, style) -> None:
    pts, means, lows, highs = _stats(rows, x, y, xs, pos)
    err = [np.subtract(means, lows), np.subtract(highs, means)]
    ax.errorbar(pts, means, yerr=err, fmt=style["marker"], color=style["color"], capsize=5, markersize=6,
                label=label)


def _pretty(column: str) -> str:
    # Latency columns are seconds of simulated time; say so on the axis.
    return column + (" (simulated s)" if column.startswith("latency.") else "")
