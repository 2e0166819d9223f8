"""`plot_sequence`: the messages of one instance as a sequence diagram, time flowing down.

Messages come in bursts a millisecond apart, separated by long waits
(timeouts, backoffs, a crashed orchestrator). Drawn to scale, a burst is a
single smudge; so the y axis keeps the *order* of times, not their spacing:
each distinct send or arrival time gets its own row, labelled with the true
time, and idle gaps much longer than a network hop are shown as grey bands
carrying their true length.
"""

from __future__ import annotations

import math
from collections import Counter
from statistics import median

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from .select import downtimes, find_instance
from .style import CRASH, DROPPED, MUTED, SERIES, new_axes, seconds, series_style

__all__ = ["plot_sequence"]

GAP_CAP = 40  # an idle gap longer than this many median hops is cut short
CUT_ROWS = 2.0  # how tall a cut gap is drawn, in rows
MARKS = {"instance-started": ("o", "instance starts"), "instance-ended": ("s", "instance ends (status in title)")}
ROW_INCHES = 0.25
MAX_INCHES = 30.0  # tallest figure; rows get tighter beyond it


def plot_sequence(run, instance: int = 0, ax=None, max_messages: int = 200):
    """Draw the messages of instance `instance` of `run`; return the Figure."""
    inst = find_instance(run, instance)
    events = run.trace.for_instance(instance)
    msgs = [e for e in events if e.kind in ("message", "message-dropped")]
    shown = msgs[:max_messages]
    arrows = _merge(shown)
    lanes = _lifelines(run, shown)
    scale = _Rows(_times(shown, events, complete=len(shown) == len(msgs)))
    height = min(MAX_INCHES, max(4.5, 2.0 + ROW_INCHES * scale.height))
    fig, ax = new_axes(ax, (max(7.0, 1.5 * len(lanes) + 1.5), height))
    x = {name: i for i, name in enumerate(lanes)}
    colours = _step_colours(run.workflow, arrows)
    _frame(ax, lanes, scale)
    _downtimes(ax, run, x, scale)
    _marks(ax, events, x, scale, scale.t[-1])
    for e, label, text in arrows:
        if e.kind == "message-dropped":
            _dropped(ax, e, x, scale)
        else:
            _arrow(ax, e, label, text, x, scale, colours)
    if not shown:
        ax.text(0.5, 0.5, f"no messages were sent for instance {instance}", transform=ax.transAxes,
                ha="center", va="center", color=MUTED)
    _legend(ax, arrows, colours)
    ax.set_title(_title(run, inst, len(shown), len(msgs), scale))
    return fig


class _Rows:
    """Simulated time → row: one row per distinct time, in order; long idle gaps are cut bands."""

    def __init__(self, times) -> None:
        self.t = np.array(sorted(set(times)), dtype=float)
        gaps = np.diff(self.t)
        self.cap = GAP_CAP * (median(gaps) if len(gaps) else 1.0)
        rows = np.where(gaps > self.cap, CUT_ROWS, 1.0)
        self.y = np.concatenate([[0.0], np.cumsum(rows)])
        self.cuts = [(self.y[i], self.y[i + 1], gaps[i]) for i in np.flatnonzero(gaps > self.cap)]
        self.height = max(float(self.y[-1]), 1.0)

    def __call__(self, t: float) -> float:
        return float(np.interp(t, self.t, self.y))

    def ticks(self, inches: float) -> tuple[list[float], list[str]]:
        """Every row's true time, thinned when the axes are too short to label them all."""
        every = max(1, math.ceil(0.15 * (self.height + 1.6) / max(inches, 0.1)))
        decimals = 4 if self.t[-1] - self.t[0] < 100 else 2
        return list(self.y[::every]), [f"{t:.{decimals}f}" for t in self.t[::every]]


def _times(shown, events, *, complete: bool) -> list[float]:
    """The times that get a row: sends, arrivals, the start, and the end if every message is drawn."""
    times = [t for e in shown for t in (_sent(e), e.time)]
    last = max(times, default=-math.inf)
    marks = [e.time for e in events if e.kind == "instance-started"
             or (e.kind == "instance-ended" and (complete or e.time <= last))]
    return times + marks


