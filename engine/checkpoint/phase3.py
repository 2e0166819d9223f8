"""Phase 3's checkpoint: the outline's three questions as checked experiments.

3.1  Technical debt against feature velocity — a policy, run against the naive and the best ones.
3.2  Consistency models — a model and quorums per scenario, simulated under a partition.
3.3  Communicating a decision — an ADR, checked by `adr check --evidence`; never a model answer.
"""

from __future__ import annotations

import pathlib
import shutil
import tempfile

from ..debt import DebtModel, best_debt_policy, simulate_debt
from .registry import Exercise, Wrong, call, register

__all__ = ["DEBT_CASES", "CONSISTENCY_SCENARIOS", "ADR_SCENARIO"]

# -- 3.1 technical debt ------------------------------------------------------------------------------------

#: The hidden cases: the learner sees the first; the others change the horizon, interest, accrual and debt.
DEBT_CASES = {
    "the scenario": DebtModel(),
    "a longer horizon": DebtModel(quarters=20),
    "cheaper debt": DebtModel(interest=0.002),
    "faster accrual": DebtModel(accrual=0.5),
    "deep debt": DebtModel(initial_debt=200),
    "one year left": DebtModel(quarters=4),
}
TARGET = 0.97  # of the best policy's features, in every case


def _model_fields(m: DebtModel) -> dict:
    return {"quarters": m.quarters, "capacity": m.capacity, "accrual": m.accrual, "interest": m.interest,
            "initial_debt": m.initial_debt}


