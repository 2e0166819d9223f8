"""The executive's one chart: what each option costs and what it risks, from the same runs as the ADR.

    from engine.adr import report
    from engine.views.communication import plot_cost_risk
    runs = report.run_evidence(path)
    plot_cost_risk(runs[:3], decision="log", price_per_gb_month=0.10)

Three panels side by side, one row per option, the chosen one marked: storage (or its monthly cost, when
the caller passes a price), orders harmed in the faulted window (lost, left with the wrong status,
processed twice — stacked), and the share of the history kept for audits.
"""

from __future__ import annotations

import textwrap

from matplotlib.patches import Patch

from ..adr.report import by_option
from .style import OKABE_ITO, ViewFigure

__all__ = ["plot_cost_risk", "HARMS", "LABELS"]

#: Short row labels for the options (a caller's `names` replace them).
LABELS = {"queue": "Message queue\n(RabbitMQ/SQS)", "log": "Kafka\n(replicated log)",
          "eventstore": "Event store\n(EventStoreDB)"}

#: The risk panel's stacked segments: metric, label, colour, hatch (the hatch survives greyscale).
HARMS = (("lost_orders", "lost", OKABE_ITO["vermillion"], "xx"),
         ("wrong_state_orders", "left with the wrong status", OKABE_ITO["orange"], "////"),
         ("duplicated_orders", "processed twice", OKABE_ITO["sky"], ".."))


def plot_cost_risk(records, *, decision: str, price_per_gb_month: float | None = None, currency: str = "$",
                   names: dict | None = None):
    """Cost and risk of each option (records as for `report.for_executives`); returns the figure."""
    by = by_option(records, decision)
    names = {**LABELS, **(names or {})}
    currency = currency.replace("$", r"\$")  # matplotlib reads a bare $ as the start of mathtext
    options = [decision] + [o for o in by if o != decision]
    rows = [by[o] for o in options][::-1]  # the decision on top
    fig = ViewFigure(figsize=(11.0, 0.9 * len(rows) + 2.4), layout="constrained")
    cost, risk, audit = fig.subplots(1, 3, sharey=True, width_ratios=(1, 1.3, 1))
    ys = range(len(rows))
    _cost(cost, rows, ys, price_per_gb_month, currency)
    _risk(risk, rows, ys)
    _audit(audit, rows, ys)
    labels = [names.get(r["option"], r["option"]) + ("\n✔ chosen" if r["option"] == decision else "")
              for r in rows]
    cost.set_yticks(list(ys), labels)
    for tick, r in zip(cost.get_yticklabels(), rows):
        tick.set_fontweight("bold" if r["option"] == decision else "normal")
    scenario = by[decision].get("scenario")
    fig.suptitle("Cost and risk of each option, from the ADR's evidence runs"
                 + ("\n" + textwrap.fill(scenario, 110) if scenario else ""), fontsize=11)
    return fig


def _cost(ax, rows, ys, price, currency) -> None:
    values = [r["storage_gb"] * (price if price is not None else 1) for r in rows]
    ax.barh(list(ys), values, color=OKABE_ITO["blue"], edgecolor="black", height=0.6)
    days = next((r.get("days") for r in rows if r.get("days")), None)
    after = f" after {days:g} days" if days else ""
    ax.set_xlabel(f"{currency} per month{after}\n(at {currency}{price:.2f} per GB-month, assumed)"
                  if price is not None else f"GB held{after}\n(all replicas)")
    ax.set_title("Cost: storage", fontsize=10)
    _labels(ax, ys, values, lambda v: (f"{currency}{v:,.0f}" if price is not None and v >= 100
                                          else f"{currency}{v:,.2f}" if price is not None else f"{v:,.0f} GB"))


def _risk(ax, rows, ys) -> None:
    left = [0.0] * len(rows)
    for metric, label, color, hatch in HARMS:
        widths = [float(r[metric]) for r in rows]
        ax.barh(list(ys), widths, left=left, color=color, hatch=hatch, edgecolor="black", height=0.6, label=label)
        left = [a + b for a, b in zip(left, widths)]
    orders = max(r["orders"] for r in rows)
    ax.set_xlabel(f"orders harmed\n(of {orders:,} in the simulated window)")
    ax.set_title("Risk: orders harmed", fontsize=10)
    _labels(ax, ys, left, lambda v: f"{v:,.0f}")
    ax.legend(handles=[Patch(facecolor=c, hatch=h, edgecolor="black", label=lab) for _, lab, c, h in HARMS],
              fontsize=8, loc="lower right")


def _audit(ax, rows, ys) -> None:
    values = [r["audit_completeness_pct"] for r in rows]
    ax.barh(list(ys), values, color=OKABE_ITO["green"], edgecolor="black", height=0.6)
    ax.set_xlim(0, 125)
    ax.set_xlabel("% of the period's order events\nstill readable at its end")
    ax.set_title("Risk: history kept for audits", fontsize=10)
    _labels(ax, ys, values, lambda v: f"{v:.0f}%")


def _labels(ax, ys, values, fmt) -> None:
    top = max(values) if max(values) > 0 else 1.0
    if not ax.get_autoscalex_on():
        top = ax.get_xlim()[1] / 1.25
    else:
        ax.set_xlim(0, top * 1.3)
    for y, v in zip(ys, values):
        ax.text(v + 0.02 * top, y, fmt(v), va="center", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