def _merge(msgs) -> list[tuple]:
    """(event, label, text) per arrow. Messages with the same ends, times and fate share an arrow,
    their labels joined with +; a fan-out (one sender, many receivers, one label) is labelled once."""
    arrows: dict[tuple, list] = {}
    for e in msgs:
        arrows.setdefault((e.kind, e.node, e.peer, _sent(e), e.time), [e, []])[1].append(e.info or "?")
    merged = [(e, " + ".join(dict.fromkeys(labels))) for e, labels in arrows.values()]
    fans = Counter((e.kind, e.node, _sent(e), e.time, label) for e, label in merged)
    out, done = [], set()
    for e, label in merged:
        key = (e.kind, e.node, _sent(e), e.time, label)
        text = "" if key in done else (label if fans[key] == 1 else f"{label} (to {fans[key]})")
        out.append((e, label, text))
        done.add(key)
    return out


def _sent(e) -> float:
    return e.start if e.start is not None else e.time


def _lifelines(run, msgs) -> list[str]:
    seen = {n for e in msgs for n in (e.node, e.peer)}
    head = [n for n in ("client", "orchestrator", "broker")
            if n in seen or (n == "orchestrator" and run.mode == "orchestration")]
    lanes = head + list(run.workflow.service_names)
    return lanes + sorted(n for n in seen if n and n not in lanes)


def _step_colours(wf, arrows) -> dict[str, str]:
    """A colour per step drawn, while the palette lasts; past that, repeats would mislead: none."""
    steps = [n for n in wf.step_names if any(e.step == n for e, _, _ in arrows)]
    if len(steps) > len(SERIES):
        return {}
    return {name: series_style(i)["color"] for i, name in enumerate(steps)}


def _frame(ax, lanes, scale: _Rows) -> None:
    for i in range(len(lanes)):
        ax.axvline(i, color="#BBBBBB", linewidth=1.2, linestyle="--", zorder=0)
    ax.set_xlim(-0.6, len(lanes) - 0.4)
    ax.set_ylim(scale.height + 0.8, -0.8)  # time flows down
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("node (one lifeline each)", fontsize=8, color="#555555")
    ax.set_xticks(range(len(lanes)), [_wrap(n) for n in lanes], fontsize=9, fontweight="bold")
    ys, labels = scale.ticks(ax.get_position().height * ax.figure.get_figheight())
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_ylabel("simulated time (s)")
    for top, bottom, real in scale.cuts:
        ax.axhspan(top, bottom, color="#EEEEEE", zorder=0, gid="gap")
        ax.text(len(lanes) - 0.45, (top + bottom) / 2, f"⋯ {seconds(real)} pass ⋯", ha="right", va="center",
                fontsize=7.5, color="#555555", style="italic", zorder=1)


def _wrap(name: str) -> str:
    # "notification-service" is too wide for a lifeline: break it at its last hyphen.
    head, sep, tail = name.rpartition("-")
    return f"{head}\n{sep}{tail}" if len(name) > 12 and head else name


def _downtimes(ax, run, x, scale: _Rows) -> None:
    lo, hi = float(scale.t[0]), float(scale.t[-1])
    for node, start, end in downtimes(run):
        end = hi if end is None else end
        if node in x and start < hi and end > lo:  # only downtime that overlaps what is drawn
            a, b = scale(max(start, lo)), scale(min(end, hi))
            ax.add_patch(Rectangle((x[node] - 0.08, a), 0.16, max(b - a, 0.3), facecolor=CRASH["color"],
                                   hatch=CRASH["hatch"], edgecolor="#666666", linewidth=0.6, zorder=1, gid="crash"))


def _marks(ax, events, x, scale: _Rows, upto: float) -> None:
    """Where the instance began and (orchestration) where it was declared over; the legend says which."""
    for e in events:
        if e.kind in ("instance-started", "instance-ended") and e.node in x and e.time <= upto:
            ax.plot([x[e.node]], [scale(e.time)], marker=MARKS[e.kind][0], color="black", markersize=7,
                    zorder=4, gid=e.kind)


