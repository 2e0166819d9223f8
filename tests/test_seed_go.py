"""The outline's Go listing, ported onto the protocol bugs and all (polyglot/go, orchestrator "go-seed").

For each bug of polyglot/LISTINGS.md's Go list, a scenario shows its evidence — a checker violation
or a fact of the trace — with the bug present, and shows the evidence gone with that bug fixed
(`go-seed+N`, which the port reads from $SEED_FIXES). A bug hidden behind another is shown with the
masking one fixed. Skipped when the port is not built, unless SDE_REQUIRE_POLYGLOT=1.
"""


import pytest

import engine
from engine.external import ExternalOrchestratorError

from conftest import ROOT, need_orchestrator
from seedport import events, generate, instances, port_run, violated

PORT = "go-seed"
ALL = "1,2,3,4,5,6"
VECTORS = sorted((ROOT / "polyglot" / "vectors").glob("*.json"))
# Faults the listing's design cannot survive even with every bug fixed: nothing carries an
# idempotency key and these services keep no table of them.
UNSURVIVABLE = {
    "compensation-keeps-failing": "all-or-nothing",    # the refund never succeeds: a human must finish it
    "duplicated-deliveries": "effect-once",            # the broker redelivers commands to services that repeat them
    "partition-orchestrator-payment": "all-or-nothing",  # a lost request looks like a lost reply: refunds of no charge
}


@pytest.fixture(autouse=True)
def need(monkeypatch):
    monkeypatch.delenv("SEED_FIXES", raising=False)  # the fixes of a run are the ones its name gives
    need_orchestrator(PORT)


def run(v, fixes: str = ""):
    return port_run(PORT, v, fixes)


def test_bug_1_inventory_fails_and_the_payment_stays_charged():
    r = run("reserve-inventory-fails")
    every = instances(r)
    assert {i.status for i in r.instances} == {"failed"}
    assert violated(r.check(), "compensated-once", "process-payment", "completed but never compensated") == every
    assert violated(r.check(effects=True), "all-or-nothing", "process-payment",
                    "took effect 1 time(s) but was undone 0 time(s)") == every  # money taken, no goods
    assert not events(r, "compensation-started", "process-payment")

    fixed = run("reserve-inventory-fails", "1")
    assert {e.instance for e in events(fixed, "compensation-started", "process-payment")} == every
    assert not violated(fixed.check(effects=True), "all-or-nothing")
    assert run("reserve-inventory-fails", "1,2").check(effects=True).ok  # the refund awaited too (bug 2)


def test_bug_2_compensations_are_never_awaited_and_the_workflow_returns_first():
    r = run("ship-order-fails")
    every = instances(r)
    report = r.check()
    for step in ("reserve-inventory", "process-payment"):
        assert violated(report, "compensated-once", step, "completed but never compensated (instance failed)") == every
    assert not events(r, "step-compensated")
    for i in every:  # the compensations' outcomes come back after the instance ended: nobody sees them
        ended = events(r, "instance-ended", instance=i)[0].time
        oks = events(r, "compensation-ok", instance=i)
        assert len(oks) == 2 and all(e.time > ended for e in oks)
    assert violated(run("process-payment-fails").check(), "compensated-once", "reserve-inventory") == every

    fixed = run("ship-order-fails", "2")
    assert fixed.check(effects=True).ok
    for i in every:
        ended = events(fixed, "instance-ended", instance=i)[0].time
        assert sorted(e.step for e in events(fixed, "step-compensated", instance=i) if e.time <= ended) == \
            ["process-payment", "reserve-inventory"]
    assert run("process-payment-fails", "2").check(effects=True).ok


def test_bug_3_a_charge_that_timed_out_is_retried_and_charged_again():
    r = run("timeout-but-charged")
    doubled = violated(r.check(effects=True), "effect-once", "process-payment", "payment-service did the work 2 times")
    assert doubled
    for i in doubled:
        timeout = events(r, "attempt-timeout", "process-payment", i)[0].time
        assert any(e.attempt == 2 and e.time > timeout for e in events(r, "attempt-started", "process-payment", i))
    assert r.check().ok  # the saga invariants cannot see it: only the services' effects do

    fixed = run("timeout-but-charged", "3")
    assert not violated(fixed.check(effects=True), "effect-once")
    assert all(e.attempt == 1 for e in events(fixed, "attempt-started", "process-payment"))


