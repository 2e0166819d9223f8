"""Retry storms on screen: load over time (`plot_storm`) and a control panel (`storm_control`)."""

from __future__ import annotations

import html

import ipywidgets as w

from ..retry import JITTERS, RetryPolicy
from ..storm import simulate_storm
from .redraw import SvgCanvas
from .style import CRASH, OKABE_ITO, new_axes

__all__ = ["plot_storm", "storm_control", "StormControl"]

_SLIDER = {"continuous_update": False, "style": {"description_width": "initial"}}


def plot_storm(run, ax=None, bucket: float = 1.0):
    """Attempts sent, requests that succeeded and wasted server work, per second of simulated time."""
    s = run.series(bucket)
    fig, ax = new_axes(ax, (11.0, 4.0))
    start, end = run.settings["outage"]
    if end > start:
        ax.axvspan(start, end, color=CRASH["color"], alpha=0.4, lw=0, label="server down")
    capacity = run.settings["service_rate"]
    ax.axhline(capacity, color="black", lw=1, ls=":", label=f"server capacity ({capacity:g}/s)")
    ax.plot(s["time"], s["attempts"], color=OKABE_ITO["vermillion"], ls="-", label="attempts sent (offered load)")
    ax.plot(s["time"], s["goodput"], color=OKABE_ITO["green"], ls="--", label="requests that succeeded")
    ax.plot(s["time"], s["wasted"], color=OKABE_ITO["blue"], ls="-.",
            label="wasted work (client had already timed out)")
    ax.set_xlim(0, run.settings["duration"])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel(f"per second ({bucket:g} s buckets)")
    ax.set_title(f"retry storm · {run.settings['policy']}")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


class StormControl(w.VBox):
    """Sliders over `engine.storm.simulate_storm`; `.run` is the latest `StormRun`."""

    def __init__(self, *, seed: int = 1) -> None:
        self.attempts = w.IntSlider(value=3, min=1, max=8, description="max attempts", **_SLIDER)
        self.base = w.FloatLogSlider(value=1.0, base=10, min=-2, max=1, description="initial interval (s)", **_SLIDER)
        self.jitter = w.ToggleButtons(options=list(JITTERS), value="none", description="jitter")
        self.throttle = w.Checkbox(value=False, description="retry throttling (gRPC: 10 tokens, 0.1 per success)",
                                   indent=False)
        # 60 clients at 0.7 req/s against 60 req/s: busy (70%) but healthy, until the server goes down.
        # Small enough that a slider move re-simulates in ~30 ms.
        self.clients = w.IntSlider(value=60, min=10, max=120, step=5, description="clients", **_SLIDER)
        self.outage = w.FloatRangeSlider(value=(10, 15), min=0, max=30, step=1, description="server down (s)",
                                         **_SLIDER)
        self.synchronized = w.Checkbox(value=False, description="clients send in lockstep (thundering herd)",
                                       indent=False)
        self.seed = seed
        self.status = w.HTML()
        self.canvas = SvgCanvas((11, 4.0), rect=(0.08, 0.13, 0.9, 0.78))
        for c in (self.attempts, self.base, self.jitter, self.throttle, self.clients, self.outage, self.synchronized):
            c.observe(lambda _change: self.update(), names="value")
        super().__init__([w.HBox([self.attempts, self.base]), self.jitter, self.throttle,
                          w.HBox([self.clients, self.outage]), self.synchronized, self.status, self.canvas.image])
        self.update()

    def update(self) -> None:
        policy = RetryPolicy(max_attempts=self.attempts.value, initial_interval=self.base.value,
                             jitter=self.jitter.value)
        self.run = simulate_storm(clients=self.clients.value, capacity=3, duration=30.0, outage=self.outage.value,
                                  policy=policy,
                                  throttle=(10, 0.1) if self.throttle.value else None,
                                  synchronized=self.synchronized.value, seed=self.seed)
        self.status.value = f"<pre>{html.escape(str(self.run))}</pre>"
        self.canvas.draw(lambda ax: plot_storm(self.run, ax=ax))


def storm_control(**kwargs) -> StormControl:
    return StormControl(**kwargs)
