"""The orchestrator: order, retries, timeouts, compensation, crashes and recovery."""

import pytest

import engine
from engine import FaultPlan, parse_workflow, simulate
from engine.orchestrator import InstanceState


def events(run, kind, step=None, instance=0):
    return [e for e in run.trace.of(kind) if e.instance == instance and (step is None or e.step == step)]


def effects(run, step, what="do"):
    return [e for e in run.trace.of("effect") if e.step == step and e.info == what]


def test_seed_workflow_completes_in_dependency_order(wf):
    run = simulate(wf, seed=1)
    (inst,) = run.instances
    assert inst.status == "completed" and inst.latency > 0
    started = {e.step: e.time for e in events(run, "attempt-started")}
    done = {e.step: e.time for e in events(run, "step-completed")}
    for step in wf.steps:
        for dep in step.depends_on:
            assert done[dep] <= started[step.name]
    assert all(inst.steps[s].attempts == 1 for s in wf.step_names)
    assert run.check().ok


def test_sync_and_async_steps_use_different_paths(wf):
    run = simulate(wf, seed=1)
    labels = [(m.node, m.peer, m.info) for m in events(run, "message")]
    assert ("orchestrator", "order-service", "/validate") in labels          # request/response
    assert ("orchestrator", "broker", "inventory.reserve") in labels         # a command on a topic
    assert ("broker", "inventory-service", "inventory.reserve") in labels
    assert ("broker", "orchestrator", "orchestrator.replies") in labels      # its completion event
    assert not [m for m in labels if m[1] == "orchestrator" and m[0] == "notification-service"]


def test_retries_follow_the_exponential_schedule(wf):
    run = simulate(wf, seed=2, faults=FaultPlan().fail("order-service", rate=1.0, start=0, end=2.5))
    delays = [e.info for e in events(run, "retry-scheduled", "validate-order")]
    assert delays == [1.0, 2.0]  # max_attempts: 3 → two waits of 1s·2^(k−1)
    starts = [e.time for e in events(run, "attempt-started", "validate-order")]
    assert len(starts) == 3 and starts[2] - starts[1] == pytest.approx(2.0, abs=0.2)
    assert run.instances[0].status == "completed"


def test_a_step_without_retry_policy_is_attempted_once(wf):
    run = simulate(wf, seed=2, services={"payment-service": {"failure_rate": 1.0}})
    assert len(events(run, "attempt-started", "process-payment")) == 1
    assert run.instances[0].status == "compensated"


NON_RETRYABLE = """
name: charge
version: "1.0"
workflow:
  - name: charge
    type: sync-task
    service: payment-service
    endpoint: /charge
    retry_policy: {max_attempts: 5, non_retryable_errors: [CardDeclined]}
services:
  payment-service: {failure_rate: {CardDeclined: 1.0}}
"""


def test_non_retryable_errors_are_not_retried():
    run = simulate(parse_workflow(NON_RETRYABLE))
    assert len(events(run, "attempt-started")) == 1
    (failed,) = events(run, "step-failed")
    assert failed.info == "definite" and run.instances[0].status == "failed"


def test_a_timeout_hides_a_success_and_is_compensated(wf):
    # Replies from payment-service are cut for 12 s: the charge happens, the orchestrator cannot know.
    plan = FaultPlan().partition("payment-service", "orchestrator", one_way=True, start=0, end=12)
    run = simulate(wf, seed=3, faults=plan)
    inst = run.instances[0]
    assert events(run, "attempt-timeout", "process-payment")
    assert inst.steps["process-payment"].indefinite and len(effects(run, "process-payment")) == 1
    assert inst.status == "compensated"
    assert inst.steps["process-payment"].compensated and inst.steps["reserve-inventory"].compensated
    # The refund's first reply is lost too: the compensation is retried, then succeeds.
    assert len(events(run, "compensation-started", "process-payment")) >= 2
    assert len(effects(run, "process-payment", "undo")) >= 1
    assert run.check().ok


def test_a_failed_compensation_ends_needs_intervention(wf):
    shipping_fails = {"shipping-service": {"failure_rate": 1.0}}
    charged = events(simulate(wf, seed=4, services=shipping_fails), "step-completed", "process-payment")[0].time
    plan = FaultPlan().fail("payment-service", rate=1.0, start=charged)  # the charge went through; refunds fail
    run = simulate(wf, seed=4, faults=plan, services=shipping_fails)
    inst = run.instances[0]
    assert inst.status == "needs_intervention"
    assert len(events(run, "compensation-started", "process-payment")) == wf.compensation_retry.max_attempts
    assert events(run, "compensation-exhausted", "process-payment")
    assert inst.steps["reserve-inventory"].compensated  # the independent branch is still undone
    assert run.check().ok


CHAIN = """
name: chain
version: "1.0"
workflow:
  - {name: a, type: sync-task, service: s1, endpoint: /a, compensation: /undo-a}
  - {name: b, type: async-task, service: s2, topic: b.do, depends_on: [a], compensation: b.undo}
  - {name: c, type: sync-task, service: s3, endpoint: /c, depends_on: [b], compensation: /undo-c}
  - {name: d, type: sync-task, service: s4, endpoint: /d, depends_on: [c]}
services:
  s4: {failure_rate: 1.0}
"""


def test_compensation_runs_in_reverse_dependency_order():
    run = simulate(parse_workflow(CHAIN), seed=5)
    comp = [e.step for e in events(run, "step-compensated")]
    assert comp == ["c", "b", "a"]
    starts = {e.step: e.time for e in events(run, "compensation-started")}
    ends = {e.step: e.time for e in events(run, "step-compensated")}
    assert ends["c"] <= starts["b"] and ends["b"] <= starts["a"]
    assert run.instances[0].status == "compensated" and run.check().ok