def test_bug_4_compensations_run_together_and_a_failure_is_reported_to_no_one():
    # Bug 2 hides bug 4 (nothing is awaited, so no failure can be seen): fix 2 first.
    r = run("compensation-keeps-failing", "2")
    gave_up = {e.instance for e in events(r, "compensation-exhausted", "process-payment")}
    assert gave_up
    assert violated(r.check(), "compensated-once", "process-payment", "never compensated (instance failed)") == gave_up
    for i in gave_up:
        assert {i_.status for i_ in r.instances if i_.id == i} == {"failed"}
        release, refund = (events(r, "compensation-started", s, i)[0].time for s in ("reserve-inventory", "process-payment"))
        assert release == refund  # started together, in no order

    fixed = run("compensation-keeps-failing", "2,4")
    assert fixed.check().ok
    assert {i.id for i in fixed.instances if i.status == "needs_intervention"} == gave_up
    for i in gave_up:  # the refund first, the release only once the refund has given up
        exhausted = events(fixed, "compensation-exhausted", "process-payment", i)[0].time
        assert events(fixed, "compensation-started", "reserve-inventory", i)[0].time >= exhausted
    ordered = run("ship-order-fails", "2,4")
    for i in instances(ordered):
        refunded = events(ordered, "step-compensated", "process-payment", i)[0].time
        assert events(ordered, "compensation-started", "reserve-inventory", i)[0].time >= refunded


# Every reply of the payment service is lost for 40 s: every charge times out, three times.
PAYMENT_TIMES_OUT = {"workflow": generate.SEED_WF, "seed": 7, "orders": 3, "arrival_rate": 10.0, "services": {},
                     "faults": [{"partition": ["payment-service", "orchestrator"], "one_way": True,
                                 "start": "0s", "end": "40s"}]}


def test_bug_5_a_payment_that_failed_after_timeouts_is_never_refunded():
    r = run(PAYMENT_TIMES_OUT)
    every = instances(r)
    assert {e.instance for e in events(r, "step-failed", "process-payment") if e.info == "indefinite"} == every
    assert violated(r.check(), "compensated-once", "process-payment", "indefinite but never compensated") == every
    assert not events(r, "compensation-started", "process-payment")
    assert {e.instance for e in events(run(PAYMENT_TIMES_OUT, "5"), "compensation-started", "process-payment")} == every

    # With the compensations awaited and reported (fixes 2 and 4), the checker shows it alone.
    assert violated(run(PAYMENT_TIMES_OUT, "2,4").check(), "compensated-once") == every
    assert run(PAYMENT_TIMES_OUT, "2,4,5").check().ok


def test_bug_6_the_confirmation_is_never_sent():
    r = run("no-faults")
    assert {i.status for i in r.instances} == {"completed"}
    assert not [e for e in r.trace.events if e.step == "send-confirmation" or e.node == "notification-service"]
    assert r.check(effects=True).ok  # completed-means-done looks at awaited steps only

    fixed = run("no-faults", "6")
    published = {e.instance for e in events(fixed, "step-completed", "send-confirmation") if e.info == "published"}
    assert published == instances(fixed)
    assert fixed.check(effects=True).ok


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_with_every_bug_fixed_the_port_is_clean_where_the_design_can_be(path):
    r = run(path.stem, ALL)
    assert r.check().ok, r.check()
    business = r.check(effects=True)
    if path.stem in UNSURVIVABLE:
        assert {v.invariant for v in business.violations} == {UNSURVIVABLE[path.stem]}
    else:
        assert business.ok, business


def test_a_bad_fix_list_is_refused_clearly(wf):
    with pytest.raises(ExternalOrchestratorError, match="SEED_FIXES"):
        engine.simulate(wf, seed=1, orders=1, orchestrator=PORT + "+9")
