"""The failure-injection dashboard: sliders and switches in, timeline and verdict out.

    from engine.views import failure_dashboard
    failure_dashboard(wf)             # in a notebook cell

Every change re-runs the simulation and redraws in place: the status counts,
the invariant verdict and one instance's timeline. "Export scenario" writes
the clicked scenario as YAML that `engine.Scenario.from_yaml(...).run(wf)`
replays exactly.
"""

from __future__ import annotations

import html

import ipywidgets as w

from ..faults import FaultPlan
from ..scenario import Scenario
from .redraw import SvgCanvas
from .timeline import plot_timeline

__all__ = ["FailureDashboard", "failure_dashboard"]

_SLIDER = {"continuous_update": False, "style": {"description_width": "initial"}}
_STATUS_COLOURS = {"completed": "#009E73", "compensated": "#E69F00", "needs_intervention": "#D55E00",
                   "failed": "#CC79A7", "running": "#000000"}


class FailureDashboard(w.VBox):
    """A VBox of controls over one workflow; `.run` is the latest `Run`, `.update()` redraws."""

    def __init__(self, wf, *, orders: int = 200, arrival_rate: float = 20.0, seed: int = 0,
                 mode: str = "orchestration") -> None:
        self.wf = wf
        self.run = None
        horizon = max(5.0, orders / arrival_rate + 5.0)
        self.mode = w.ToggleButtons(options=["orchestration", "choreography"], value=mode, description="mode")
        self.seed = w.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed", layout={"width": "160px"})
        self.orders = w.IntSlider(value=orders, min=1, max=1000, description="orders", **_SLIDER)
        self.rate = w.FloatSlider(value=arrival_rate, min=1, max=100, step=1, description="orders/s", **_SLIDER)
        self.services = {name: self._service_row(wf, name) for name in wf.service_names}
        self.partition = self._partition_row(horizon)
        self.crash = self._crash_row(horizon)
        self.instance = w.Dropdown(description="timeline of", options=[("auto", -1)], value=-1)
        self.status = w.HTML()
        self.canvas = SvgCanvas((11, 4.6))
        self.image = self.canvas.image
        self.export = w.Button(description="Export scenario", icon="download")
        self.exported = w.Textarea(layout={"width": "100%", "height": "12em", "display": "none"})
        self.export.on_click(self._export)
        for control in self._controls():
            control.observe(self._changed, names="value")
        self._name_for_browsers()
        rows = [w.HBox([self.mode, self.seed]), w.HBox([self.orders, self.rate]),
                w.HTML("<b>Services</b> — failure rate, median latency (ms), idempotency keys"),
                *[w.HBox([w.Label(name, layout={"width": "170px"}), *row.values()])
                  for name, row in self.services.items()],
                w.HTML("<b>Partition</b>"), w.HBox(list(self.partition.values())),
                w.HTML("<b>Crash</b>"), w.HBox(list(self.crash.values())),
                self.status, self.instance, self.image, w.HBox([self.export]), self.exported]
        super().__init__(rows)
        self.update()

    # -- controls ---------------------------------------------------------------------
    def _name_for_browsers(self) -> None:
        """Stable CSS classes, so a browser test (or a learner's own script) can find each control."""
        self.add_class("sde-failure-dashboard")
        for name, row in self.services.items():
            for key, control in row.items():
                control.add_class(f"sde-{key.replace('_', '-')}").add_class(f"sde-service-{name}")
        for key, control in [*self.partition.items(), *((f"crash-{k}", c) for k, c in self.crash.items())]:
            control.add_class(f"sde-{'partition-' + key if not key.startswith('crash') else key}")
        for key, control in (("mode", self.mode), ("seed", self.seed), ("status", self.status),
                             ("plot", self.image), ("export", self.export), ("exported", self.exported)):
            control.add_class(f"sde-{key}")

    def _service_row(self, wf, name: str) -> dict:
        profile = wf.profile(name)
        median_ms = max(1.0, round(profile.latency.quantile(0.5) * 1000))
        return {
            "failure_rate": w.FloatSlider(value=profile.failure_rate, min=0, max=1, step=0.01, **_SLIDER),
            "median_ms": w.FloatLogSlider(value=median_ms, base=10, min=0, max=3.5, **_SLIDER),
            "idempotent": w.Checkbox(value=profile.idempotent, description="idempotent", indent=False),
        }

    def _nodes(self) -> list[str]:
        return ["orchestrator", "broker", *self.wf.service_names]

    def _partition_row(self, horizon: float) -> dict:
        nodes = self._nodes()
        return {
            "on": w.Checkbox(value=False, description="on", indent=False, layout={"width": "50px"}),
            "a": w.Dropdown(options=nodes, value=nodes[0], layout={"width": "170px"}),
            "b": w.Dropdown(options=nodes, value=nodes[2] if len(nodes) > 2 else nodes[-1], layout={"width": "170px"}),
            "one_way": w.Checkbox(value=False, description="a → b only", indent=False),
            "window": w.FloatRangeSlider(value=(1.0, min(horizon, 6.0)), min=0, max=horizon, step=0.1,
                                         description="from–to (s)", **_SLIDER),
        }

    def _crash_row(self, horizon: float) -> dict:
        return {
            "on": w.Checkbox(value=False, description="on", indent=False, layout={"width": "50px"}),
            "node": w.Dropdown(options=self._nodes(), value="orchestrator", layout={"width": "170px"}),
            "at": w.FloatSlider(value=1.0, min=0, max=horizon, step=0.1, description="at (s)", **_SLIDER),
            "restart_after": w.FloatSlider(value=2.0, min=0.1, max=30, step=0.1, description="down for (s)",
                                           **_SLIDER),
        }

    def _controls(self):
        yield from (self.mode, self.seed, self.orders, self.rate, self.instance)
        for row in self.services.values():
            yield from row.values()
        yield from self.partition.values()
        yield from self.crash.values()

    # -- the scenario the controls describe -------------------------------------------------
    def scenario(self) -> Scenario:
        services = {}
        for name, row in self.services.items():
            base = self.wf.profile(name)
            spec = {"failure_rate": round(row["failure_rate"].value, 4), "idempotent": row["idempotent"].value}
            if base.tombstones and not spec["idempotent"]:
                spec["tombstones"] = False  # they live in the idempotency table the learner just switched off
            median = round(row["median_ms"].value, 3)
            if abs(median - base.latency.quantile(0.5) * 1000) > 1e-6:
                sigma = getattr(base.latency, "sigma", 0.5)
                spec["latency"] = {"dist": "lognormal", "median": f"{median}ms", "sigma": sigma}
            services[name] = spec
        plan = FaultPlan()
        p, c = self.partition, self.crash
        if p["on"].value and p["a"].value != p["b"].value:
            start, end = p["window"].value
            if end > start:
                plan = plan.partition(p["a"].value, p["b"].value, start=start, end=end, one_way=p["one_way"].value)
        if c["on"].value and (self.mode.value == "orchestration" or c["node"].value != "orchestrator"):
            plan = plan.crash(c["node"].value, at=c["at"].value, restart_after=c["restart_after"].value)
        if self.mode.value == "choreography":  # there is no orchestrator to partition or crash
            plan = FaultPlan(tuple(f for f in plan if "orchestrator" not in f.nodes))
        return Scenario(mode=self.mode.value, seed=int(self.seed.value), orders=int(self.orders.value),
                        arrival_rate=float(self.rate.value), services=services, faults=plan)

    # -- updating --------------------------------------------------------------------------
    def _changed(self, change) -> None:
        if change["owner"] is self.instance:
            self._redraw()  # same run, another instance: no need to simulate again
        else:
            self.update()

    def update(self) -> None:
        """Re-run the scenario; redraw the verdict and the timeline."""
        scenario = self.scenario()
        self.run = scenario.run(self.wf)
        self.status.value = _status_html(self.run, self.run.check(), scenario)
        instances = self.run.instances
        self.auto = next((x.id for x in instances if x.status != "completed"), instances[0].id if instances else None)
        options = [(f"auto (instance {self.auto})", -1)] + [(f"{x.id}: {x.status}", x.id) for x in instances[:200]]
        self.instance.unobserve(self._changed, names="value")
        self.instance.options = options  # resets the choice to "auto": the instances are new
        self.instance.value = -1
        self.instance.observe(self._changed, names="value")
        self._redraw()

    def _redraw(self) -> None:
        shown = self.auto if self.instance.value == -1 else self.instance.value
        if shown is None:
            self.canvas.clear()
        else:
            self.canvas.draw(lambda ax: plot_timeline(self.run, shown, ax=ax))

    def _export(self, _button=None) -> None:
        self.exported.value = self.scenario().to_yaml()
        self.exported.layout.display = None


def _status_html(run, report, scenario) -> str:
    s = run.summary()
    counts = " · ".join(f"<span style='color:{_STATUS_COLOURS[k]}'><b>{v}</b> {k}</span>"
                        for k, v in s.statuses.items() if v)
    p99 = s.latency["p99"]
    lat = "—" if p99 != p99 else f"{p99 * 1000:.0f} ms"
    verdict = ("<span style='color:#009E73'><b>valid? true</b></span>" if report.ok else
               "<span style='color:#D55E00'><b>valid? false</b></span><br>"
               + "<br>".join(html.escape(str(v)) for v in report.violations[:5]))
    faults = "; ".join(scenario.faults.describe()) or "no faults"
    return (f"<div style='font-family:monospace'>{counts}<br>p99 latency {lat} · {s.retries} retries · "
            f"{s.timeouts} timeouts · {s.duplicate_effects} duplicate effect(s) · {s.dead_letters} dead letter(s) · "
            f"{faults}<br>{verdict}</div>")


def failure_dashboard(wf, **kwargs) -> FailureDashboard:
    """The failure-injection dashboard for workflow `wf` (see `FailureDashboard`)."""
    return FailureDashboard(wf, **kwargs)
