"""`plot_dag`: a workflow's steps left → right by generation, its critical path in bold."""

from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

from .style import COMPENSATION_INK, CRITICAL, STEP_TYPE, legend_below, new_axes, seconds, tint

__all__ = ["plot_dag"]

BOX_W, BOX_H = 0.72, 0.44  # in generation units: columns are 1 apart, rows 1 apart
INCH_PER_COL, INCH_PER_ROW = 2.5, 1.15
MAX_WIDTH = 15.0  # inches: wider than a notebook page helps nobody


def plot_dag(wf, ax=None, latencies=None):
    """Draw the DAG of `wf`; `latencies` is passed on to `wf.critical_path`."""
    gens = wf.generations
    rows = max((len(g) for g in gens), default=1)
    per_col = min(INCH_PER_COL, MAX_WIDTH / max(len(gens), 1))  # wide DAGs get narrower columns
    fig, ax = new_axes(ax, (max(6.0, per_col * len(gens) + 1), max(3.4, INCH_PER_ROW * rows + 1.6)))
    pos = _layout(wf, gens)
    path = wf.critical_path(latencies)
    on_path = set(zip(path.steps, path.steps[1:]))
    size = _font_size(ax, wf.step_names, len(gens))
    for step in wf.steps:
        for dep in step.depends_on:
            _arrow(ax, pos[dep], pos[step.name], critical=(dep, step.name) in on_path)
    for step in wf.steps:
        _box(ax, step, pos[step.name], critical=step.name in path.steps, size=size)
    _frame(ax, gens, rows)
    _legend(ax, wf)
    ax.set_title(_title(wf, path, latencies))
    return fig


def _layout(wf, gens) -> dict[str, tuple[float, float]]:
    """Column = generation; rows centred on 0, read top to bottom.

    Within a column, steps sit in the mean row of the steps they depend on
    (one barycentre pass), which removes most edge crossings.
    """
    pos: dict[str, tuple[float, float]] = {}
    for col, gen in enumerate(gens):
        def pull(name):
            deps = [pos[d][1] for d in wf[name].depends_on]
            return -sum(deps) / len(deps) if deps else 0.0
        ordered = sorted(gen, key=pull) if col else list(gen)
        pos.update({name: (col, (len(gen) - 1) / 2 - row) for row, name in enumerate(ordered)})
    return pos


def _font_size(ax, names, columns: int) -> float:
    # Shrink long names until they fit in a box: a bold character is ~0.62 em wide.
    column_in = ax.get_position().width * ax.figure.get_figwidth() / (columns + 0.2)
    longest = max((len(n) for n in names), default=1)
    return max(6.0, min(9.5, BOX_W * column_in * 72 / (0.62 * longest)))


def _box(ax, step, xy, *, critical: bool, size: float) -> None:
    style = STEP_TYPE[step.type]
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - BOX_W / 2, y - BOX_H / 2), BOX_W, BOX_H, boxstyle=style["boxstyle"],
                                facecolor=tint(style["color"]), edgecolor=CRITICAL if critical else "black",
                                linewidth=3.0 if critical else 1.0, linestyle=style["linestyle"],
                                zorder=2, gid=f"step:{step.name}"))
    ax.text(x, y + 0.07, step.name, ha="center", va="center", fontsize=size, fontweight="bold", zorder=3)
    ax.text(x, y - 0.11, step.service, ha="center", va="center", fontsize=size - 1, style="italic", zorder=3)
    if step.compensable:
        what = ", ".join(a.target for a in step.compensation)
        ax.text(x, y - BOX_H / 2 - 0.1, f"↺ {what}", ha="center", va="center", fontsize=size - 1.5,
                color=COMPENSATION_INK, zorder=3, gid=f"compensation:{step.name}")


def _arrow(ax, a, b, *, critical: bool) -> None:
    # Edges that skip a generation bend, so they do not run through the boxes between.
    bend = 0.0 if b[0] - a[0] <= 1 else (0.25 if b[1] >= a[1] else -0.25)
    ax.add_patch(FancyArrowPatch((a[0] + BOX_W / 2, a[1]), (b[0] - BOX_W / 2, b[1]), arrowstyle="-|>",
                                 mutation_scale=14, connectionstyle=f"arc3,rad={bend}", shrinkA=2, shrinkB=3,
                                 color=CRITICAL if critical else "#555555", linewidth=2.6 if critical else 1.0,
                                 zorder=1, gid="critical-edge" if critical else "edge"))


def _frame(ax, gens, rows: int) -> None:
    ax.set_xlim(-0.6, max(len(gens) - 1, 0) + 0.6)
    ax.set_ylim(-rows / 2 - 0.05, rows / 2 + 0.05)
    ax.set_xticks(range(len(gens)), [str(i + 1) for i in range(len(gens))])
    ax.set_xlabel("generation (steps in one column can run in parallel)")
    ax.set_yticks([])
    ax.set_ylabel("steps side by side", color="#555555")
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)


def _legend(ax, wf) -> None:
    used = [t for t in STEP_TYPE if any(s.type == t for s in wf.steps)]
    handles = [Patch(facecolor=tint(STEP_TYPE[t]["color"]), edgecolor="black", linestyle=STEP_TYPE[t]["linestyle"],
                     label=t + (" (not awaited)" if t == "fire-and-forget" else "")) for t in used]
    handles.append(Line2D([], [], color=CRITICAL, linewidth=2.6, label="critical path"))
    if any(s.compensable for s in wf.steps):
        handles.append(Line2D([], [], linestyle="none", marker="$↺$", markersize=9,
                              color=COMPENSATION_INK, label="compensable: its compensation"))
    legend_below(ax, handles, ncol=min(len(handles), 3))


def _title(wf, path, latencies) -> str:
    basis = "mean service latencies" if latencies is None else "given latencies"
    chain = " → ".join(path.steps) if len(path.steps) <= 5 else f"{len(path.steps)} steps, in red"
    return f"{wf.name} v{wf.version}\ncritical path {seconds(path.length)} ({basis}): {chain}"
