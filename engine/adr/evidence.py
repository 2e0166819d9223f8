"""Evidence blocks: a claim in an ADR, tied to a run anyone can repeat.

    ```evidence
    model: saga                      # what to run (MODELS)
    workflow: ../../notebooks/workflows/order-fulfillment.yaml   # saga: relative to the ADR
    params: {orders: 200, arrival_rate: 20}
    seed: 7
    faults:                          # optional: a fault plan, as in a fault-plan file
      - crash: orchestrator
        at: 2s
        restart_after: 3s
    claims:
      - p95_latency < 5s
      - violations == 0
    ```

`spec_problems` checks a block without running it (the YAML, the model, its parameters, each claim's metric
and unit); `run_block` runs it and says of each claim whether it held, with the measured value.
"""

from __future__ import annotations

import math
import operator
import pathlib
import re
from dataclasses import dataclass

from ..durations import parse_duration
from ..errors import WorkflowError, did_you_mean
from ..yamlsafe import load_located

__all__ = ["MODELS", "Claim", "ClaimResult", "parse_claim", "spec_problems", "measure", "run_block", "EvidenceError"]


class EvidenceError(ValueError):
    """A block that cannot run: what is wrong and, where known, the line inside the block."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


# -- models: what a block can run, the parameters each takes and the metrics (with units) it returns ----

def _saga(spec: dict, base: pathlib.Path) -> dict:
    import engine

    from ..faultfile import parse_fault_plan

    workflow = base / spec["workflow"]
    if not workflow.exists():
        raise EvidenceError(f"workflow: {spec['workflow']} does not exist (paths are relative to the ADR)")
    wf = engine.load_workflow(workflow)
    params = dict(spec.get("params") or {})
    faults = parse_fault_plan(_yaml_list(spec["faults"])) if spec.get("faults") else None
    run = engine.simulate(wf, seed=spec.get("seed", 0), faults=faults, **params)
    s, report, effects = run.summary(), run.check(), run.check(effects=True)
    again = engine.simulate(wf, seed=spec.get("seed", 0), faults=faults, **params)
    builtin = again if "orchestrator" not in params else engine.simulate(
        wf, seed=spec.get("seed", 0), faults=faults, **{k: v for k, v in params.items() if k != "orchestrator"})
    n = max(s.orders, 1)
    return {"p50_latency": s.latency["p50"], "p95_latency": s.latency["p95"], "p99_latency": s.latency["p99"],
            "completed_pct": 100 * s.statuses.get("completed", 0) / n,
            "failed_pct": 100 * s.statuses.get("failed", 0) / n,
            "compensated_pct": 100 * s.statuses.get("compensated", 0) / n,
            "violations": len(report.violations),
            "effect_violations": len(effects.violations) - len(report.violations), "attempts": s.attempts, "retries": s.retries,
            "duplicate_effects": s.duplicate_effects, "messages_per_order": s.messages / n,
            "reproducible": run.trace.digest() == again.trace.digest(),
            "matches_builtin": run.trace.digest() == builtin.trace.digest()}


def _kv(spec: dict, base: pathlib.Path) -> dict:
    import engine

    from ..faultfile import parse_fault_plan

    faults = parse_fault_plan(_yaml_list(spec["faults"])) if spec.get("faults") else None
    run = engine.simulate_kv(seed=spec.get("seed", 0), faults=faults, **dict(spec.get("params") or {}))
    reads = [e for e in run.history if e["type"] == "ok" and e["f"] == "read"]
    avail = run.availability
    return {"stale_read_pct": 100 * len(run.stale_reads()) / max(len(reads), 1),
            "availability_pct": 100 * sum(avail.values()) / max(len(avail), 1),
            "linearizable": bool(run.check().valid)}


def _messaging(spec: dict, base: pathlib.Path) -> dict:
    from .. import messaging

    params = dict(spec.get("params") or {})
    if "option" not in params:
        raise EvidenceError(f"model messaging needs params: {{option: ...}}, one of {', '.join(messaging.OPTIONS)}")
    option = params.pop("option")
    result = messaging.simulate_messaging(option, seed=spec.get("seed", 0), faults=spec.get("faults"), **params)
    return dict(result.metrics())


def _messaging_units() -> dict:
    from ..messaging import METRICS

    return {metric: {"GB": "GB", "GB/day": "GB/day"}.get(unit, unit) for metric, unit in METRICS.items()}


#: model → (runner, {metric: unit}); units: "s" (a duration), "%", "count", "1/s", "bool", "x" (a ratio), "GB".
MODELS: dict[str, tuple] = {
    "saga": (_saga, {"p50_latency": "s", "p95_latency": "s", "p99_latency": "s", "completed_pct": "%",
                     "failed_pct": "%", "compensated_pct": "%", "violations": "count", "effect_violations": "count",
                     "attempts": "count",
                     "retries": "count", "duplicate_effects": "count", "messages_per_order": "x",
                     "reproducible": "bool", "matches_builtin": "bool"}),
    "kv": (_kv, {"stale_read_pct": "%", "availability_pct": "%", "linearizable": "bool"}),
    "messaging": (_messaging, _messaging_units()),
}
_KEYS = {"model", "workflow", "params", "seed", "faults", "claims", "about"}


def _yaml_list(faults) -> str:
    """A fault list from an evidence block, back to the text a fault-plan parser reads."""
    import json

    return json.dumps({"faults": faults})


# -- claims ---------------------------------------------------------------------------------------------

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
        "!=": operator.ne}
_CLAIM = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|==|!=|<|>)\s*(.+?)\s*$")


@dataclass(frozen=True)
class Claim:
    """`metric op value`, e.g. ``p95_latency < 5s``; `value` in the metric's unit (seconds for durations)."""

    text: str
    metric: str
    op: str
    value: float | bool
    unit: str

    def holds(self, measured) -> bool:
        if isinstance(self.value, bool) or isinstance(measured, bool):
            return _OPS[self.op](bool(measured), bool(self.value))
        return not (isinstance(measured, float) and math.isnan(measured)) and _OPS[self.op](measured, self.value)


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    measured: object
    held: bool

    @property
    def shown(self) -> str:
        """The measured value with its unit, as a reader wants it."""
        m = self.measured
        return (f"{m:.4g}" if isinstance(m, float) else str(m)) + _suffix(self.claim.unit)

    def __str__(self) -> str:
        return f"{'held' if self.held else 'BROKEN'}: {self.claim.text} (measured {self.shown})"


