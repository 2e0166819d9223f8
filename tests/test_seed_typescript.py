"""The outline's TypeScript listing, ported onto the protocol bugs and all (polyglot/typescript, "typescript-seed").

For each bug of polyglot/LISTINGS.md's TypeScript list, a scenario shows its evidence (a checker
violation, a fact of the trace, a latency, the world's non-determinism report) with that bug present
and every other bug fixed, and shows the evidence gone once it is fixed too (`typescript-seed+N`: the
port reads $SEED_FIXES). Where one bug's code is reachable only through another, the scenario keeps
that one too: bug 7 is the crash of the line bug 1 sends every failure to (so it keeps bug 1), and
bug 9 is in the loop over a wave's results, which fixing bug 2 replaces (so it keeps bug 2). Bug 6,
the 100 ms poll, is reachable only once bug 2 is fixed; bugs 4 and 8 only once bug 1 is — as the
every-other-bug-fixed scenarios have them.
Skipped when the port is not built, unless SDE_REQUIRE_POLYGLOT=1.
"""

import json
import statistics

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.external import ExternalOrchestratorError

from conftest import ROOT, need_orchestrator, vector
from seedport import all_but, events, first, generate, instances, port_run, statuses, violated
from test_properties import fault_plans, workflows

PORT = "typescript-seed"
BUGS = range(1, 10)
ALL = ",".join(map(str, BUGS))
VECTORS = sorted((ROOT / "polyglot" / "vectors").glob("*.json"))
POLL = 0.1  # the listing's setTimeout(100), in simulated seconds


@pytest.fixture(autouse=True)
def need(monkeypatch):
    monkeypatch.delenv("SEED_FIXES", raising=False)  # a run's fixes are the ones its name gives
    need_orchestrator(PORT)


def but(*bugs: int) -> str:
    """Every fix except those of `bugs`."""
    return all_but(BUGS, *bugs)


def run(v, fixes: str = ""):
    return port_run(PORT, v, fixes)


def simulate(wf, fixes: str, **kw):
    return engine.simulate(wf, seed=7, orchestrator=PORT + (f"+{fixes}" if fixes else ""), **kw)


def polls(r) -> list:
    return [e for e in events(r, "retry-scheduled") if e.info == POLL]


def test_bug_1_a_failed_step_is_marked_completed_and_its_dependents_run():
    r = run("reserve-inventory-fails", but(1))
    every = instances(r)
    assert statuses(r) == {"completed"}
    assert violated(r.check(effects=True), "completed-means-done", "reserve-inventory",
                    "inventory-service never did this step's work") == every
    assert r.check().ok  # the saga invariants see nothing wrong: the trace says it completed
    # The trace: three failed attempts, then "completed" with an undefined result, then its dependent.
    for i in every:
        mine = [e for e in r.trace.events if e.instance == i and e.step == "reserve-inventory"]
        assert [(e.kind, e.attempt) for e in mine if e.kind in ("attempt-failed", "step-completed")] == \
            [("attempt-failed", 1), ("attempt-failed", 2), ("attempt-failed", 3), ("step-completed", 3)]
        assert [e.info for e in mine if e.kind == "step-completed"] == ["undefined"]
    assert first(r, "attempt-started", "ship-order").keys() == every

    fixed = run("reserve-inventory-fails", ALL)
    assert statuses(fixed) == {"failed"} and fixed.check(effects=True).ok
    assert not events(fixed, "step-completed", "reserve-inventory") and not events(fixed, "attempt-started", "ship-order")


