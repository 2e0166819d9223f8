"""One palette and one set of hatches for every view.

Colours are Okabe–Ito (safe for the common colour-vision deficiencies);
every meaning that matters also has a hatch or line style, so it survives
greyscale printing.
"""

from __future__ import annotations

import io
import math

from matplotlib.figure import Figure

__all__ = ["OKABE_ITO", "STEP_TYPE", "ATTEMPT", "COMPENSATION", "COMPENSATION_INK", "WORK", "CRASH", "DROPPED",
           "CRITICAL", "MUTED", "SERIES", "LINESTYLES", "MARKERS", "ViewFigure", "new_axes", "legend_below", "tint", "seconds",
           "series_style", "time_window"]

OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
MUTED = "#999999"
CRITICAL = OKABE_ITO["vermillion"]
DROPPED = OKABE_ITO["vermillion"]

#: Step types in the DAG: a fill colour, and a box shape and edge that say the same without colour
#: (square: sync, rounded: async, dashed: fire-and-forget, which nobody waits for).
_ROUND = "round,pad=0.02,rounding_size=0.12"
STEP_TYPE = {
    "sync-task": {"color": OKABE_ITO["sky"], "linestyle": "-", "boxstyle": "square,pad=0.02"},
    "async-task": {"color": OKABE_ITO["orange"], "linestyle": "-", "boxstyle": _ROUND},
    "fire-and-forget": {"color": OKABE_ITO["yellow"], "linestyle": "--", "boxstyle": _ROUND},
}

#: Attempt bars by outcome. The hatch carries the outcome; the colour repeats it.
ATTEMPT = {
    "ok": {"color": OKABE_ITO["green"], "hatch": "", "label": "attempt ok"},
    "failed": {"color": OKABE_ITO["vermillion"], "hatch": "xx", "label": "attempt failed"},
    "timeout": {"color": OKABE_ITO["orange"], "hatch": "////", "label": "attempt timed out (indefinite)"},
    "open": {"color": "white", "hatch": "", "label": "attempt with no outcome (yet)"},
}
#: Compensation bars: their own colour, a back-slash hatch, and the outcome's hatch on top.
COMPENSATION = {
    "ok": {"color": OKABE_ITO["purple"], "hatch": "\\\\\\", "label": "compensation ok"},
    "failed": {"color": OKABE_ITO["purple"], "hatch": "\\\\\\xx", "label": "compensation failed"},
    "timeout": {"color": OKABE_ITO["purple"], "hatch": "\\\\\\//", "label": "compensation timed out"},
    "open": {"color": "white", "hatch": "\\\\\\", "label": "compensation with no outcome (yet)"},
}
#: Service-side work spans (thin bars).
WORK = {
    "ok": {"color": OKABE_ITO["black"], "label": "service work (ok)"},
    "error": {"color": OKABE_ITO["vermillion"], "label": "service work (error)"},
    "duplicate": {"color": OKABE_ITO["blue"], "label": "service work (duplicate)"},
}
#: Reddish purple darkened for small text (the fill shade is too light to read).
COMPENSATION_INK = "#7A3B66"
CRASH = {"color": "#BBBBBB", "hatch": "..", "label": "node down (crash → restart)"}

#: Series colours for curves (CDFs, sweeps), in order; black last, for the eighth.
SERIES = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow", "black")]
#: Line styles and markers cycle alongside, so series stay apart in greyscale.
LINESTYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def series_style(i: int) -> dict:
    """Colour, line style and marker of the i-th series (matplotlib keyword arguments)."""
    return {"color": SERIES[i % len(SERIES)], "linestyle": LINESTYLES[i % len(LINESTYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


class ViewFigure(Figure):
    """A figure made without pyplot, which Jupyter shows by asking it for a PNG.

    pyplot would register the figure too, and Jupyter would then show it twice:
    once when the cell ends and once as the value the view returned.
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()


def new_axes(ax, size: tuple[float, float]):
    """The (figure, axes) to draw on: the caller's axes, or a fresh `ViewFigure` of `size` inches."""
    if ax is not None:
        return ax.figure, ax
    fig = ViewFigure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def legend_below(ax, handles, ncol: int, gap_inches: float = 0.55) -> None:
    """A legend under the x axis label, the same distance below whatever the axes' height."""
    height = ax.get_position().height * ax.figure.get_figheight()
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -gap_inches / max(height, 0.5)),
              ncol=ncol, frameon=False, fontsize=8)


def tint(colour: str, amount: float = 0.45) -> str:
    """`colour` mixed with white: a light fill that black text reads well on."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * amount):02X}" for c in (r, g, b))


def seconds(x: float) -> str:
    """A duration for people: 85 ms, 1.25 s, 2.0 min."""
    if x is None or math.isnan(x):
        return "—"
    if abs(x) < 1:
        return f"{x * 1000:.3g} ms"
    if abs(x) < 120:
        return f"{x:.3g} s"
    return f"{x / 60:.3g} min"


def time_window(window) -> tuple[float, float] | None:
    """A view's `window=`: None (everything), or (start, end) in simulated seconds with start < end."""
    if window is None:
        return None
    parts = tuple(window) if isinstance(window, (tuple, list)) else ()
    if (len(parts) != 2 or any(isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x)
                               for x in parts) or parts[0] >= parts[1]):
        raise ValueError(f"window is (start, end) in simulated seconds, with start < end, e.g. (1.0, 1.5); "
                         f"got {window!r}")
    return float(parts[0]), float(parts[1])
