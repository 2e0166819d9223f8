"""`plot_sensitivity`: which weight changes flip a decision matrix's winner, one panel per criterion."""

from __future__ import annotations

import math

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .style import MUTED, ViewFigure, series_style, tint

__all__ = ["plot_sensitivity"]


def plot_sensitivity(matrix, criteria=None, *, ncols: int = 3):
    """For each criterion, every option's weighted total as that criterion's weight goes from 0 to 1 (the
    other weights keep their proportions). The background shows who wins at each weight, the dotted line
    marks the weight now, and a dot marks each weight at which the winner changes."""
    criteria = list(matrix.criteria if criteria is None else criteria)
    if not criteria:
        raise ValueError("plot_sensitivity needs at least one criterion")
    for c in criteria:
        matrix.lines(c)  # ValueError naming the unknown criterion
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols is a whole number >= 1, got {ncols!r}")
    cols = min(ncols, len(criteria))
    rows = math.ceil(len(criteria) / cols)
    fig = ViewFigure(figsize=(3.6 * cols, 2.9 * rows + 0.9), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    styles = {o: series_style(i) for i, o in enumerate(matrix.options)}
    sens = matrix.sensitivity()
    winners: set = set()
    for k, ax in enumerate(axes.flat):
        if k >= len(criteria):
            ax.set_visible(False)
            continue
        winners |= _panel(ax, matrix, criteria[k], sens[criteria[k]], styles)
        if k % cols == 0:
            ax.set_ylabel("weighted total score")
    handles = [Line2D([], [], color=s["color"], linestyle=s["linestyle"], label=o) for o, s in styles.items()]
    handles += [Patch(facecolor=tint(styles[o]["color"], 0.8), label=f"{o} wins")
                for o in matrix.options if o in winners]
    handles += [Line2D([], [], color="black", linestyle=":", label="weight now"),
                Line2D([], [], color="black", marker="o", linestyle="", label="winner changes")]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), fontsize=8, frameon=False)
    fig.suptitle(f"Which weight changes flip the decision (winner now: {matrix.winner})\n"
                 "one weight moves from 0 to 1, the others keep their proportions")
    return fig


def _panel(ax, matrix, criterion, sens, styles) -> set:
    """One criterion's panel; returns the options that win somewhere on it."""
    lines = matrix.lines(criterion)
    spans = matrix.regions(criterion)
    for lo, hi, who in spans:
        ax.axvspan(lo, hi, color=tint(styles[who]["color"], 0.8), linewidth=0)
    for o, (a, b) in lines.items():
        s = styles[o]
        ax.plot([0, 1], [a, a + b], color=s["color"], linestyle=s["linestyle"], linewidth=1.8)
    ax.axvline(sens.weight, color="black", linestyle=":", linewidth=1.2)
    for f in (sens.lower, sens.higher):
        if f is not None:
            a, b = lines[f.winner]
            ax.plot([f.at], [a + b * f.at], "o", color="black", markersize=5)
            ax.annotate(f"{f.at:.2f}", (f.at, a + b * f.at), textcoords="offset points", xytext=(4, 6), fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_title(f"{criterion} (weight now {sens.weight:.2f})", fontsize=10)
    ax.set_xlabel(f"weight of {criterion}")
    ax.grid(color="#E5E5E5", linewidth=0.6)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_color(MUTED)
    return {who for _, _, who in spans}