def _suffix(unit: str) -> str:
    return {"s": " s", "%": "%", "1/s": "/s", "x": "×", "GB": " GB", "GB/day": " GB/day"}.get(unit, "")


def parse_claim(text, units: dict | None) -> Claim:
    """A claim against a model's metrics; EvidenceError saying what is wrong and how to write it."""
    if not isinstance(text, str):
        raise EvidenceError(f"a claim is a string like 'p95_latency < 5s', not {text!r}")
    m = _CLAIM.match(text)
    if not m:
        raise EvidenceError(f"claim {text!r} is not 'metric op value' (op one of < <= > >= == !=), "
                            "e.g. 'p95_latency < 5s' or 'violations == 0'")
    metric, op, raw = m.groups()
    unit = units.get(metric) if units is not None else None
    if units is not None and unit is None:
        hint = did_you_mean(metric, units)
        raise EvidenceError(f"claim {text!r}: no metric {metric!r}" + (f" ({hint})" if hint else "")
                            + f"; this model measures {', '.join(units)}")
    if raw.lower() in ("true", "false"):
        if unit not in (None, "bool"):
            raise EvidenceError(f"claim {text!r}: {metric} is a number ({unit}), not true/false")
        return Claim(text, metric, op, raw.lower() == "true", "bool")
    if unit == "bool":
        raise EvidenceError(f"claim {text!r}: {metric} is true or false; write '{metric} == true'")
    if re.fullmatch(r"-?[\d.]+\s*(ms|s|m|h|d)", raw):
        if unit not in (None, "s"):
            raise EvidenceError(f"claim {text!r}: {raw!r} is a duration but {metric} is measured in {unit}")
        return Claim(text, metric, op, parse_duration(raw.replace(" ", "")), "s")
    number = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*(%|/s|x|×|GB/day|GB)?", raw)
    if not number:
        raise EvidenceError(f"claim {text!r}: {raw!r} is not a number, a duration (5s, 200ms) or true/false")
    if unit == "s":
        raise EvidenceError(f"claim {text!r}: {metric} is a duration: give the unit, e.g. {raw}s or {raw}ms")
    if unit == "%" and number.group(2) != "%":
        raise EvidenceError(f"claim {text!r}: {metric} is a percentage: write {raw}%")
    return Claim(text, metric, op, float(number.group(1)), unit or "")


