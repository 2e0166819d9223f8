"""The saga checker must catch what it claims to: each invariant broken on purpose."""

import pytest

from engine import FaultPlan, Run, Trace, simulate


def rerun(run, events):
    return Run(run.workflow, run.mode, run.seed, Trace(events), orders=run.orders, profiles=run.profiles)


@pytest.fixture(scope="module")
def compensated_run(wf):
    run = simulate(wf, seed=1, services={"shipping-service": {"failure_rate": 1.0}})
    assert run.instances[0].status == "compensated" and run.check().ok
    return run


def broken(run, invariant):
    report = run.check()
    assert not report.ok
    assert invariant in {v.invariant for v in report.violations}, report
    return report


def test_missing_compensation_is_caught(compensated_run):
    events = [e for e in compensated_run.trace if not (e.kind == "step-compensated" and e.step == "process-payment")]
    report = broken(rerun(compensated_run, events), "compensated-once")
    assert any(v.step == "process-payment" and v.instance == 0 for v in report.violations)


def test_double_compensation_is_caught(compensated_run):
    events = list(compensated_run.trace)
    extra = next(e for e in events if e.kind == "step-compensated")
    events.insert(events.index(extra) + 1, extra._replace(time=extra.time + 0.001))
    broken(rerun(compensated_run, events), "compensated-once")


def test_wrong_order_is_caught(wf):
    from engine import parse_workflow
    from test_orchestration import CHAIN

    run = simulate(parse_workflow(CHAIN), seed=5)
    events = list(run.trace)
    # pretend a's compensation began before c's finished
    a_start = next(e for e in events if e.kind == "compensation-started" and e.step == "a")
    c_done = next(e for e in events if e.kind == "step-compensated" and e.step == "c")
    events[events.index(a_start)] = a_start._replace(time=c_done.time - 0.5)
    broken(rerun(run, events), "compensation-order")


def test_start_before_dependency_is_caught(compensated_run):
    events = [e for e in compensated_run.trace if not (e.kind == "step-completed" and e.step == "validate-order")]
    broken(rerun(compensated_run, events), "deps-before-start")


def test_compensating_fire_and_forget_is_caught(compensated_run):
    events = list(compensated_run.trace)
    last = events[-1]
    events.append(last._replace(kind="compensation-started", step="send-confirmation", attempt=1))
    broken(rerun(compensated_run, events), "fire-and-forget-uncompensated")


def test_an_instance_that_never_ends_is_caught(compensated_run):
    events = [e for e in compensated_run.trace if e.kind != "instance-ended"]
    events = [e for e in events if e.kind != "step-compensated" or e.step != "reserve-inventory"]
    broken(rerun(compensated_run, events), "terminates")


def test_compensation_in_a_completed_instance_is_caught(wf):
    run = simulate(wf, seed=1)
    events = list(run.trace) + [run.trace[-1]._replace(kind="compensation-started", step="process-payment")]
    broken(rerun(run, events), "nothing-to-undo")


def test_double_effect_at_an_idempotent_service_is_caught(wf):
    run = simulate(wf, seed=1, services={"payment-service": {"idempotent": True}})
    effect = next(e for e in run.trace if e.kind == "effect" and e.node == "payment-service")
    broken(rerun(run, list(run.trace) + [effect]), "idempotent-effects")


def test_crash_without_restart_leaves_instances_unterminated(wf):
    run = simulate(wf, seed=2, orders=3, faults=FaultPlan().crash("orchestrator", at=0.01))
    report = broken(run, "terminates")
    assert report.statuses == {"running": 3}


def test_report_reads_like_a_checker(compensated_run):
    assert str(compensated_run.check()).startswith("valid? true")


def test_effect_invariants_catch_a_double_refund_and_pass_with_idempotency(wf):
    plan = FaultPlan().partition("payment-service", "orchestrator", one_way=True, start=0, end=12)
    run = simulate(wf, seed=3, faults=plan)
    assert run.check().ok  # the saga did what it promises...
    report = run.check(effects=True)  # ...but the refund was applied twice
    assert [(v.invariant, v.step) for v in report.violations] == [("all-or-nothing", "process-payment")]
    fixed = simulate(wf, seed=3, faults=plan, services={"payment-service": {"idempotent": True}})
    assert fixed.check(effects=True).ok


def test_a_late_charge_after_its_refund_is_caught_and_refused_with_tombstones(wf):
    # the charge is slowed past its 10 s timeout: the refund finds nothing to undo, then the charge commits
    slow = FaultPlan().slow("payment-service", factor=1000, start=0, end=1)
    keys = {"idempotent": True}
    late = simulate(wf, seed=3, faults=slow, services={"payment-service": keys})
    assert late.instances[0].status == "compensated" and late.check().ok
    assert [(v.invariant, v.step) for v in late.check(effects=True).violations] == [("all-or-nothing", "process-payment")]
    refused = simulate(wf, seed=3, faults=slow, services={"payment-service": {**keys, "tombstones": True}})
    assert refused.check(effects=True).ok
    assert [e.info for e in refused.trace.of("work") if e.step == "process-payment"] == [
        "nothing to undo", "AlreadyCompensated"]
    with pytest.raises(ValueError, match="set idempotent: true as well"):
        simulate(wf, seed=3, services={"payment-service": {"tombstones": True}})


def test_effect_once_catches_a_double_charge():
    from engine import parse_workflow

    text = """
name: pay
version: "1.0"
workflow:
  - {name: charge, type: sync-task, service: payment-service, endpoint: /charge, timeout: 1s,
     retry_policy: {max_attempts: 3}}
"""
    plan = FaultPlan().partition("payment-service", "orchestrator", one_way=True, start=0, end=1.5)
    run = simulate(parse_workflow(text), faults=plan)
    assert run.instances[0].status == "completed"
    assert "effect-once" in {v.invariant for v in run.check(effects=True).violations}


def test_compare_measures_both_runners(wf):
    from engine import compare

    kw = dict(seed=1, orders=50, arrival_rate=20)
    table = compare({"o": simulate(wf, **kw), "c": simulate(wf, mode="choreography", **kw)}).as_dict()
    assert table["who knows the status"] == {"o": "orchestrator", "c": "nobody (trace only)"}
    assert table["completed %"] == {"o": 100.0, "c": 100.0}
    assert table["max topics one service consumes"]["c"] > table["max topics one service consumes"]["o"]


def test_a_compensation_that_overtakes_its_request_is_caught(wf):
    # The charge request crawls; the orchestrator times out, refunds (nothing to undo yet), then the charge lands.
    plan = FaultPlan().slow("orchestrator", "payment-service", factor=15000, start=0, end=1)
    run = simulate(wf, seed=3, faults=plan, services={"payment-service": {"idempotent": True}})
    work = [e.info for e in run.trace.of("work") if e.node == "payment-service"]
    assert work == ["nothing to undo", "ok"]
    assert run.check().ok  # the saga did what it promises...
    (v,) = run.check(effects=True).violations  # ...and the customer stays charged
    assert (v.invariant, v.step) == ("all-or-nothing", "process-payment")
