"""`plot_history`: a register history as Jepsen draws it — one lane per client, one bar per operation.

Each bar runs from invocation to completion: ok, failed, or indefinite (a
timed-out write, which may take effect at any later time). Stale reads and the
checker's counterexample are outlined; partitions are shaded.
"""

from __future__ import annotations

import math

from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from .style import CRASH, OKABE_ITO, legend_below, new_axes, time_window

__all__ = ["plot_history"]

_KIND = {
    "ok": {"color": OKABE_ITO["green"], "hatch": "", "label": "ok"},
    "fail": {"color": OKABE_ITO["vermillion"], "hatch": "xx", "label": "failed (did not happen)"},
    "info": {"color": OKABE_ITO["orange"], "hatch": "////", "label": "timed out (indefinite)"},
}
_STALE = {"color": OKABE_ITO["purple"], "hatch": "..", "label": "stale read (ok, but overwritten before it began)"}


def _operations(history):
    """Every operation with its outcome: (process, f, value, start, end, type), failed ones included."""
    out, open_ = [], {}
    for e in history:
        if e["type"] == "invoke":
            open_[e["process"]] = e
            continue
        inv = open_.pop(e["process"])
        value = inv["value"] if inv["f"] == "write" else e.get("value")
        out.append((e["process"], inv["f"], value, inv["time"], e["time"], e["type"]))
    return out


def plot_history(kv, ax=None, check=True, window=None):
    """Draw a `KVRun`'s history; with `check`, outline stale reads and the counterexample.

    `window=(start, end)` zooms in on those simulated seconds.
    """
    zoom = time_window(window)
    ops = _operations(kv.history)
    processes = sorted({op[0] for op in ops})
    lane = {p: i for i, p in enumerate(processes)}
    end = max([op[4] for op in ops] + [1.0])
    fig, ax = new_axes(ax, (11.0, 1.6 + 0.75 * len(processes)))
    windows = dict.fromkeys((f.start, f.end) for f in kv.faults if f.kind == "partition" and f.start < end)
    for start, stop in windows:  # a split is many pairwise partitions over one window: shade it once
        ax.axvspan(start, min(stop, end), color=CRASH["color"], alpha=0.3, lw=0)
    stale = {(o.process, o.start) for o in kv.stale_reads()} if check else set()
    result = kv.check() if check else None
    counter = {(o.process, o.start) for o in result.counterexample} if result is not None and not result.valid \
        else set()
    for n, (p, f, value, t0, t1, kind) in enumerate(ops):
        style = _STALE if (p, t0) in stale else _KIND[kind]
        width = max(t1 - t0, (zoom[1] - zoom[0] if zoom else end) * 0.003)
        ax.add_patch(Rectangle((t0, lane[p] - 0.3), width, 0.6, facecolor=style["color"], hatch=style["hatch"],
                               edgecolor="black", linewidth=0.5))
        label = f"w{value}" if f == "write" else f"r→{'∅' if value is None else value}" if kind == "ok" else "r?"
        below = n % 2 == 0  # alternate sides, so neighbouring labels do not collide
        ax.text(t0 + width / 2, lane[p] + (0.36 if below else -0.36), label, ha="center",
                va="top" if below else "bottom", fontsize=7, clip_on=True)  # zooming in must not spill labels
        if (p, t0) in counter:
            ax.plot(t0 + width / 2, lane[p] - 0.62, marker="v", color="black", markersize=6, linestyle="none")
    ax.set_yticks(range(len(processes)), processes)
    ax.set_ylim(len(processes) - 0.35, -0.85)
    ax.set_xlim(*(zoom or (0, end * 1.02)))
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("client")
    verdict = "" if result is None else f" · linearizable? {'true' if result.valid else 'false'}"
    s = kv.settings
    ax.set_title(f"{s['consistency'].upper()} register, N={s['n']} R={s['r']} W={s['w']}{verdict}")
    handles = [Patch(facecolor=v["color"], hatch=v["hatch"], edgecolor="black", label=v["label"])
               for v in _KIND.values()]
    handles += [Patch(facecolor=_STALE["color"], edgecolor="black", label=_STALE["label"]),
                Line2D([], [], marker="v", color="black", linestyle="none", label="in the checker's counterexample"),
                Patch(facecolor=CRASH["color"], alpha=0.3, label="partition")]
    legend_below(ax, handles, ncol=3)
    if math.isfinite(end):
        ax.grid(axis="x", alpha=0.3)
    return fig