# -- checking and running a block -------------------------------------------------------------------------

def _load(text: str) -> dict:
    try:
        data, _ = load_located(text, source="evidence")
    except WorkflowError as err:
        d = err.diagnostics[0]
        raise EvidenceError(f"the block is not valid YAML: {d.message}", d.line) from None
    if not isinstance(data, dict):
        raise EvidenceError("an evidence block is a YAML mapping with model, params, seed and claims")
    return data


def _spec(text: str) -> tuple[dict, dict | None]:
    spec = _load(text)
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        hint = did_you_mean(unknown[0], _KEYS)
        raise EvidenceError(f"unknown key {unknown[0]!r}" + (f" ({hint})" if hint else "")
                            + f"; an evidence block has {', '.join(sorted(_KEYS))}")
    model = spec.get("model")
    if model not in MODELS:
        hint = did_you_mean(model, MODELS) if isinstance(model, str) else None
        raise EvidenceError(f"model {model!r} is not one of {', '.join(MODELS)}" + (f" ({hint})" if hint else ""))
    if model == "saga" and not isinstance(spec.get("workflow"), str):
        raise EvidenceError("model saga needs workflow: a path to the workflow YAML, relative to the ADR")
    if not isinstance(spec.get("params", {}), dict):
        raise EvidenceError("params is a mapping of the model's parameters, e.g. {orders: 200, arrival_rate: 20}")
    seed = spec.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise EvidenceError(f"seed is a whole number (the run's one RNG), not {seed!r}")
    claims = spec.get("claims")
    if not isinstance(claims, list) or not claims:
        raise EvidenceError("claims is a non-empty list, e.g. ['p95_latency < 5s', 'violations == 0']")
    return spec, MODELS[model][1]


def spec_problems(text: str) -> list[EvidenceError]:
    """Everything wrong with a block that can be seen without running it."""
    try:
        spec, units = _spec(text)
    except EvidenceError as err:
        return [err]
    out = []
    for claim in spec["claims"]:
        try:
            parse_claim(claim, units)
        except EvidenceError as err:
            out.append(err)
    return out


def measure(text: str, base: pathlib.Path) -> tuple[dict, list[ClaimResult]]:
    """Run the block's model: every metric it measured, and each claim judged; EvidenceError if it cannot run."""
    spec, units = _spec(text)
    runner = MODELS[spec["model"]][0]
    try:
        measured = runner(spec, base)
    except EvidenceError:
        raise
    except (ValueError, TypeError, KeyError, ImportError) as exc:  # the model refused its parameters
        raise EvidenceError(f"the {spec['model']} run failed: {exc}") from None
    units = units if units is not None else {k: _unit_of(k, v) for k, v in measured.items()}
    results = []
    for text_ in spec["claims"]:
        claim = parse_claim(text_, units)
        results.append(ClaimResult(claim, measured[claim.metric], claim.holds(measured[claim.metric])))
    return dict(measured), results


def run_block(text: str, base: pathlib.Path) -> list[ClaimResult]:
    """Run the block's model and judge each claim; EvidenceError if it cannot run."""
    return measure(text, base)[1]


def _unit_of(metric: str, value) -> str:
    """A unit for a model that reports plain metrics: from its name (…_pct, …_s, …_per_s) or its type."""
    if isinstance(value, bool):
        return "bool"
    if metric.endswith("_pct"):
        return "%"
    if metric.endswith(("_s", "_latency", "_lag")):
        return "s"
    if metric.endswith("_per_s"):
        return "1/s"
    return "count"