def _why(mine, best) -> str:
    """What the learner's run did differently from the best one, as a mechanism."""
    q = mine.model.quarters
    tail = [k for k in range(q) if best.history[k]["fraction"] == 0 and mine.history[k]["fraction"] > 0.05]
    if tail and tail[-1] == q - 1:
        return (f"you kept paying down debt in the last {len(tail)} quarter(s), when the speed it buys has no "
                "quarters left to pay it back")
    half = max(1, q // 2)
    early_mine = sum(h["fraction"] for h in mine.history[:half]) / half
    early_best = sum(h["fraction"] for h in best.history[:half]) / half
    if early_mine < early_best - 0.05:
        return (f"you paid too little early ({early_mine:.0%} of capacity on average in the first {half} "
                f"quarters, the best policy {early_best:.0%}): debt compounds through velocity, and every "
                "quarter at low velocity is lost for good")
    if early_mine > early_best + 0.05:
        return (f"you paid more than the debt costs ({early_mine:.0%} of capacity in the first {half} quarters, "
                f"the best policy {early_best:.0%}): beyond keeping debt low, each point repaid is a feature "
                "not built")
    return "your fractions differ quarter by quarter from the best policy's; compare the two runs' tables"


def _run_3_1(policy) -> str:
    lines, worst = [], 1.0
    for name, model in DEBT_CASES.items():
        try:
            mine = simulate_debt(lambda state: call(policy, state), model)
        except ValueError as exc:
            raise Wrong(str(exc)) from None
        best = simulate_debt(best_debt_policy(model), model)
        never = simulate_debt(lambda s: 0.0, model)
        share = mine.features / best.features
        worst = min(worst, share)
        if share < TARGET:
            lines.append(f"{name} ({_describe(model)}): {mine.features:.0f} features, the best policy "
                         f"{best.features:.0f}, never paying {never.features:.0f} — {_why(mine, best)}")
    if lines:
        raise Wrong(f"your policy fell short of {TARGET:.0%} of the best in {len(lines)} of {len(DEBT_CASES)} "
                    "cases:\n   • " + "\n   • ".join(lines))
    return (f"within {1 - worst:.1%} of the best policy in all {len(DEBT_CASES)} cases — it pays down debt while "
            "the quarters left can repay it, and stops when they cannot")


def _describe(m: DebtModel) -> str:
    return (f"{m.quarters} quarters, accrual {m.accrual}, interest {m.interest}, initial debt "
            f"{m.initial_debt:.0f}")


register(Exercise(
    "3.1", "technical debt against feature velocity", _run_3_1,
    ("Paying down a unit of debt costs one point of features now and raises velocity in every quarter left. "
     "When is that worth it — and when is it not?",
     "The velocity gained per unit repaid is capacity·interest/(1 + interest·debt)²; it pays back only over the "
     "quarters left. Pay while that sum exceeds 1, and stop near the end of the horizon."),
    lambda: {"model": _model_fields(DEBT_CASES["the scenario"]),
             "state": "policy(state) gets a dict: quarter (1-based), quarters, debt, velocity, delivered, and the "
                      "model's capacity, accrual, interest; it returns the fraction of this quarter's capacity spent "
                      "on debt, from 0 to 1",
             "target": f"at least {TARGET:.0%} of the best policy's features in every hidden case"}))


# -- 3.2 consistency models ---------------------------------------------------------------------------------

#: scenario → (what it is, the invariant, the availability target); each runs 3 replicas, two clients on
#: opposite sides of a partition that cuts client-b and replica-3 off from the rest from 1 s to 5 s.
CONSISTENCY_SCENARIOS = {
    "stock-level": ("the units left of an item: a sale reads the stock and writes it less one",
                    "linearizable", "the client on the majority side (client-a) gets an answer to ≥ 90% of "
                                    "its operations"),
    "user-profile": ("a user edits their own profile and reloads the page",
                     "read-your-writes", "every client gets an answer to ≥ 99% of its operations"),
    "like-count": ("the likes under a post, shown to everyone",
                   "convergence", "every client gets an answer to ≥ 99% of its operations"),
}
_SEEDS = (1, 2, 3)


def _partition():
    from ..faults import FaultPlan

    plan = FaultPlan()
    for a, b in (("replica-3", "replica-1"), ("replica-3", "replica-2"), ("client-b", "replica-1"),
                 ("client-b", "replica-2")):
        plan = plan.partition(a, b, start=1, end=5)  # client-b and its replica on the minority side
    return plan


def _settings(choice) -> dict:
    if not isinstance(choice, dict) or choice.get("consistency") not in ("cp", "ap"):
        raise Wrong("each choice is a dict with 'consistency': 'cp' or 'ap' (and optionally 'r', 'w', 'conflicts': "
                    "'lww' or 'siblings', 'write_back')")
    unknown = set(choice) - {"consistency", "r", "w", "conflicts", "write_back"}
    if unknown:
        raise Wrong(f"unknown setting(s) {', '.join(sorted(map(str, unknown)))}: the settings are consistency, r, "
                    "w, conflicts, write_back")
    return dict(choice)


def _read_your_writes(history) -> bool:
    last = {}
    for e in history:
        if e["type"] != "ok":
            continue
        if e["f"] == "write":
            last[e["process"]] = e["value"]
        elif e["process"] in last:
            seen = e["value"]
            newest = max(seen) if isinstance(seen, tuple) else seen
            if newest is None or newest < last[e["process"]]:
                return False
    return True


def _judge(name, run) -> list[str]:
    _, invariant, _ = CONSISTENCY_SCENARIOS[name]
    out = []
    if invariant == "linearizable" and not run.check().valid:
        out.append("not linearizable: a read missed a write that had completed before it began — a sale "
                   "decided on a stale stock level, an oversell")
    if invariant == "read-your-writes" and not _read_your_writes(run.history):
        out.append("a client read a value older than its own last write")
    if invariant == "convergence" and len({repr(v) for v in run.replicas.values()}) > 1:
        out.append("the replicas ended with different values after the partition healed")
    avail = run.availability
    if name == "stock-level":
        if avail.get("client-a", 0) < 0.90:
            out.append(f"the majority-side client got answers to {avail.get('client-a', 0):.0%} of its operations")
    elif min(avail.values()) < 0.99:
        who = min(avail, key=avail.get)
        out.append(f"{who} got answers to only {avail[who]:.0%} of its operations (its replica was cut off)")
    return out


def _run_3_2(choose) -> str:
    from ..kv import simulate_kv

    answer = call(choose)
    if not isinstance(answer, dict):
        raise Wrong("choose() returns a dict {scenario: {'consistency': 'cp' or 'ap', ...}}")
    missing = [s for s in CONSISTENCY_SCENARIOS if s not in answer]
    if missing:
        raise Wrong(f"choose() has no choice for {', '.join(missing)}; the scenarios are "
                    f"{', '.join(CONSISTENCY_SCENARIOS)}")
    problems = []
    for name in CONSISTENCY_SCENARIOS:
        settings = _settings(answer[name])
        for seed in _SEEDS:
            try:
                run = simulate_kv(seed=seed, faults=_partition(), ops_per_client=12,
                                  homes={"client-a": "replica-1", "client-b": "replica-3"}, **settings)
            except (ValueError, TypeError) as exc:
                raise Wrong(f"{name}: {exc}") from None
            broken = _judge(name, run)
            if broken:
                problems.append(f"{name} with {settings} (seed {seed}): " + "; ".join(broken))
                break
    if problems:
        raise Wrong(f"{len(problems)} of {len(CONSISTENCY_SCENARIOS)} scenarios break their invariant or their "
                    "availability target:\n   • " + "\n   • ".join(problems))
    return ("every scenario keeps its invariant and meets its availability target under the partition, on "
            f"{len(_SEEDS)} seeds")


register(Exercise(
    "3.2", "consistency models: choose per scenario", _run_3_2,
    ("Which scenarios need every read to see the latest write, and which need every client answered even when "
     "its replica is cut off? A partition forces the choice (Gilbert & Lynch).",
     "CP with R + W > N and read write-back is linearizable but the minority side gets no answer; AP answers "
     "everyone from their home replica, which also gives a client its own writes back."),
    lambda: {name: {"what": what, "invariant": inv, "availability": target}
             for name, (what, inv, target) in CONSISTENCY_SCENARIOS.items()} | {
        "replicas": 3, "partition": "client-b and its replica-3 cut off from replica-1 and replica-2, 1 s to 5 s",
        "clients": {"client-a": "replica-1", "client-b": "replica-3"}}))


# -- 3.3 communicating a decision: an ADR, checked ----------------------------------------------------------

ADR_SCENARIO = {
    "decision": "how process-payment survives lost replies: the payment service's replies are lost for a while "
                "(a one-way partition), the orchestrator times out and charges again",
    "options": ["no retries on process-payment", "retries without idempotency keys",
                "retries with idempotency keys at the payment service"],
    "workflow": "order-fulfillment-retry.yaml: the outline's workflow with process-payment retried (3 attempts); "
                "the check puts it beside your ADR, so write `workflow: order-fulfillment-retry.yaml` in your "
                "evidence block (a variant without retries is a change to params or a copy you describe)",
    "faults": [{"partition": ["payment-service", "orchestrator"], "one_way": True, "start": "0.5s", "end": "8s"}],
    "must": ["Nygard's sections, filled", "at least two considered options, and a decision that names one",
             "a success metric with a number and a unit",
             "an evidence block (model saga) with the scenario's faults and a claim on effect_violations or "
             "duplicate_effects that holds"],
}


def _run_3_3(write) -> str:
    from .. import adr

    text = call(write)
    if not isinstance(text, str) or not text.strip():
        raise Wrong("write_adr() returns the ADR's Markdown as a string")
    workflows = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "workflows"
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        shutil.copy(workflows / "saga-order-fulfillment-retry.yaml", folder / "order-fulfillment-retry.yaml")
        path = folder / "0001-your-adr.md"
        path.write_text(text, encoding="utf-8")
        problems = [p for p in adr.check_adrs([path], evidence=True) if p.code != "bad-filename"]
        doc = adr.parse_adr(text)
    missing = [f"line {p.line}: {p.message} [{p.code}]" if p.line else f"{p.message} [{p.code}]" for p in problems]
    options = doc.section("considered options")
    if options is None or len([ln for ln in options.text.splitlines() if ln.strip()[:1] in "-*+123456789"]) < 2:
        missing.append("no `## Considered Options` listing at least two options")
    if doc.section("metrics") is None:
        missing.append("no `## Success Metrics` section: how will you know the decision worked?")
    blocks = [b.text for b in doc.evidence]
    if not blocks:
        missing.append("no ```evidence block: which run shows the decision does what it says?")
    elif not any("payment-service" in b and "one_way" in b for b in blocks):
        missing.append("the evidence does not run the scenario's faults (the one-way partition from the "
                       "payment service)")
    elif not any("effect_violations" in b or "duplicate_effects" in b for b in blocks):
        missing.append("no claim on effect_violations or duplicate_effects: the decision is about charging twice")
    if missing:
        raise Wrong(f"{len(missing)} thing(s) a reviewer would send back:\n   • " + "\n   • ".join(missing))
    return ("the ADR passes `adr check --evidence`: its sections, options, metrics and evidence are there, and "
            "the run it cites holds")


register(Exercise(
    "3.3", "communicating a decision: an ADR with evidence", _run_3_3,
    ("Start from `python -m engine adr new` (engine.adr.TEMPLATE): every section filled, the options you weighed, "
     "a metric with a number and a unit, and a run a reviewer can repeat.",
     "The evidence block names model saga, the workflow beside the ADR, the scenario's faults (as a fault plan "
     "list), the service settings your decision needs (params: {services: {...}}), and claims such as "
     "`effect_violations == 0`."),
    lambda: dict(ADR_SCENARIO)))
