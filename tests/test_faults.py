import math

import pytest

from engine import FaultPlan, WorkflowError


def test_plans_are_immutable_and_chainable():
    base = FaultPlan()
    plan = base.partition("orchestrator", "inventory-service", start=2, end=8).crash("orchestrator", at=3,
                                                                                      restart_after=5)
    assert len(base) == 0 and len(plan) == 2
    assert plan.nodes() == ["orchestrator", "inventory-service"]


def test_yaml_round_trip_is_exact():
    plan = (FaultPlan().partition("a", "b", start=2.123456789, end=8, one_way=True)
            .crash("orchestrator", after="process-payment", restart_after=5.0, instance=3)
            .crash("broker", at=1.5)
            .fail("payment-service", rate=0.5, start=0.1, end=10, error="CardDeclined")
            .slow("payment-service", factor=10).slow("a", "b", factor=2)
            .loss(rate=0.1).duplicate("broker", None, rate=0.2))
    again = FaultPlan.from_yaml(plan.to_yaml())
    assert again == plan
    assert math.isinf(again.faults[0].end) is False and again.faults[0].start == 2.123456789


def test_yaml_written_by_hand():
    plan = FaultPlan.from_yaml("""
faults:
  - partition: [orchestrator, inventory-service]
    start: 2s
    end: 8s
  - crash: orchestrator
    at: 3s
    restart_after: 5s
  - loss: ["*", "*"]
    rate: 0.1
""")
    assert [f.kind for f in plan] == ["partition", "crash", "loss"]
    assert plan.faults[0].end == 8.0 and plan.faults[2].nodes == (None, None)


@pytest.mark.parametrize("text,code_path_line", [
    ("faults:\n  - crash: orchestrator\n    att: 3s\n", ("bad-fault", "faults[0].att", 3)),
    ("faults:\n  - crash: orchestrator\n    at: 3\n", ("bad-fault", "faults[0].at", 3)),
    ("faults:\n  - crashh: orchestrator\n", ("bad-fault", "faults[0]", 2)),
    ("faults:\n  - fail: payment-service\n    rate: 2\n", ("bad-fault", "faults[0].fail", 2)),
    ("faults:\n  - partition: [a]\n", ("bad-fault", "faults[0].partition", 2)),
    ("faults:\n  - crash: a\n    at: 1s\n    after: x\n", ("bad-fault", "faults[0].crash", 2)),
    ("fautls: []\n", ("bad-fault", "fautls", 1)),
    ("faults:\n  - crash: a\n    at: &x 1s\n", ("yaml-anchor", None, 3)),
])
def test_bad_fault_files_are_located(text, code_path_line):
    with pytest.raises(WorkflowError) as err:
        FaultPlan.from_yaml(text, source="plan.yaml")
    d = err.value.diagnostics[0]
    code, path, line = code_path_line
    assert d.code == code and d.line == line and (path is None or d.path == path)
    assert str(err.value).startswith(f"plan.yaml:{line}:")


@pytest.mark.parametrize("make,fragment", [
    (lambda p: p.crash("x"), "exactly one of at="),
    (lambda p: p.partition("a", "b", start=5, end=1), "start < end"),
    (lambda p: p.fail("a", rate=1.5), "probability"),
    (lambda p: p.slow("a", factor=0), "positive"),
])
def test_bad_python_faults(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make(FaultPlan())


def test_describe_reads_well():
    plan = FaultPlan().partition("a", "b", start=2, end=8).crash("o", at=3, restart_after=5)
    assert plan.describe() == ["partition a ↔ b (2s–8s)", "crash o (at 3s, restart after 5s)"]
