"""engine.views: every plot draws what the trace says, labelled, on runs full of faults."""

import io
import random
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import pytest
from matplotlib.figure import Figure

import engine
import engine.views as views
from engine.views import plot_dag, plot_latency_cdf, plot_sequence, plot_sweep, plot_timeline
from engine.views.style import DROPPED

from conftest import ROOT

ORDERS = 20


@pytest.fixture(scope="module")
def runs(wf):
    """Both modes with crashes, partitions and failures: timeouts, retries and compensations happen."""
    common = {"seed": 1, "orders": ORDERS, "arrival_rate": 5, "services": {"payment-service": {"failure_rate": 0.3}}}
    orch = engine.simulate(wf, **common, faults=engine.FaultPlan()
                           .crash("orchestrator", at=0.5, restart_after=2.0)
                           .partition("orchestrator", "payment-service", start=1, end=3))
    cho = engine.simulate(wf, mode="choreography", **common, faults=engine.FaultPlan()
                          .crash("inventory-service", at=0.5, restart_after=2.0)
                          .partition("broker", "payment-service", start=1, end=3))
    return {"orchestration": orch, "choreography": cho}


def having(run, kind):
    """The first instance whose trace holds an event of `kind`."""
    return next(e.instance for e in run.trace if e.kind == kind and e.instance is not None)


def count(run, instance, kind):
    return sum(1 for e in run.trace.for_instance(instance) if e.kind == kind)


def gids(fig, prefix):
    ax = fig.axes[0]
    return [a for a in ax.patches + ax.lines + ax.texts if (a.get_gid() or "").startswith(prefix)]


def labelled(fig):
    """Every axes of the figure has a title and both axis labels (or tick labels standing in)."""
    ax = fig.axes[0]
    return bool(ax.get_title()) and bool(ax.get_xlabel()) and bool(ax.get_ylabel() or ax.get_yticklabels())


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    return buf.getvalue()


# -- every view ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", engine.MODES)
@pytest.mark.parametrize("view", [plot_timeline, plot_sequence])
def test_instance_views_are_labelled_and_render(runs, mode, view):
    run = runs[mode]
    for instance in (0, having(run, "step-compensated"), having(run, "message-dropped")):
        fig = view(run, instance)
        assert isinstance(fig, Figure)
        assert labelled(fig)
        assert f"instance {instance}" in fig.axes[0].get_title()
        assert "simulated time (s)" in (fig.axes[0].get_xlabel() + fig.axes[0].get_ylabel())
        assert png(fig).startswith(b"\x89PNG")


def test_every_view_draws_on_a_given_axes_and_returns_its_figure(wf, runs):
    rows = engine.sweep(wf, seeds=range(2), orders=5, executor="serial", progress=False,
                        grid={"services.payment-service.failure_rate": [0.0, 0.5]})
    calls = [lambda ax: plot_dag(wf, ax=ax), lambda ax: plot_timeline(runs["orchestration"], ax=ax),
             lambda ax: plot_sequence(runs["choreography"], ax=ax), lambda ax: plot_latency_cdf(runs, ax=ax),
             lambda ax: plot_sweep(rows, "services.payment-service.failure_rate", "latency.p50", ax=ax)]
    for call in calls:
        fig = Figure()
        ax = fig.add_subplot()
        assert call(ax) is fig
        assert len(fig.axes) == 1 and labelled(fig)
        png(fig)


def test_public_names_are_the_views_and_dashboards():
    assert views.__all__ == ["plot_dag", "plot_timeline", "plot_sequence", "plot_latency_cdf", "plot_sweep",
                             "plot_history", "plot_storm", "failure_dashboard", "FailureDashboard",
                             "cap_playground", "CapPlayground", "storm_control", "StormControl",
                             "show_source", "plot_memory", "plot_cpu_step", "plot_cancellation"]
    assert all(callable(getattr(views, name)) for name in views.__all__)


def test_figures_show_themselves_in_jupyter_without_pyplot(wf):
    formatters = pytest.importorskip("IPython.core.formatters")  # Jupyter's way of showing a value
    fig = plot_dag(wf)
    assert formatters.PNGFormatter()(fig).startswith(b"\x89PNG")


def test_import_engine_does_not_import_matplotlib():
    code = "import engine, sys; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_views_never_touch_pyplot():
    # pyplot keeps global figures: a view that used it would show twice in Jupyter and leak memory.
    code = "import engine.views, sys; assert 'matplotlib.pyplot' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# -- the DAG ---------------------------------------------------------------------------------------------

def test_dag_draws_every_step_edge_and_the_critical_path(wf):
    fig = plot_dag(wf)
    path = wf.critical_path()
    assert len(gids(fig, "step:")) == len(wf.steps)
    edges = sum(len(s.depends_on) for s in wf.steps)
    assert len(gids(fig, "edge")) + len(gids(fig, "critical-edge")) == edges
    assert len(gids(fig, "critical-edge")) == len(path.steps) - 1
    assert len(gids(fig, "compensation:")) == sum(s.compensable for s in wf.steps) == 2
    assert "critical path" in fig.axes[0].get_title()
    assert labelled(fig)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("sync-task" in t for t in legend) and any("fire-and-forget" in t for t in legend)