def _arrow(ax, e, label: str, text: str, x, scale: _Rows, colours) -> None:
    x0, x1 = x[e.node], x[e.peer]
    y0, y1 = scale(_sent(e)), scale(e.time)
    ack = label == "ack"
    colour = "#AAAAAA" if ack else colours.get(e.step, "#333333")
    ax.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=3,
                arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 0.8 if ack else 1.1,
                            "shrinkA": 0, "shrinkB": 0})
    if not text:
        return
    # Long arrows are labelled near their sender (at most 1.5 lanes out), clear of the far lanes' labels.
    tx = x0 + (1 if x1 > x0 else -1) * min(1.5, abs(x1 - x0) / 2)
    ty = y0 + (y1 - y0) * (tx - x0) / (x1 - x0) if x1 != x0 else (y0 + y1) / 2
    ax.text(tx, ty, text, ha="center", va="bottom", fontsize=6.5,
            color="#999999" if ack else "#222222", zorder=3, gid="message-label",
            bbox={"boxstyle": "square,pad=0.05", "facecolor": "white", "edgecolor": "none", "alpha": 0.7})


def _dropped(ax, e, x, scale: _Rows) -> None:
    """A message that never arrived: an arrow that stops half-way, a red cross and the reason."""
    x0, x1 = x[e.node], x[e.peer]
    y0 = scale(_sent(e))
    mid = (x0 + x1) / 2
    if mid == round(mid) and x1 != x0:  # half-way falls on a lifeline: stop beside it, not on it
        mid += 0.3 if x1 > x0 else -0.3
    # Dropped on sending, it has no arrival time: slope it as if it would have taken a row.
    y1 = y0 + max(scale(e.time) - y0, 1.0) * abs(mid - x0) / max(abs(x1 - x0), 1)
    ax.plot([x0, mid], [y0, y1], color=DROPPED, linewidth=1.1, zorder=3, gid="dropped-arrow")
    ax.text(mid, y1, "✕", color=DROPPED, ha="center", va="center", fontsize=12, fontweight="bold",
            zorder=4, gid="dropped")
    rightwards = x1 >= x0  # the reason goes past the cross, on the side the message was heading
    ax.text(mid, y1, f"   {e.info}" if rightwards else f"{e.info}   ", color=DROPPED,
            ha="left" if rightwards else "right", va="center", fontsize=7, zorder=4)


def _legend(ax, arrows, colours) -> None:
    steps = {e.step for e, label, _ in arrows if label != "ack"}
    handles = [Line2D([], [], color=c, label=f"step {s}") for s, c in colours.items() if s in steps]
    if any(label == "ack" for _, label, _ in arrows):
        handles.append(Line2D([], [], color="#AAAAAA", linewidth=0.8, label="broker ack"))
    if any(e.kind == "message-dropped" for e, _, _ in arrows):
        handles.append(Line2D([], [], color=DROPPED, marker="$✕$", markersize=8, label="dropped (reason)"))
    for kind, (marker, text) in MARKS.items():
        if any(line.get_gid() == kind for line in ax.lines):
            handles.append(Line2D([], [], linestyle="none", marker=marker, color="black", label=text))
    if any(p.get_gid() == "crash" for p in ax.patches):
        handles.append(Rectangle((0, 0), 1, 1, facecolor=CRASH["color"], hatch=CRASH["hatch"], label="node down"))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)


def _title(run, inst, shown: int, total: int, scale: _Rows) -> str:
    head = f"{run.workflow.name} · {run.mode} · instance {inst.id} ({inst.status}): "
    count = f"first {shown} of {total} messages" if shown < total else f"{total} messages"
    note = "\none row per distinct time (not to scale)"
    note += f"; idle gaps over {seconds(scale.cap)} cut short (grey bands)" if scale.cuts else ""
    return head + count + note
