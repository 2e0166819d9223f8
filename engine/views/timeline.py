"""`plot_timeline`: a Gantt chart of one instance, one lane per service.

Bars are attempts (by outcome) and compensations; thin bars under them are
the service's own work; grey bands are nodes down. Bars that overlap in one
lane get tracks of their own, so none hides another.
"""

from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from .select import find_instance
from .spans import Span, pack, spans
from .style import (ATTEMPT, COMPENSATION, COMPENSATION_INK, CRASH, MUTED, WORK, legend_below, new_axes, seconds,
                    time_window)

__all__ = ["plot_timeline"]

MIN_WIDTH = 0.004  # of the window: a 20 ms attempt in a 15 s window must still show
NARROW = 0.02  # bars narrower than this (of the window) get a glyph, as their hatch cannot show
GLYPH = {"ok": "✓", "failed": "✗", "timeout": "◷", "open": "…"}
BAR, WORK_OFFSET = (-0.3, 0.42), (0.2, 0.1)  # (offset from the track's centre, height)


def plot_timeline(run, instance: int = 0, ax=None, legend: bool = True, window=None):
    """Draw instance `instance` of `run` as a Gantt chart per service; return the Figure.

    `window=(start, end)` zooms in on those simulated seconds: what lies outside, bars and labels, is cut off.
    """
    zoom = time_window(window)
    inst = find_instance(run, instance)
    events = run.trace.for_instance(instance)
    end = max([e.time for e in events] + [inst.end or inst.start, inst.start + 1e-3])
    lo, hi = zoom or (inst.start, end)
    shown = hi - lo  # the seconds on view: minimum widths and glyphs scale with it
    found = [s for s in spans(run, instance, until=end) if _shown(s, lo, hi, zoomed=zoom is not None)]
    track, used = pack(found, MIN_WIDTH * shown)
    lanes = _lanes(run, found)
    top, height = _tops(lanes, used)
    fig, ax = new_axes(ax, (11.0, 2.4 + 0.6 * height))
    for s in found:
        _draw(ax, s, top[s.lane] + track.get(s, 0), shown, lane_height=used.get(s.lane, 1))
    _retry_waits(ax, found, {s: top[s.lane] + track[s] for s in track}, shown)
    _instance_marks(ax, inst, events, top)
    _frame(ax, run, lanes, top, used, height, lo, hi)
    if legend:
        _legend(ax, found)
    ax.set_title(_title(run, inst) + (f" · from {lo:.3f} s to {hi:.3f} s" if zoom else ""))
    if zoom:
        for text in ax.texts:
            text.set_clip_on(True)  # a label of a bar cut off by the window must not spill over the lanes
    return fig


def _shown(s: Span, lo: float, hi: float, *, zoomed: bool) -> bool:
    """Crashes that overlap the view; the instance's own spans all, or those reaching into a zoomed view."""
    if s.kind == "crash":
        return s.start < hi and s.end > lo
    return not zoomed or (s.start <= hi and s.end >= lo)


def _lanes(run, found) -> list[str]:
    lanes = (["orchestrator"] if run.mode == "orchestration" else []) + list(run.workflow.service_names)
    return lanes + list(dict.fromkeys(s.lane for s in found if s.kind == "crash" and s.lane not in lanes))


def _tops(lanes, used) -> tuple[dict[str, float], float]:
    """The y of each lane's first track, and the height of all lanes (a track is 1 high)."""
    top, y = {}, 0.0
    for lane in lanes:
        top[lane] = y
        y += max(used.get(lane, 1), 1)
    return top, y


def _draw(ax, s: Span, y: float, window: float, *, lane_height: int) -> None:
    width = max(s.end - s.start, MIN_WIDTH * window)
    if s.kind == "crash":  # the whole lane, behind everything
        ax.add_patch(Rectangle((s.start, y - 0.46), s.end - s.start, lane_height - 0.08, facecolor=CRASH["color"],
                               hatch=CRASH["hatch"], edgecolor="#888888", linewidth=0, alpha=0.55,
                               zorder=1, gid="crash"))
    elif s.kind == "work":
        ax.add_patch(Rectangle((s.start, y + WORK_OFFSET[0]), width, WORK_OFFSET[1],
                               facecolor=WORK[s.outcome]["color"], linewidth=0, zorder=2, gid=f"work:{s.outcome}"))
    else:
        _bar(ax, s, y, width, window)


def _bar(ax, s: Span, y: float, width: float, window: float) -> None:
    style = (ATTEMPT if s.kind == "attempt" else COMPENSATION)[s.outcome]
    ax.add_patch(Rectangle((s.start, y + BAR[0]), width, BAR[1], facecolor=style["color"],
                           hatch=style["hatch"] or None, edgecolor="#222222",
                           linewidth=1.4 if s.kind == "compensation" else 0.7,
                           linestyle="--" if s.outcome == "open" else "-", zorder=3, gid=f"{s.kind}:{s.outcome}"))
    if width < NARROW * window:
        glyph = ("↺" if s.kind == "compensation" else "") + GLYPH[s.outcome]
        ax.text(s.start + width / 2, y + BAR[0] - 0.03, glyph, ha="center", va="bottom", fontsize=8, zorder=4,
                color=COMPENSATION_INK if s.kind == "compensation" else "black", gid="glyph")
    else:
        _name(ax, s, y, width, window)


