"""Property tests: random DAG workflows × random fault plans ⇒ the saga invariants hold.

A property that is never exercised proves nothing, so the tests count what
they saw (instances compensated, needing intervention, crashes survived) and
the last test fails if the runs were vacuous. The counts are printed at the
end of the pytest session.
"""

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Action, FaultPlan, RetryPolicy, ServiceProfile, Step, Workflow, simulate

SEEN: Counter = Counter()
SERVICES = ("svc-a", "svc-b", "svc-c")


@st.composite
def workflows(draw):
    n = draw(st.integers(1, 7))
    steps = []
    for i in range(n):
        deps = tuple(f"s{j}" for j in range(i) if draw(st.booleans()) and draw(st.booleans()))
        kind = draw(st.sampled_from(["sync-task", "sync-task", "async-task", "fire-and-forget"]))
        service = draw(st.sampled_from(SERVICES))
        target = {"endpoint": f"/s{i}"} if kind == "sync-task" else {"topic": f"s{i}.do"}
        comp = ()
        if kind != "fire-and-forget" and draw(st.booleans()):
            comp = tuple(Action(draw(st.sampled_from(SERVICES)), **({"endpoint": f"/undo{i}.{k}"} if draw(st.booleans())
                                                                  else {"topic": f"s{i}.undo{k}"}))
                         for k in range(draw(st.integers(1, 2))))
        retry = RetryPolicy(max_attempts=draw(st.integers(1, 3)), initial_interval=draw(st.sampled_from([0.1, 0.5])),
                            jitter=draw(st.sampled_from(["none", "full", "equal", "decorrelated"])))
        steps.append(Step(name=f"s{i}", type=kind, service=service, depends_on=deps,
                          timeout=draw(st.sampled_from([0.2, 1.0, 5.0])), retry=retry, compensation=comp, **target))
    used = {s.service for s in steps} | {a.service for s in steps for a in s.compensation}
    services = {name: ServiceProfile.from_spec({
        "failure_rate": draw(st.sampled_from([0.0, 0.1, 0.3])),
        "idempotent": draw(st.booleans()),
        "capacity": draw(st.sampled_from([None, 1, 4])),
        "latency": draw(st.sampled_from(["10ms", {"dist": "exponential", "mean": "50ms"},
                                         {"dist": "lognormal", "median": "20ms", "sigma": 1.0}])),
    }) for name in sorted(used)}
    return Workflow(name="random", version="1.0", steps=tuple(steps), services=services,
                    compensation_retry=RetryPolicy(max_attempts=draw(st.integers(1, 4)), initial_interval=0.2))


@st.composite
def fault_plans(draw, wf, mode):
    nodes = ["broker", *wf.service_names] + (["orchestrator"] if mode == "orchestration" else [])
    plan = FaultPlan()
    for _ in range(draw(st.integers(0, 5))):
        start = draw(st.floats(0, 3))
        end = start + draw(st.floats(0.1, 10))
        kind = draw(st.sampled_from(["partition", "crash", "crash", "fail", "slow", "loss", "duplicate"]))
        a, b = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))
        if kind == "partition" and a != b:
            plan = plan.partition(a, b, start=start, end=end, one_way=draw(st.booleans()))
        elif kind == "crash":
            if draw(st.booleans()):
                plan = plan.crash(a, at=start, restart_after=draw(st.floats(0.1, 5)))
            else:
                plan = plan.crash(a, after=draw(st.sampled_from(wf.step_names)), restart_after=draw(st.floats(0.1, 5)))
        elif kind == "fail" and a in wf.service_names:
            plan = plan.fail(a, rate=draw(st.floats(0, 1)), start=start, end=end)
        elif kind == "slow":
            plan = plan.slow(a, factor=draw(st.floats(0.5, 20)), start=start, end=end)
        elif kind in ("loss", "duplicate"):
            plan = getattr(plan, kind)(a, None, rate=draw(st.floats(0, 0.5)), start=start, end=end)
    return plan


def _check(wf, mode, plan, seed):
    run = simulate(wf, mode=mode, seed=seed, orders=8, arrival_rate=4, faults=plan)
    report = run.check()
    assert report.ok, f"{report}\nplan: {plan.describe()}"
    if mode == "orchestration":  # the durable history numbers attempts 1, 2, 3… even across crashes
        numbers: dict = {}
        for e in run.trace.of("attempt-started"):
            numbers.setdefault((e.instance, e.step), []).append(e.attempt)
        for key, seq in numbers.items():
            assert seq == list(range(1, len(seq) + 1)), (key, seq)
    for inst in run.instances:
        SEEN[f"{mode} {inst.status}"] += 1
    SEEN[f"{mode} crashes"] += len(run.trace.of("node-crashed"))
    SEEN[f"{mode} resumed"] += len(run.trace.of("instance-resumed"))


# max_examples comes from the Hypothesis profile (tests/conftest.py): 200 by default,
# HYPOTHESIS_PROFILE=deep for a long hunt.
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.data(), workflows(), st.integers(0, 2**32 - 1))
def test_orchestration_invariants_hold(data, wf, seed):
    _check(wf, "orchestration", data.draw(fault_plans(wf, "orchestration")), seed)


@SETTINGS
@given(st.data(), workflows(), st.integers(0, 2**32 - 1))
def test_choreography_invariants_hold(data, wf, seed):
    _check(wf, "choreography", data.draw(fault_plans(wf, "choreography")), seed)


def test_the_properties_were_not_vacuous():
    for mode in ("orchestration", "choreography"):
        assert SEEN[f"{mode} compensated"] >= 20, SEEN
        assert SEEN[f"{mode} completed"] >= 20, SEEN
        assert SEEN[f"{mode} crashes"] >= 20, SEEN
    assert SEEN["orchestration resumed"] >= 10, SEEN