def random_workflow(n: int, seed: int) -> str:
    """A random DAG of `n` steps of every type, some compensable, in the DSL."""
    rng = random.Random(seed)
    steps, flows = [], []
    for i in range(n):
        kind = "sync-task" if i == 0 else rng.choice(["sync-task", "async-task", "fire-and-forget"])
        target = f"endpoint: /s{i}" if kind == "sync-task" else f"topic: s{i}.do"
        deps = sorted({f"step-{rng.randrange(max(0, i - 5), i):02d}" for _ in range(rng.randint(1, 2))} if i else ())
        steps.append(f"  - name: step-{i:02d}\n    type: {kind}\n    service: svc-{i % 6}\n    {target}\n"
                     + (f"    depends_on: [{', '.join(deps)}]\n" if deps else ""))
        if kind != "fire-and-forget" and rng.random() < 0.3:
            flows.append(f"  step-{i:02d}:\n    - service: svc-{i % 6}\n      topic: s{i}.undo\n")
    return ("name: random-dag\nversion: 1.0\nworkflow:\n" + "".join(steps)
            + ("compensation_flows:\n" + "".join(flows) if flows else ""))


def test_dag_takes_latencies_and_a_twenty_step_random_dag():
    wf = engine.parse_workflow(random_workflow(20, seed=3))
    assert len(wf.generations) > 4 and any(s.compensable for s in wf.steps)
    fig = plot_dag(wf, latencies=lambda step: 0.5)
    path = wf.critical_path(lambda step: 0.5)
    assert len(gids(fig, "step:")) == 20
    assert len(gids(fig, "critical-edge")) == len(path.steps) - 1
    assert f"critical path {path.length:.3g} s" in fig.axes[0].get_title()
    assert fig.get_figwidth() <= 16
    png(fig)
    run = engine.simulate(wf, seed=2, orders=2, services={"svc-3": {"failure_rate": 0.5}})
    for view in (plot_timeline, plot_sequence):
        assert labelled(view(run, 1))


# -- the timeline -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", engine.MODES)
def test_timeline_has_one_bar_per_attempt_compensation_and_work(runs, mode):
    run = runs[mode]
    for instance in range(ORDERS):
        fig = plot_timeline(run, instance)
        assert len(gids(fig, "attempt:")) == count(run, instance, "attempt-started")
        assert len(gids(fig, "compensation:")) == count(run, instance, "compensation-started")
        assert len(gids(fig, "work:")) == count(run, instance, "work")
        # Every attempt of a finished instance has an outcome: none is drawn as open.
        assert not gids(fig, "attempt:open") and not gids(fig, "compensation:open")


def test_timeline_hatches_timeouts_and_compensations(runs):
    run = runs["orchestration"]
    fig = plot_timeline(run, having(run, "attempt-timeout"))
    timeouts = gids(fig, "attempt:timeout")
    assert timeouts and all(p.get_hatch() for p in timeouts)
    assert all(p.get_hatch() for p in gids(fig, "compensation:"))
    assert not any(p.get_hatch() for p in gids(fig, "attempt:ok"))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "attempt timed out (indefinite)" in legend and "compensation ok" in legend


def test_timeline_shows_crash_downtime_and_retry_waits(runs):
    run = runs["orchestration"]
    # Instance 2 arrived while the orchestrator was down, and its refund was retried twice.
    fig = plot_timeline(run, 2)
    assert gids(fig, "crash")
    assert len(gids(fig, "retry-wait")) == count(run, 2, "compensation-retry-scheduled") == 2
    assert gids(fig, "resumed")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][0] == "orchestrator"
    cho = runs["choreography"]
    assert "orchestrator" not in [t.get_text() for t in plot_timeline(cho, 0).axes[0].get_yticklabels()]


def test_timeline_and_sequence_of_an_instance_that_never_finished(wf):
    run = engine.simulate(wf, seed=3, orders=1, until=0.05, faults=engine.FaultPlan().crash("orchestrator", at=0.02))
    assert run.instances[0].status == "running"
    fig = plot_timeline(run, 0)
    assert "never finished" in fig.axes[0].get_title()
    assert gids(fig, "attempt:open") and gids(fig, "crash")
    assert labelled(plot_sequence(run, 0))


@pytest.mark.parametrize("view", [plot_timeline, plot_sequence])
def test_a_missing_instance_is_a_clear_error(runs, view):
    with pytest.raises(ValueError, match=r"instance 99 does not exist; this run's instance ids are 0–19"):
        view(runs["orchestration"], 99)


