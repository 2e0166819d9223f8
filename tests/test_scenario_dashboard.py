"""Scenarios replay exactly; the failure-injection dashboard reacts to its controls."""

import matplotlib
import pytest

matplotlib.use("Agg")

from engine import FaultPlan, WorkflowError  # noqa: E402
from engine.scenario import Scenario  # noqa: E402
from engine.views import failure_dashboard  # noqa: E402


def test_scenario_yaml_round_trip_replays_the_same_trace(wf):
    scenario = Scenario(mode="choreography", seed=7, orders=40, arrival_rate=20,
                        services={"payment-service": {"failure_rate": 0.3, "idempotent": True}},
                        faults=FaultPlan().crash("payment-service", at=0.5, restart_after=1.0))
    again = Scenario.from_yaml(scenario.to_yaml())
    assert again == scenario
    assert again.run(wf).trace.digest() == scenario.run(wf).trace.digest()


def test_a_scenario_file_is_also_a_fault_plan(wf):
    scenario = Scenario(faults=FaultPlan().partition("orchestrator", "broker", start=1, end=2))
    with pytest.raises(WorkflowError, match="unknown key 'mode'"):
        FaultPlan.from_yaml(scenario.to_yaml())  # a plain fault plan rejects a scenario's other keys...
    from engine.faultfile import parse_fault_plan

    assert parse_fault_plan(scenario.to_yaml(), scenario_keys=True) == scenario.faults  # ...unless told


def test_bad_scenario_keys_are_located():
    with pytest.raises(WorkflowError, match=r"<scenario>:2:1: error\[unknown-key\] sed: .*did you mean 'seed'"):
        Scenario.from_yaml("mode: orchestration\nsed: 3\n")


@pytest.fixture
def dash(wf):
    return failure_dashboard(wf, orders=60, arrival_rate=20)


def test_dashboard_starts_healthy(dash):
    assert "<b>60</b> completed" in dash.status.value and "valid? true" in dash.status.value
    assert bytes(dash.image.value).startswith(b"<?xml") and b"<svg" in bytes(dash.image.value)


def test_failure_rate_slider_changes_the_outcome(dash):
    dash.services["payment-service"]["failure_rate"].value = 0.5
    counts = {i.status for i in dash.run.instances}
    assert "compensated" in counts and "compensated" in dash.status.value


def test_partition_and_crash_switches(dash):
    dash.partition["a"].value, dash.partition["b"].value = "orchestrator", "payment-service"
    dash.partition["on"].value = True
    assert "partition orchestrator ↔ payment-service" in dash.status.value
    assert dash.run.summary().timeouts > 0
    dash.crash["on"].value = True
    assert "crash orchestrator" in dash.status.value and dash.run.trace.of("instance-resumed")


def test_choreography_drops_faults_on_the_orchestrator(dash):
    dash.crash["on"].value = True
    dash.mode.value = "choreography"
    assert dash.scenario().faults == FaultPlan()
    assert dash.run.mode == "choreography" and "no faults" in dash.status.value


def test_export_replays_what_the_dashboard_shows(dash, wf):
    dash.services["shipping-service"]["failure_rate"].value = 0.2
    dash.services["payment-service"]["median_ms"].value = 80
    dash.crash["on"].value = True
    dash.export.click()
    replay = Scenario.from_yaml(dash.exported.value).run(wf)
    assert replay.trace.digest() == dash.run.trace.digest()
    assert "lognormal" in dash.exported.value


def test_choosing_an_instance_keeps_it(dash):
    dash.services["payment-service"]["failure_rate"].value = 0.5
    chosen = dash.run.instances[3].id
    before = bytes(dash.image.value)
    dash.instance.value = chosen
    assert dash.instance.value == chosen and bytes(dash.image.value) != before
    assert f"instance {chosen}".encode() in bytes(dash.image.value)


def test_cap_playground_shows_the_trade():
    from engine.views import cap_playground

    cap = cap_playground(seed=1)
    assert "linearizable? true" in cap.status.value and "client-a 100%" not in cap.status.value  # CP minority
    cap.consistency.value = "ap"
    assert "linearizable? false" in cap.status.value and "stale read" in cap.status.value
    assert cap.run.availability == {"client-a": 1.0, "client-b": 1.0}
    cap.partition.value = False
    assert "linearizable? true" in cap.status.value
    cap.manual.value = True
    assert not cap.r.disabled
    assert b"<svg" in bytes(cap.canvas.image.value)


def test_plot_history_marks_stale_reads_and_the_counterexample():
    from engine.kv import simulate_kv
    from engine.views import plot_history

    split = FaultPlan().split(["client-a", "replica-1"], ["client-b", "replica-2", "replica-3"], start=1, end=4)
    kv = simulate_kv(consistency="ap", faults=split, seed=1)
    fig = plot_history(kv)
    ax = fig.axes[0]
    assert "linearizable? false" in ax.get_title() and ax.get_xlabel() == "simulated time (s)"
    assert len(ax.lines) == len(kv.check().counterexample)
    assert len(ax.patches) == len([e for e in kv.history if e["type"] != "invoke"]) + 1  # + the partition


def test_storm_control_shows_collapse_and_its_fix():
    from engine.views import storm_control

    storm = storm_control()
    assert "never (still collapsed at the end)" in storm.status.value
    storm.throttle.value = True
    assert "healthy again from: 15s" in storm.status.value
    storm.attempts.value = 1
    assert "no retries" in storm.status.value
