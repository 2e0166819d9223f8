"""Native-mode results on screen: memory against concurrency, a CPU-heavy step's tail, cancellation."""

from __future__ import annotations

from matplotlib.patches import Patch

from ..native import held, memory_per_instance
from .style import OKABE_ITO, new_axes, series_style

__all__ = ["plot_memory", "plot_cpu_step", "plot_cancellation"]


def _runtime(r) -> str:
    return f"{r['language']} ({r['flavor']})"


def _ok(rows, experiment):
    return [r for r in rows if r.get("experiment") == experiment and "error" not in r]


def _machine(machine) -> str:
    if not machine:
        return ""
    cores = machine.get("cores")
    return f" — {cores} cores, {machine.get('date', '')}" if cores else ""


def plot_memory(rows, ax=None, machine=None):
    """Memory grown (peak RSS − idle RSS) against in-flight instances, log-log, one line per runtime."""
    fig, ax = new_axes(ax, (9.0, 5.0))
    slopes = memory_per_instance(rows)
    series: dict[str, list] = {}
    for r in _ok(rows, "concurrency"):
        if r.get("rss_peak") is not None:
            series.setdefault(_runtime(r), []).append((r["params"]["n"], max(r["rss_peak"] - r["rss_idle"], 1),
                                                       held(r)))
    for k, (name, pts) in enumerate(sorted(series.items())):
        # the runs held at the fork, where there are any: the others end their first instances early
        pts = sorted((n, m) for n, m, h in pts if h) or sorted((n, m) for n, m, _ in pts)
        lang, flavor = name.split(" (")[0], name.split(" (")[1].rstrip(")")
        slope = slopes.get((lang, flavor))
        label = name + (f": {slope / 1024:,.1f} KiB per instance" if slope else "")
        ax.plot([n for n, _ in pts], [m / 2**20 for _, m in pts], label=label, **series_style(k))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("workflow instances in flight")
    ax.set_ylabel("memory grown (peak RSS − idle RSS, MiB)")
    ax.set_title(f"Memory per in-flight workflow instance{_machine(machine)}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


def plot_cpu_step(rows, ax=None, machine=None):
    """p99 latency of the other instances, with a CPU-heavy step inline and moved off the loop."""
    fig, ax = new_axes(ax, (9.0, 4.5))
    runtimes = sorted({_runtime(r) for r in _ok(rows, "cpu_step")})
    for k, name in enumerate(runtimes):
        for fix, offset in ((False, -0.2), (True, 0.2)):
            r = next((r for r in _ok(rows, "cpu_step") if _runtime(r) == name and r["params"].get("fix") == fix),
                     None)
            if r is None:
                continue
            ax.bar(k + offset, r["p99"] * 1000, width=0.38, color=OKABE_ITO["vermillion" if not fix else "green"],
                   hatch="" if not fix else "//", edgecolor="black")
            ax.plot(k + offset, r["p50"] * 1000, marker="_", color="black", markersize=14)
    ax.set_xticks(range(len(runtimes)), runtimes, rotation=15, fontsize=8)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.45)  # headroom: the legend sits above the tallest bar
    ax.set_ylabel("latency of the other instances (ms)")
    ax.set_title(f"One CPU-heavy step among I/O-bound workflows{_machine(machine)}")
    ax.legend(handles=[Patch(facecolor=OKABE_ITO["vermillion"], edgecolor="black", label="p99, CPU work inline"),
                       Patch(facecolor=OKABE_ITO["green"], edgecolor="black", hatch="//",
                             label="p99, CPU work moved off the loop (the fix)"),
                       Patch(facecolor="white", edgecolor="black", label="— marks p50")], fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig


def plot_cancellation(rows, ax=None, machine=None):
    """Effects left behind by timed-out attempts, with and without cancellation."""
    fig, ax = new_axes(ax, (9.0, 4.0))
    runtimes = sorted({_runtime(r) for r in _ok(rows, "cancellation")})
    for k, name in enumerate(runtimes):
        for cancel, offset in ((False, -0.2), (True, 0.2)):
            r = next((r for r in _ok(rows, "cancellation")
                      if _runtime(r) == name and r["params"].get("cancel") == cancel), None)
            if r is None:
                continue
            ax.bar(k + offset, r["effects"], width=0.38, color=OKABE_ITO["orange" if not cancel else "blue"],
                   hatch="" if not cancel else "\\\\", edgecolor="black")
            ax.text(k + offset, r["effects"], f"{r['effects']}/{r['attempts_made']}", ha="center", va="bottom",
                    fontsize=7)
    ax.set_xticks(range(len(runtimes)), runtimes, rotation=15, fontsize=8)
    ax.set_ylabel("work that took effect after its attempt timed out")
    ax.set_title(f"Does the work stop when the attempt times out?{_machine(machine)}")
    ax.legend(handles=[Patch(facecolor=OKABE_ITO["orange"], edgecolor="black", label="timeout only stops waiting"),
                       Patch(facecolor=OKABE_ITO["blue"], edgecolor="black", hatch="\\\\",
                             label="idiomatic cancellation")], fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig
