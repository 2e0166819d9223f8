"""Phase 1's checkpoint: the outline's three questions, as experiments whose answers are run.

1.1  Orchestration vs choreography — measure both under the same faults.
1.2  Partial failures — make the workflow safe: nobody pays without goods.
1.3  Partial failures — a retry policy for a flaky payment service.
1.4  Sync vs async — what a downstream outage does to each.
1.5  Sync vs async — choose, from your measurements.

The hidden cases (seeds, fault plans) live here, not in the notebooks.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib

from ..dsl import parse_workflow
from ..errors import WorkflowError
from ..faults import FaultPlan
from ..retry import RetryPolicy
from ..simulate import MODES, simulate
from .registry import Exercise, NotDone, Wrong, call, register

SEED_YAML = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "workflows" / "order-fulfillment.yaml"


def _seed_text() -> str:
    try:
        return SEED_YAML.read_text()
    except OSError:
        raise Wrong("the course's order-fulfillment.yaml is missing from notebooks/workflows/; "
                    "restore it (git checkout notebooks/workflows/order-fulfillment.yaml)") from None


def _seed():
    return parse_workflow(_seed_text(), source="order-fulfillment.yaml")


def _close(a, b, rel=1e-6) -> bool:
    return (isinstance(a, (int, float)) and not isinstance(a, bool) and
            (math.isnan(a) and math.isnan(b) or math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)))


def _compare_measures(name: str, fn, keys: tuple[str, ...], cases, reference) -> None:
    """Call fn(*case) for each hidden case and compare each key with what a run gives."""
    results = []
    for case in cases:
        got = call(fn, *case)
        if not isinstance(got, dict):
            raise Wrong(f"{name} must return a dict with {', '.join(keys)}; it returned {type(got).__name__}")
        missing = [k for k in keys if k not in got]
        if missing:
            raise Wrong(f"{name}{case} returned a dict without {', '.join(missing)}")
        results.append((case, got, reference(*case)))
    for key in keys:  # the same value whatever the seed, where runs differ: not measured
        by_first: dict = {}
        for case, got, want in results:
            by_first.setdefault(case[0], []).append((repr(got[key]), repr(want[key])))
        for pairs in by_first.values():
            if len(pairs) > 1 and len({g for g, _ in pairs}) == 1 and len({w for _, w in pairs}) > 1:
                raise Wrong(f"{name}(…)[{key!r}] is the same for every seed — compute it from a run with "
                            "seed=seed")
    for case, got, want in results:
        for k in keys:
            if not _close(got[k], want[k]):
                raise Wrong(_mismatch(name, case, k, got[k], want[k]))


def _mismatch(name, case, key, got, want) -> str:
    where = f"{name}{case}"
    if not isinstance(got, (int, float)) or isinstance(got, bool):
        return f"{where}[{key!r}] is {type(got).__name__}; it should be a number measured from a run"
    for factor, unit in ((1000, "seconds instead of milliseconds"), (1 / 1000, "milliseconds instead of seconds"),
                         (100, "a fraction where a percentage is expected"),
                         (1 / 100, "a percentage where a fraction is expected")):
        if want and math.isclose(got, want / factor, rel_tol=1e-6):
            return f"{where}[{key!r}] looks like {unit}"
    if want and got:
        off = abs(got - want) / abs(want)
        return f"{where}[{key!r}] differs from a run of the scenario by {off:.1%}"
    return f"{where}[{key!r}] does not match a run of the scenario"


# -- 1.1 orchestration vs choreography -----------------------------------------------------------

def _scenario_1_1() -> dict:
    return {"orders": 200, "arrival_rate": 20.0, "services": {"payment-service": {"failure_rate": 0.1}},
            "faults": FaultPlan().crash("inventory-service", at=3.0, restart_after=4.0)}


def _measure_1_1(mode: str, seed: int) -> dict:
    run = simulate(_seed(), mode=mode, seed=seed, **_scenario_1_1())
    s = run.summary()
    return {"messages_per_order": s.messages / s.orders, "p99_latency_ms": s.latency["p99"] * 1000,
            "completed_pct": 100.0 * s.statuses["completed"] / s.orders}


def _run_1_1(measure) -> str:
    cases = [(mode, seed) for seed in (11, 23) for mode in MODES]
    _compare_measures("measure", measure, ("messages_per_order", "p99_latency_ms", "completed_pct"), cases,
                      _measure_1_1)
    return "your measurements match fresh runs of both runners on seeds you did not see"


register(Exercise(
    "1.1", "orchestration vs choreography, measured", _run_1_1,
    ("Run simulate(wf, mode=mode, seed=seed, **scenario('1.1')) and read the numbers off run.summary(): "
     "messages are per order, latency is the p99 of completed instances, completed is a percentage.",
     "summary.messages / summary.orders; summary.latency['p99'] is in seconds (× 1000 for ms); "
     "100 * summary.statuses['completed'] / summary.orders."),
    _scenario_1_1))


# -- 1.2 a safe workflow ----------------------------------------------------------------------------

def _unsafe_yaml() -> str:
    """The seed workflow with retries on the charge and no refund: what 1.2 starts from."""
    text = _seed_text()
    text = text.replace("    endpoint: /charge\n    timeout: 10s\n",
                        "    endpoint: /charge\n    timeout: 10s\n    retry_policy:\n      max_attempts: 3\n"
                        "      backoff: exponential\n")
    return text.replace("  process-payment:\n    - service: payment-service\n      endpoint: /refund\n", "")


def _scenario_1_2() -> dict:
    return {"workflow": _unsafe_yaml(), "orders": 100, "arrival_rate": 20.0}


def _faults_1_2() -> list[FaultPlan]:
    return [
        FaultPlan().partition("payment-service", "orchestrator", one_way=True, start=0.5, end=8.0),
        FaultPlan().duplicate("broker", "inventory-service", rate=0.5),
        FaultPlan().crash("payment-service", after="process-payment", restart_after=1.0),
        FaultPlan().fail("shipping-service", rate=1.0, start=1.0, end=3.0),
        FaultPlan().crash("orchestrator", at=2.0, restart_after=1.0).duplicate("broker", None, rate=0.2),
    ]


def _run_1_2(setup) -> str:
    answer = call(setup)
    if not isinstance(answer, dict) or "workflow" not in answer:
        raise Wrong("safe_setup must return a dict with 'workflow' (YAML text) and 'services' (profiles)")
    try:
        wf = parse_workflow(answer["workflow"], source="your workflow")
    except WorkflowError as err:
        raise Wrong(f"your workflow does not load:\n{err}") from None
    seed = _seed()
    if [(s.name, s.type, s.service) for s in wf.steps] != [(s.name, s.type, s.service) for s in seed.steps]:
        raise Wrong("keep the outline's steps — same names, types and services — and make them safe")
    services = answer.get("services") or {}
    for n, plan in enumerate(_faults_1_2(), 1):
        try:
            run = simulate(wf, seed=100 + n, orders=100, arrival_rate=20.0, services=services, faults=plan)
        except (ValueError, TypeError) as exc:
            raise Wrong(f"your services do not work: {exc}") from None
        problems = _money_and_goods(run)
        if problems:
            raise Wrong(f"under hidden fault #{n} of {len(_faults_1_2())}, {len(problems)} order(s) went wrong; "
                        f"the first: {problems[0]}")
    return (f"every order under {len(_faults_1_2())} hidden fault plans ended with payment and goods "
            "together, or neither")


def _money_and_goods(run) -> list[str]:
    """Orders that end with money taken and no goods, goods and no money, or anything done twice."""
    net: dict[tuple, int] = {}
    for e in run.trace.events:
        if e.kind == "effect":
            key = (e.instance, e.step)
            net[key] = net.get(key, 0) + (1 if e.info == "do" else -1)
    out = []
    for inst in run.instances:
        paid = net.get((inst.id, "process-payment"), 0)
        reserved = net.get((inst.id, "reserve-inventory"), 0)
        shipped = net.get((inst.id, "ship-order"), 0)
        if inst.status == "completed":
            if (paid, reserved, shipped) != (1, 1, 1):
                out.append(f"order {inst.id} completed, but it was charged {paid}×, reserved {reserved}×, "
                           f"shipped {shipped}×")
        elif paid or reserved or shipped:
            out.append(f"order {inst.id} ended {inst.status}, still charged {paid}×, reserved {reserved}×, "
                       f"shipped {shipped}×")
    return out


register(Exercise(
    "1.2", "partial failures: a safe workflow", _run_1_2,
    ("Two kinds of violation: effect-once (work done twice — which services see retries or redelivered "
     "commands?) and all-or-nothing (a failed order keeps an effect — which step has no compensation?).",
     "Every service that takes an effect must deduplicate by idempotency key, and process-payment needs a "
     "compensation: look at how compensation_flows undoes reserve-inventory."),
    _scenario_1_2))


# -- 1.3 a retry policy --------------------------------------------------------------------------------

def _run_1_3(policy_fn) -> str:
    policy = call(policy_fn)
    if not isinstance(policy, RetryPolicy):
        raise Wrong(f"my_policy must return an engine.RetryPolicy, not {type(policy).__name__}")
    seed_wf = _seed()
    steps = tuple(dataclasses.replace(s, retry=policy) if s.name == "process-payment" else s for s in seed_wf.steps)
    wf = dataclasses.replace(seed_wf, steps=steps)
    completed = orders = 0
    latencies: list[float] = []
    for seed in (31, 32, 33):
        run = simulate(wf, seed=seed, orders=400, arrival_rate=20.0,
                       services={"payment-service": {"failure_rate": 0.2, "idempotent": True}})
        orders += run.orders
        completed += sum(i.status == "completed" for i in run.instances)
        latencies += run.latencies()
    success = completed / orders
    latencies.sort()
    p99 = latencies[max(0, math.ceil(0.99 * len(latencies)) - 1)] if latencies else math.inf
    if success < 0.99:
        raise Wrong(f"only {success:.1%} of orders completed on hidden seeds (needed ≥ 99%)")
    if p99 >= 10.0:
        raise Wrong(f"orders complete, but p99 latency is {p99:.1f} s (needed < 10 s)")
    return f"{success:.2%} of 1,200 orders completed with p99 latency {p99:.2f} s on seeds you did not see"


register(Exercise(
    "1.3", "partial failures: a retry policy", _run_1_3,
    ("With each attempt failing 20% of the time, how many attempts make failure rarer than 1%? "
     "And how long do the waits between them add up to?",
     "Failure after k attempts has probability 0.2^k; the waits are min(I·B^(k−1), M). Check that "
     "ServiceError is not among non_retryable_errors."),
    None))


# -- 1.4 / 1.5 sync vs async -----------------------------------------------------------------------------

def _scenario_1_4() -> dict:
    text = _seed_text()
    sync = text.replace("    type: async-task\n    depends_on: [reserve-inventory, process-payment]\n"
                        "    service: shipping-service\n    topic: shipping.create\n",
                        "    type: sync-task\n    depends_on: [reserve-inventory, process-payment]\n"
                        "    service: shipping-service\n    endpoint: /shipments\n")
    return {"workflows": {"async-task": parse_workflow(text, source="ship-order async"),
                          "sync-task": parse_workflow(sync, source="ship-order sync")},
            "orders": 200, "arrival_rate": 20.0,
            "faults": FaultPlan().crash("shipping-service", at=2.0, restart_after=8.0)}


def _measure_1_4(step_type: str, seed: int) -> dict:
    s = _scenario_1_4()
    run = simulate(s["workflows"][step_type], seed=seed, orders=s["orders"], arrival_rate=s["arrival_rate"],
                   faults=s["faults"])
    summary = run.summary()
    return {"completed_pct": 100.0 * summary.statuses["completed"] / summary.orders,
            "p99_latency_s": summary.latency["p99"]}


def _run_1_4(outage_effect) -> str:
    cases = [(t, seed) for seed in (41, 42) for t in ("sync-task", "async-task")]
    _compare_measures("outage_effect", outage_effect, ("completed_pct", "p99_latency_s"), cases, _measure_1_4)
    return "your measurements match fresh runs of both variants on seeds you did not see"


def _run_1_5(choose) -> str:
    choice = call(choose)
    if choice not in ("sync-task", "async-task"):
        raise Wrong(f"choose() returns 'sync-task' or 'async-task', not {choice!r}")
    results = {t: _measure_1_4(t, 43) for t in ("sync-task", "async-task")}
    best = max(results, key=lambda t: results[t]["completed_pct"])
    if choice != best:
        raise Wrong(f"on a fresh seed, {choice} completed {results[choice]['completed_pct']:.0f}% of orders "
                    f"through the outage — is that the one you want?")
    return "the choice your measurements support: the orders get through the outage, late rather than never"


register(Exercise(
    "1.4", "sync vs async: a downstream outage, measured", _run_1_4,
    ("Simulate scenario('1.4')['workflows'][step_type] with the scenario's orders, arrival_rate and faults, "
     "and read completed % and p99 latency (seconds) from run.summary().",
     "completed_pct = 100 * summary.statuses['completed'] / summary.orders; "
     "p99_latency_s = summary.latency['p99'] — seconds, as the summary keeps them."),
    _scenario_1_4))

register(Exercise(
    "1.5", "sync vs async: choose", _run_1_5,
    ("Which variant got more orders through the shipping outage, and at what cost in latency?",
     "Compare completed_pct of the two variants in your 1.4 measurements; the broker keeps the async "
     "command until the service is back."),
    None))

__all__ = ["NotDone"]
