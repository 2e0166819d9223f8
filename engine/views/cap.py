"""The CAP playground: partition a replicated register and watch availability and consistency trade.

    from engine.views import cap_playground
    cap_playground()

Client A sits with replica-1; the switches cut the network between the two
sides for a while, choose CP (majority quorums) or AP (local replica, last
writer wins, or siblings), and R/W by hand. The status line says each client's
availability, the stale reads and the linearizability checker's verdict.
"""

from __future__ import annotations

import html

import ipywidgets as w

from ..faults import FaultPlan
from ..kv import simulate_kv
from .history import plot_history
from .redraw import SvgCanvas

__all__ = ["CapPlayground", "cap_playground"]

_SLIDER = {"continuous_update": False, "style": {"description_width": "initial"}}
SIDES = {
    "A with replica-1 (minority)": ["replica-1"],
    "A with replica-1 and replica-2 (majority)": ["replica-1", "replica-2"],
}


class CapPlayground(w.VBox):
    """Controls over `engine.kv.simulate_kv`; `.run` is the latest `KVRun`."""

    def __init__(self, *, seed: int = 1, ops_per_client: int = 16) -> None:
        self.ops = ops_per_client
        self.consistency = w.ToggleButtons(options=[("CP (majority quorums)", "cp"), ("AP (local replica)", "ap")],
                                           value="cp", description="store")
        self.partition = w.Checkbox(value=True, description="partition the network", indent=False)
        self.side = w.Dropdown(options=list(SIDES), value=list(SIDES)[0], description="side",
                               layout={"width": "420px"})
        self.window = w.FloatRangeSlider(value=(1.0, 4.0), min=0, max=8, step=0.1, description="from–to (s)",
                                         **_SLIDER)
        self.r = w.IntSlider(value=2, min=1, max=3, description="R", **_SLIDER)
        self.w = w.IntSlider(value=2, min=1, max=3, description="W", **_SLIDER)
        self.manual = w.Checkbox(value=False, description="set R and W by hand", indent=False)
        self.write_back = w.Checkbox(value=True, description="read writes back (read repair)", indent=False)
        self.conflicts = w.ToggleButtons(options=[("last writer wins", "lww"), ("keep siblings", "siblings")],
                                         value="lww", description="conflicts")
        self.seed = w.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed", layout={"width": "160px"})
        self.status = w.HTML()
        self.canvas = SvgCanvas((11, 4.0))
        for c in (self.consistency, self.partition, self.side, self.window, self.r, self.w, self.manual,
                  self.write_back, self.conflicts, self.seed):
            c.observe(lambda _change: self.update(), names="value")
        self.add_class("sde-cap-playground")
        for key, control in (("consistency", self.consistency), ("partition-on", self.partition),
                             ("side", self.side), ("status", self.status), ("plot", self.canvas.image),
                             ("r", self.r), ("w", self.w), ("manual", self.manual)):
            control.add_class(f"sde-{key}")  # stable names for browser tests
        super().__init__([self.consistency, w.HBox([self.partition, self.side]), self.window,
                          w.HBox([self.manual, self.r, self.w, self.write_back]), w.HBox([self.conflicts, self.seed]),
                          self.status, self.canvas.image])
        self.update()

    def faults(self) -> FaultPlan:
        if not self.partition.value:
            return FaultPlan()
        with_a = SIDES[self.side.value]
        others = [f"replica-{k}" for k in (1, 2, 3) if f"replica-{k}" not in with_a]
        start, end = self.window.value
        if end <= start:
            return FaultPlan()
        return FaultPlan().split(["client-a", *with_a], ["client-b", *others], start=start, end=end)

    def update(self) -> None:
        manual = self.manual.value
        self.r.disabled = self.w.disabled = self.write_back.disabled = not manual
        kwargs = {"r": self.r.value, "w": self.w.value, "write_back": self.write_back.value} if manual else {}
        self.run = simulate_kv(consistency=self.consistency.value, conflicts=self.conflicts.value,
                               faults=self.faults(), seed=int(self.seed.value), ops_per_client=self.ops, **kwargs)
        result = self.run.check()
        verdict = ("<b style='color:#009E73'>linearizable? true</b>" if result.valid else
                   f"<b style='color:#D55E00'>linearizable? false</b> — {html.escape(result.explanation)}")
        summary = html.escape(self.run.summary()).replace("\n", "<br>")
        self.status.value = f"<div style='font-family:monospace'>{summary}<br>{verdict}</div>"
        self.canvas.draw(lambda ax: plot_history(self.run, ax=ax))


def cap_playground(**kwargs) -> CapPlayground:
    return CapPlayground(**kwargs)