def _name(ax, s: Span, y: float, width: float, window: float) -> None:
    """The step (and attempt) inside its bar, when it fits."""
    text = ("↺ " if s.kind == "compensation" else "") + s.step + (f" #{s.attempt}" if s.attempt != 1 else "")
    # Before layout the axes' final width is unknown: assume the lane labels take a fifth of it.
    axes_inches = 0.8 * ax.get_position().width * ax.figure.get_figwidth()
    text_inches = 0.6 * 7 * (len(text) + 1) / 72
    if width >= text_inches * window * 1.06 / axes_inches:
        ax.text(s.start + width / 2, y + BAR[0] + BAR[1] / 2, text, ha="center", va="center", fontsize=7,
                zorder=4, gid="bar-name",
                bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.75})


def _retry_waits(ax, found, y, window: float) -> None:
    """A thin dashed line across each gap between consecutive attempts of one step."""
    by_step: dict[tuple, list[Span]] = {}
    for s in found:
        if s.kind in ("attempt", "compensation"):
            by_step.setdefault((s.kind, s.step, s.lane), []).append(s)
    for group in by_step.values():
        group.sort(key=lambda s: s.attempt)
        for a, b in zip(group, group[1:]):
            end = a.start + max(a.end - a.start, MIN_WIDTH * window)
            if b.start > end:
                ax.plot([end, b.start], [y[a] + BAR[0] + BAR[1] / 2, y[b] + BAR[0] + BAR[1] / 2],
                        linestyle=(0, (3, 2)), linewidth=0.9, color="#444444", zorder=2, gid="retry-wait")


def _instance_marks(ax, inst, events, top) -> None:
    for t in (inst.start, inst.end):
        if t is not None:
            ax.axvline(t, color=MUTED, linestyle=":", linewidth=1, zorder=0, gid="instance-bound")
    resumed = [e.time for e in events if e.kind == "instance-resumed"]
    if resumed and "orchestrator" in top:
        ax.plot(resumed, [top["orchestrator"] - 0.09] * len(resumed), linestyle="none", marker="^",
                markersize=8, color="black", zorder=4, gid="resumed")


def _frame(ax, run, lanes, top, used, height: float, lo: float, hi: float) -> None:
    pad = 0.03 * (hi - lo)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(height - 0.5, -0.5)  # first lane on top
    centres = [top[lane] + (max(used.get(lane, 1), 1) - 1) / 2 for lane in lanes]
    ax.set_yticks(centres, [_lane_label(run.workflow, lane) for lane in lanes], fontsize=8.5)
    for lane in lanes[1:]:
        ax.axhline(top[lane] - 0.5, color="#DDDDDD", linewidth=0.8, zorder=-1)
    ax.set_xlabel("simulated time (s)")
    ax.grid(axis="x", color="#EEEEEE", linewidth=0.8, zorder=-1)
    ax.set_axisbelow(True)


def _lane_label(wf, lane: str) -> str:
    steps = [s.name for s in wf.steps if s.service == lane]
    if len(steps) > 3:  # a long list would crowd the lanes; the bars carry the step names
        steps = steps[:2] + [f"+{len(steps) - 2} more"]
    return lane if not steps else f"{lane}\n({', '.join(steps)})"


def _legend(ax, found) -> None:
    present = {(s.kind, s.outcome) for s in found}
    handles = []
    for kind, table in (("attempt", ATTEMPT), ("compensation", COMPENSATION)):
        handles += [Patch(facecolor=style["color"], hatch=style["hatch"] or None, edgecolor="#222222",
                          linestyle="--" if outcome == "open" else "-", label=style["label"])
                    for outcome, style in table.items() if (kind, outcome) in present]
    handles += [Patch(color=style["color"], label=style["label"]) for outcome, style in WORK.items()
                if ("work", outcome) in present]
    if any(line.get_gid() == "retry-wait" for line in ax.lines):
        handles.append(Line2D([], [], linestyle=(0, (3, 2)), color="#444444", label="wait before retry"))
    if ("crash", "down") in present:
        handles.append(Patch(facecolor=CRASH["color"], hatch=CRASH["hatch"], alpha=0.55, label=CRASH["label"]))
    if any(line.get_gid() == "resumed" for line in ax.lines):
        handles.append(Line2D([], [], linestyle="none", marker="^", color="black",
                              label="orchestrator resumed the instance from its history"))
    if any(t.get_gid() == "glyph" for t in ax.texts):
        handles.append(Line2D([], [], linestyle="none", marker="$✓✗◷$", markersize=16, color="black",
                              label="ok / failed / timed out, over bars too short to show it (↺: compensation)"))
    handles.append(Line2D([], [], linestyle=":", color=MUTED, label="instance start / end"))
    legend_below(ax, handles, ncol=3)


def _title(run, inst) -> str:
    ended = (f"{inst.status}, latency {seconds(inst.latency)}" if inst.end is not None
             else f"{inst.status}: never finished")
    return f"{run.workflow.name} · {run.mode} · instance {inst.id}: {ended}"