def test_bug_2_a_finished_step_waits_for_its_whole_wave():
    # In the seed workflow both steps of its one wave of two are dependencies of ship-order, so
    # waiting for the wave costs nothing there. In this variant the confirmation goes out once the
    # payment is taken, and the reservation is slow (2 s).
    text = (ROOT / generate.SEED_WF).read_text()
    assert "depends_on: [ship-order]" in text
    wf = engine.parse_workflow(text.replace("depends_on: [ship-order]", "depends_on: [process-payment]"))
    kw = dict(orders=5, arrival_rate=10, services={"inventory-service": {"latency": "2s"}})

    def lag(r) -> list:  # from the payment's work done to the confirmation's start
        paid, confirmed = first(r, "work", "process-payment", info="ok"), first(r, "attempt-started", "send-confirmation")
        return [confirmed[i] - paid[i] for i in sorted(confirmed)]

    r, fixed, reference = simulate(wf, but(2), **kw), simulate(wf, ALL, **kw), engine.simulate(wf, seed=7, **kw)
    for x in (r, fixed):
        assert statuses(x) == {"completed"} and x.check(effects=True).ok
    assert len(lag(r)) == 5 and min(lag(r)) > 1.5  # it waited for the reservation
    assert max(lag(fixed)) < 0.01
    assert lag(fixed) == pytest.approx(lag(reference), abs=1e-9)


def test_bug_3_the_call_that_lost_the_race_goes_on_beside_its_retry():
    # payment-service takes 12 s, longer than the step's 10 s timeout.
    wf = engine.load_workflow(ROOT / generate.SEED_WF)
    kw = dict(orders=3, arrival_rate=10, services={"payment-service": {"latency": "12s"}})
    r, fixed = simulate(wf, but(3), **kw), simulate(wf, ALL, **kw)
    every = instances(r)
    work_ended = {e.instance: e.time for e in events(r, "work", "process-payment") if e.attempt == 1}
    retried = first(r, "attempt-started", "process-payment", attempt=2)
    assert retried.keys() == every
    assert all(retried[i] < work_ended[i] for i in every)  # attempt 2 began while attempt 1 still ran
    assert violated(r.check(effects=True), "effect-once", "process-payment", "did the work 3 times") == every

    assert not events(fixed, "retry-scheduled", "process-payment")
    assert fixed.check(effects=True).ok
    assert {e.info for e in events(fixed, "step-failed", "process-payment")} == {"indefinite"}

    # The course's vector: replies lost to a one-way partition, each retry charges again.
    charged = run("timeout-but-charged", but(3))
    twice = violated(charged.check(effects=True), "effect-once", "process-payment")
    assert len(twice) >= 5 and statuses(charged) == {"completed"}
    assert not violated(run("timeout-but-charged", ALL).check(effects=True), "effect-once")


def test_bug_4_only_the_failed_step_is_compensated():
    r = run("ship-order-fails", but(4))
    every = instances(r)
    assert statuses(r) == {"failed"} and not events(r, "compensation-started")  # ship-order has none
    for step in ("reserve-inventory", "process-payment"):
        assert violated(r.check(), "compensated-once", step, "completed but never compensated (instance failed)") == every

    failed_first = run("reserve-inventory-fails", but(4))  # …and the failed step's, though it never took effect
    assert violated(failed_first.check(), "nothing-to-undo", "reserve-inventory", "never took effect") == instances(failed_first)

    for name in ("ship-order-fails", "reserve-inventory-fails"):
        fixed = run(name, ALL)
        assert fixed.check(effects=True).ok, name
        assert {e.instance for e in events(fixed, "step-compensated", "process-payment")} == every


def test_bug_5_a_crash_loses_every_workflow_in_flight():
    # The restarted process never knew the instances the world replays: it answers nothing, and the
    # world, which recorded what the crashed process had decided, reports it.
    with pytest.raises(ExternalOrchestratorError,
                       match=r"non-determinism: replaying instance \d+'s activation at \d+ µs, the typescript-seed "
                             r"orchestrator answered \[\] but had answered \[\{.*\"cmd\":\"invoke\""):
        run("crash-after-process-payment", but(5))

    fixed = run("crash-after-process-payment", ALL)
    assert fixed.check(effects=True).ok
    assert events(fixed, "instance-resumed") and "running" not in statuses(fixed)