def test_fire_and_forget_is_never_awaited_nor_compensated(wf):
    run = simulate(wf, seed=6, services={"notification-service": {"failure_rate": 1.0}})
    assert run.instances[0].status == "completed"
    assert [e.info for e in run.trace.of("work") if e.node == "notification-service"] == ["ServiceError"]
    assert not run.trace.of("compensation-started")


def test_crash_after_a_step_resumes_without_redoing_completed_steps(wf):
    plan = FaultPlan().crash("orchestrator", after="process-payment", restart_after=1.0)
    run = simulate(wf, seed=7, faults=plan)
    assert run.trace.of("instance-resumed")
    assert run.instances[0].status == "completed"
    for step in wf.step_names:
        assert len(effects(run, step)) == 1, step
    assert run.check().ok


def test_crash_mid_request_counts_the_attempt_as_timed_out_and_retries(wf):
    plan = FaultPlan().crash("orchestrator", at=0.002, restart_after=1.0)
    run = simulate(wf, seed=7, faults=plan)
    assert [e.attempt for e in events(run, "attempt-timeout", "validate-order")] == [1]
    assert len(events(run, "attempt-started", "validate-order")) == 2
    assert run.instances[0].status == "completed"


def test_an_async_step_survives_a_crash_that_a_sync_step_does_not(wf):
    # Both branches are in flight when the orchestrator crashes. reserve-inventory's completion event
    # waits in the broker and is redelivered; process-payment's reply dies with the connection.
    run0 = simulate(wf, seed=8)
    sent = events(run0, "attempt-started", "reserve-inventory")[0].time
    plan = FaultPlan().crash("orchestrator", at=sent + 0.001, restart_after=2.0)
    run = simulate(wf, seed=8, faults=plan)
    assert len(events(run, "attempt-started", "reserve-inventory")) == 1
    assert not events(run, "attempt-timeout", "reserve-inventory")
    assert events(run, "step-completed", "reserve-inventory")[0].time > sent + 2.0
    assert [e.attempt for e in events(run, "attempt-timeout", "process-payment")] == [1]
    inst = run.instances[0]
    assert inst.status == "compensated"  # process-payment has no retry policy: one attempt only
    assert inst.steps["process-payment"].compensated  # indefinite: the charge may have happened
    assert run.check().ok


def test_orders_accepted_while_the_orchestrator_is_down_start_at_restart(wf):
    plan = FaultPlan().crash("orchestrator", at=0.0, restart_after=3.0)
    run = simulate(wf, seed=9, orders=10, arrival_rate=10, faults=plan)
    assert all(i.status == "completed" for i in run.instances)
    early = [i for i in run.instances if i.start < 3.0]
    assert early and all(i.start + i.latency >= 3.0 for i in early)


def test_history_replay_rebuilds_the_live_state(wf):
    plan = (FaultPlan().crash("orchestrator", at=1.0, restart_after=0.5)
            .partition("orchestrator", "payment-service", start=0.5, end=2)
            .fail("shipping-service", rate=0.5))
    sim_run = simulate(wf, seed=10, orders=30, arrival_rate=10, faults=plan,
                       services={"payment-service": {"failure_rate": 0.2}})
    # Rebuild every instance from the orchestrator's events in the trace and compare with the outcome.
    for inst in sim_run.instances:
        history = [(e.time, e.kind, e.step, e.attempt, e.info) for e in sim_run.trace.events
                   if e.instance == inst.id and e.node == "orchestrator" and e.kind != "instance-resumed"]
        state = InstanceState.replay(wf.topological_order, history)
        assert state.ended == inst.status
        for name, outcome in inst.steps.items():
            live = {"completed": "done", "failed": "failed", "skipped": "skipped"}.get(outcome.outcome)
            if live:
                assert state.steps[name].status == live
            assert (state.comps[name].status == "done") == outcome.compensated


def test_duplicate_deliveries_double_charge_unless_idempotent(wf):
    plan = FaultPlan().duplicate("broker", "inventory-service", rate=1.0)
    run = simulate(wf, seed=11, orders=5, faults=plan)
    assert run.summary().duplicate_effects >= 5
    run = simulate(wf, seed=11, orders=5, faults=plan, services={"inventory-service": {"idempotent": True}})
    assert run.summary().duplicate_effects == 0 and run.check().ok


def test_orders_arrive_as_a_poisson_process(wf):
    run = simulate(wf, seed=12, orders=2000, arrival_rate=50)
    starts = sorted(i.start for i in run.instances)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert sum(gaps) / len(gaps) == pytest.approx(1 / 50, rel=0.06)


@pytest.mark.parametrize("kwargs,fragment", [
    ({"mode": "orchestrate"}, "did you mean 'orchestration'"),
    ({"orders": -1}, "orders is a whole number"),
    ({"arrival_rate": 0}, "arrival_rate"),
    ({"services": {"paymnt-service": {}}}, "did you mean 'payment-service'"),
    ({"services": {"payment-service": {"failure_rate": 2}}}, "probability"),
    ({"network": {"latency": "5"}}, "no unit"),
])
def test_bad_arguments_get_clear_messages(wf, kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        simulate(wf, **kwargs)


def test_simulate_wants_a_workflow():
    with pytest.raises(TypeError, match="load_workflow"):
        simulate("order-fulfillment.yaml")


def test_every_trace_kind_is_documented(wf):
    plan = FaultPlan().crash("orchestrator", at=0.05, restart_after=1).loss(rate=0.1)
    run = simulate(wf, seed=13, orders=30, arrival_rate=10, faults=plan,
                   services={"payment-service": {"failure_rate": 0.3}})
    assert {e.kind for e in run.trace} <= set(engine.KINDS)