# -- the sequence diagram ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", engine.MODES)
def test_sequence_draws_every_message_and_crosses_out_the_dropped(runs, mode):
    run = runs[mode]
    instance = having(run, "message-dropped")
    fig = plot_sequence(run, instance)
    ax = fig.axes[0]
    events = [e for e in run.trace.for_instance(instance) if e.kind in ("message", "message-dropped")]
    # Messages with the same ends and times share one arrow (their labels joined).
    delivered = {(e.node, e.peer, e.start, e.time) for e in events if e.kind == "message"}
    dropped = {(e.node, e.peer, e.start, e.time) for e in events if e.kind == "message-dropped"}
    arrows = [c for c in ax.texts if type(c).__name__ == "Annotation"]
    assert len(arrows) == len(delivered)
    crosses = [t for t in ax.texts if t.get_gid() == "dropped" and t.get_text() == "✕"]
    assert len(crosses) == len(dropped) > 0
    assert all(matplotlib.colors.same_color(t.get_color(), DROPPED) for t in crosses)
    reasons = {e.info for e in events if e.kind == "message-dropped"}
    assert reasons <= {t.get_text().strip() for t in ax.texts}
    assert ax.yaxis_inverted()
    lanes = [t.get_text().replace("\n", "") for t in ax.get_xticklabels()]
    assert lanes[lanes.index("broker") + 1:] == list(run.workflow.service_names)


def test_sequence_caps_the_messages_and_says_so(runs):
    fig = plot_sequence(runs["choreography"], 0, max_messages=5)
    assert "first 5 of" in fig.axes[0].get_title()
    assert len([c for c in fig.axes[0].texts if type(c).__name__ == "Annotation"]) <= 5


# -- latency CDF and sweeps -------------------------------------------------------------------------------

def test_latency_cdf_one_line_per_run_with_percentiles(runs):
    fig = plot_latency_cdf(runs)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "latency (s)" and ax.get_ylabel() == "fraction of instances"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 2 and all("p50" in t and "p95" in t and "p99" in t for t in legend)
    assert legend[0].startswith("orchestration (n=3)")
    assert len(gids(fig, "percentile")) == 2 * 2 * 3  # a dotted line and a marker per percentile per run
    assert plot_latency_cdf(runs["orchestration"], log=True).axes[0].get_xscale() == "log"


def test_latency_cdf_explains_a_run_without_latencies(wf, runs):
    empty = engine.simulate(wf, orders=0)
    fig = plot_latency_cdf({"empty": empty, "orchestration": runs["orchestration"]})
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "empty: no completed instances" in texts
    fig = plot_latency_cdf(runs["orchestration"], status="needs_intervention")
    assert "try status=None" in " ".join(t.get_text() for t in fig.axes[0].texts)
    assert labelled(fig)
    png(fig)


def test_an_empty_run(wf):
    empty = engine.simulate(wf, orders=0)
    for view in (plot_timeline, plot_sequence):
        with pytest.raises(ValueError, match="this run has no instances"):
            view(empty)
    assert labelled(plot_latency_cdf(empty))


def test_sweep_lines_bands_and_errors(wf):
    rows = engine.sweep(wf, seeds=range(3), orders=10, arrival_rate=10, executor="serial", progress=False,
                        grid={"services.payment-service.failure_rate": [0.0, 0.3, 0.6], "mode": list(engine.MODES)})
    fig = plot_sweep(rows, "services.payment-service.failure_rate", "status.completed", hue="mode")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == list(engine.MODES)
    assert all(len(line.get_xdata()) == 3 for line in ax.lines)
    assert len(ax.collections) == 2  # one min–max band per line
    assert ax.get_xlabel() == "services.payment-service.failure_rate" and ax.get_ylabel() == "status.completed"
    assert "3 seed(s)" in ax.get_title()
    first = [r["status.completed"] for r in rows
             if r["mode"] == "orchestration" and r["services.payment-service.failure_rate"] == 0.0]
    assert ax.lines[0].get_ydata()[0] == pytest.approx(sum(first) / len(first))
    cats = plot_sweep(rows, "mode", "latency.p95")
    assert [t.get_text() for t in cats.axes[0].get_xticklabels()] == list(engine.MODES)
    assert "(simulated s)" in cats.axes[0].get_ylabel()
    with pytest.raises(ValueError, match="no column 'latency.p59'.*latency.p95"):
        plot_sweep(rows, "mode", "latency.p59")
    with pytest.raises(ValueError, match="empty"):
        plot_sweep([], "mode", "ok")


def test_a_zoomed_timeline_and_history_show_only_their_window(runs):
    run = runs["orchestration"]
    full = plot_timeline(run, 0)
    lo, hi = full.axes[0].get_xlim()
    mid = (lo + hi) / 2
    fig = plot_timeline(run, 0, window=(lo, mid))
    ax = fig.axes[0]
    assert ax.get_xlim()[1] < hi and "from" in ax.get_title() and all(t.get_clip_on() for t in ax.texts)
    assert len(ax.patches) <= len(full.axes[0].patches)
    kv = engine.simulate_kv(consistency="ap", seed=1, ops_per_client=10)
    assert views.plot_history(kv, window=(0, 0.2)).axes[0].get_xlim() == (0, 0.2)
    for bad in ((1, 1), (2, 1), (0, float("nan")), "0-1", (True, 2), (1,)):
        with pytest.raises(ValueError, match=r"window is \(start, end\)"):
            plot_timeline(run, 0, window=bad)