def test_bug_6_the_loop_polls_every_100_ms():
    r, fixed, reference = run("no-faults", but(6)), run("no-faults", ALL), generate.run(vector("no-faults"))
    assert r.check().ok and fixed.check().ok
    assert {e.instance for e in polls(r)} == instances(r)
    # Each outcome is seen at the next poll: every step is recorded a whole number of polls after its
    # instance started…
    started = {i.id: i.start for i in r.instances}
    for e in events(r, "step-completed"):
        ticks = (e.time - started[e.instance]) / POLL
        assert ticks == pytest.approx(round(ticks), abs=1e-6) and round(ticks) >= 1
    # … so an order takes several polls instead of a few network round trips.
    mean = statistics.mean(i.latency for i in r.instances)
    assert mean > 0.3 > 0.15 > statistics.mean(i.latency for i in fixed.instances)

    assert not polls(fixed)
    assert [i.latency for i in fixed.instances] == pytest.approx([i.latency for i in reference.instances], abs=1e-9)


def test_bug_7_a_failure_throws_a_type_error_out_of_the_workflow():
    # With bug 1 there (every failure reaches the success branch) — as in the listing out of the box.
    for fixes in (but(1, 7), ""):
        r = run("reserve-inventory-fails", fixes)
        every = instances(r)
        assert statuses(r) == {"failed"} and not events(r, "compensation-started")
        assert violated(r.check(), "compensated-once", "reserve-inventory", "(instance failed)") == every
        assert violated(r.check(effects=True), "all-or-nothing", "process-payment", "took effect 1 time(s) but was undone 0") == every
        # The instance ends at the very moment the failed step is marked completed.
        marked = first(r, "step-completed", "reserve-inventory", info="undefined")
        assert marked == {e.instance: e.time for e in events(r, "instance-ended")}

    fixed = run("reserve-inventory-fails", but(1))  # taskResult?.duration: on it goes (and bug 1 shows)
    assert statuses(fixed) == {"completed"} and fixed.check().ok


def test_bug_8_a_compensation_that_fails_is_only_logged():
    r = run("compensation-keeps-failing", but(8))
    kept = {e.instance for e in events(r, "compensation-exhausted", "process-payment")}
    assert kept and statuses(r) == {"failed"}
    assert violated(r.check(), "compensated-once", "process-payment", "(instance failed)") == kept
    assert violated(r.check(), "compensated-once") == kept

    fixed = run("compensation-keeps-failing", ALL)
    assert fixed.check().ok
    assert {i.id for i in fixed.instances if i.status == "needs_intervention"} == kept  # a human is told


def test_bug_9_a_failure_is_compensated_before_a_later_success_is_recorded():
    r = run("reserve-inventory-fails", but(2, 9))  # the loop over a wave's results: bug 2's code
    every = instances(r)
    assert violated(r.check(), "compensated-once", "process-payment", "completed but never compensated") == every
    failed, paid = first(r, "step-failed", "reserve-inventory"), first(r, "step-completed", "process-payment")
    assert all(failed[i] == paid[i] for i in every)  # at the same instant, the failure first:
    for i in every:
        mine = [(e.kind, e.step) for e in r.trace.events if e.instance == i and e.kind in ("step-failed", "step-completed")]
        assert mine.index(("step-failed", "reserve-inventory")) < mine.index(("step-completed", "process-payment"))

    for fixes in (but(2), ALL):
        fixed = run("reserve-inventory-fails", fixes)
        assert fixed.check(effects=True).ok, fixes
        assert {e.instance for e in events(fixed, "step-compensated", "process-payment")} == every


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_with_every_bug_fixed_the_port_is_clean(path):
    v = json.loads(path.read_text())
    r = run(v, ALL)
    assert r.check().ok, r.check()
    assert "running" not in statuses(r)
    # The business invariants: wherever the reference orchestrator keeps them. Where it does not, no
    # orchestrator can (a broker redelivering to a service without idempotency keys, a refund that
    # never succeeds, a refund of a charge a partition dropped): the listing has no answer either.
    if generate.run(v).check(effects=True).ok:
        assert r.check(effects=True).ok, r.check(effects=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), workflows(), st.integers(0, 2**32 - 1))
def test_with_every_bug_fixed_random_workflows_and_faults_pass_the_checker(data, wf, seed):
    # The listing is not tied to the seed workflow: any DAG, any fault plan (crashes included).
    plan = data.draw(fault_plans(wf, "orchestration"))
    r = engine.simulate(wf, seed=seed, orders=4, arrival_rate=4, faults=plan, orchestrator=f"{PORT}+{ALL}")
    assert r.check().ok, r.check()
