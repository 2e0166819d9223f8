"""Choreography: the same workflow as events, with no central state."""

from engine import FaultPlan, parse_workflow, simulate

from test_orchestration import CHAIN, effects, events


def test_seed_workflow_completes_without_an_orchestrator(wf):
    run = simulate(wf, mode="choreography", seed=1)
    assert run.instances[0].status == "completed"
    assert not [e for e in run.trace if "orchestrator" in (e.node, e.peer)]
    topics = [m.info for m in events(run, "message") if m.peer == "broker"]
    assert topics[0] == "order.placed" and "validate-order.completed" in topics
    assert run.check().ok


def test_status_is_derived_from_the_trace_alone(wf):
    run = simulate(wf, mode="choreography", seed=2, orders=20, arrival_rate=10,
                   services={"payment-service": {"failure_rate": 0.4}})
    assert not run.trace.of("instance-ended")  # nobody knows the status but the trace
    statuses = {i.status for i in run.instances}
    assert statuses == {"completed", "compensated"} and run.check().ok


def test_failure_unwinds_in_reverse_order():
    run = simulate(parse_workflow(CHAIN), mode="choreography", seed=5)
    assert [e.step for e in events(run, "step-compensated")] == ["c", "b", "a"]
    assert [e.step for e in events(run, "step-unwound")] == ["d", "c", "b", "a"]
    assert run.instances[0].status == "compensated" and run.check().ok


def test_a_participant_retries_its_own_work(wf):
    run = simulate(wf, mode="choreography", seed=3, faults=FaultPlan().fail("order-service", rate=1.0, end=1.5))
    assert len(events(run, "attempt-started", "validate-order")) == 3
    assert run.instances[0].status == "completed"


def test_crash_mid_step_means_redelivery_and_a_repeat(wf):
    plan = FaultPlan().crash("payment-service", after="process-payment", restart_after=1.0)
    run = simulate(wf, mode="choreography", seed=4, faults=plan)
    assert run.instances[0].status == "completed"
    assert len(effects(run, "process-payment")) == 2  # charged twice: the trigger was redelivered
    run = simulate(wf, mode="choreography", seed=4, faults=plan,
                   services={"payment-service": {"idempotent": True}})
    assert len(effects(run, "process-payment")) == 1 and run.check().ok


def test_a_dead_lettered_event_parks_the_saga_for_a_human(wf):
    plan = FaultPlan().partition("broker", "shipping-service", start=0, end=60)
    run = simulate(wf, mode="choreography", seed=5, faults=plan, broker={"max_deliveries": 3, "ack_timeout": 2.0})
    assert run.trace.of("dead-letter")
    assert run.instances[0].status == "needs_intervention"
    assert run.check().ok  # parked for a human is a legitimate end, not a broken invariant


def test_the_same_fault_is_tolerated_by_orchestration_with_a_timeout(wf):
    plan = FaultPlan().partition("broker", "shipping-service", start=0, end=60)
    run = simulate(wf, seed=5, faults=plan, broker={"max_deliveries": 3, "ack_timeout": 2.0})
    assert run.instances[0].status == "compensated"  # ship-order timed out after 30 s; the saga unwound


def test_a_duplicated_trigger_does_not_ack_work_a_crash_then_loses():
    # Found by the property test: the copy of a trigger that arrives while its step runs must wait for the
    # step too; acked early, the crash that loses the work would leave nothing to redeliver.
    from engine import RetryPolicy, ServiceProfile, Step, Workflow

    once = RetryPolicy(max_attempts=1)
    steps = (Step(name="s0", type="sync-task", service="svc-c", endpoint="/s0", retry=once),
             Step(name="s1", type="sync-task", service="svc-a", endpoint="/s1", depends_on=("s0",), retry=once))
    profile = ServiceProfile.from_spec({"latency": "10ms"})
    wf = Workflow(name="dup", version="1.0", steps=steps, services={"svc-a": profile, "svc-c": profile})
    plan = FaultPlan().crash("svc-a", at=0.02, restart_after=1.0).duplicate("broker", None, rate=1.0)
    run = simulate(wf, mode="choreography", seed=1, faults=plan, network="1ms")
    assert run.instances[0].status == "completed" and run.check().ok
