"""Fault plans in YAML, so a scenario can be saved and replayed::

    faults:
      - partition: [orchestrator, inventory-service]
        start: 2s
        end: 8s
      - crash: orchestrator
        at: 3s                # or: after: process-payment
        restart_after: 5s
      - fail: payment-service
        rate: 0.5
      - slow: payment-service # or a link: [a, b]
        factor: 10
      - loss: ["*", "*"]      # "*" is any node
        rate: 0.1
      - duplicate: [broker, inventory-service]
        rate: 0.2

Times carry units; ``end: never`` (the default) lasts to the end of the run.
Problems are reported like workflow problems: file:line:col and a path.
"""

from __future__ import annotations

from .errors import Diagnostic, WorkflowError, did_you_mean
from .faults import FAULT_KINDS, FaultPlan, parse_time
from .yamlsafe import format_path, load_located

__all__ = ["parse_fault_plan", "load_fault_plan"]

_KEYS = {
    "partition": ("start", "end", "one_way"),
    "crash": ("at", "after", "instance", "restart_after"),
    "fail": ("rate", "start", "end", "error"),
    "slow": ("factor", "start", "end"),
    "loss": ("rate", "start", "end", "one_way"),
    "duplicate": ("rate", "start", "end", "one_way"),
}
_TIMES = ("start", "end", "at", "restart_after")


def load_fault_plan(path) -> FaultPlan:
    with open(path, encoding="utf-8") as f:
        return parse_fault_plan(f.read(), source=str(path))


def parse_fault_plan(text: str, *, source: str = "<fault plan>", scenario_keys: bool = False) -> FaultPlan:
    """A FaultPlan from YAML; with `scenario_keys`, a scenario's other keys are allowed beside `faults`."""
    from .scenario import SCENARIO_KEYS

    data, loc = load_located(text, source=source)
    problems: list[Diagnostic] = []

    def bad(path, message, hint=None, at_key=False):
        line, col = loc.key(path) if at_key else loc.value(path)
        problems.append(Diagnostic("bad-fault", message, format_path(path), line, col, hint, file=source))

    for key in data:
        if scenario_keys and key in SCENARIO_KEYS:
            continue
        if key != "faults":
            bad((key,), f"unknown key {key!r}; a fault plan has one key, 'faults'", did_you_mean(key, ["faults"]),
                at_key=True)
    faults = data.get("faults", [])
    if faults is None:
        faults = []
    if not isinstance(faults, list):
        bad(("faults",), "'faults' is a list of faults, each a mapping such as {crash: orchestrator, at: 3s}")
        faults = []
    plan = FaultPlan()
    for i, raw in enumerate(faults):
        path = ("faults", i)
        if not isinstance(raw, dict):
            bad(path, "a fault is a mapping such as {crash: orchestrator, at: 3s}")
            continue
        kinds = [k for k in raw if k in FAULT_KINDS]
        if len(kinds) != 1:
            bad(path, f"a fault names exactly one of {', '.join(FAULT_KINDS)}; found "
                      f"{', '.join(kinds) or 'none'}",
                next((did_you_mean(k, FAULT_KINDS) for k in raw if did_you_mean(k, FAULT_KINDS)), None))
            continue
        kind = kinds[0]
        args = {}
        ok = True
        for key, value in raw.items():
            if key == kind:
                continue
            if key not in _KEYS[kind]:
                bad(path + (key,), f"{kind} takes {', '.join(_KEYS[kind])}, not {key!r}",
                    did_you_mean(key, _KEYS[kind]), at_key=True)
                ok = False
                continue
            if key in _TIMES:
                try:
                    value = parse_time(value, key)
                except ValueError as exc:
                    bad(path + (key,), str(exc))
                    ok = False
                    continue
            args[key] = value
        if not ok:
            continue
        try:
            plan = _add(plan, kind, raw[kind], args)
        except (ValueError, TypeError) as exc:
            bad(path + (kind,), str(exc))
    if problems:
        raise WorkflowError(sorted(problems, key=lambda d: (d.line, d.column)))
    return plan


def _nodes(value, kind: str, count: int) -> list:
    if count == 1 and isinstance(value, str):
        return [value]
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return [None if v == "*" else v for v in value]
    shape = "a node name" if count == 1 else "two node names, e.g. [orchestrator, payment-service]"
    raise ValueError(f"{kind} takes {shape}; got {value!r}")


def _add(plan: FaultPlan, kind: str, target, args: dict) -> FaultPlan:
    if kind == "crash":
        return plan.crash(_nodes(target, kind, 1)[0], **args)
    if kind == "fail":
        if "rate" not in args:
            raise ValueError("fail needs a rate, e.g. rate: 0.5")
        return plan.fail(_nodes(target, kind, 1)[0], **args)
    if kind == "slow":
        nodes = _nodes(target, kind, 1 if isinstance(target, str) else 2)
        if "factor" not in args:
            raise ValueError("slow needs a factor, e.g. factor: 10")
        return plan.slow(*nodes, **args)
    a, b = _nodes(target, kind, 2)
    if kind == "partition":
        if a is None or b is None:
            raise ValueError("a partition names two nodes; '*' is allowed only for loss and duplicate")
        return plan.partition(a, b, **args)
    if "rate" not in args:
        raise ValueError(f"{kind} needs a rate, e.g. rate: 0.1")
    return getattr(plan, kind)(a, b, **args)
