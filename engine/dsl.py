"""The workflow DSL: YAML text → a validated, frozen `Workflow`.

`parse_workflow` checks everything it can and raises one `WorkflowError`
carrying every problem, each with a code, a path such as
``workflow[2].depends_on[0]``, a line and column, and a hint. Warnings do not
raise; they end up in `Workflow.warnings` (or alongside the errors when there
are some). docs/dsl.md is the reference for the keys and their meaning.

The checks run in layers: YAML (engine.yamlsafe), then each step's keys and
values, then the dependency graph, then compensations and services. The
`Workflow` is built only when no layer found an error, so the dataclasses
never see bad input.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .durations import parse_duration
from .errors import Diagnostic, WorkflowError, did_you_mean
from .profiles import PROFILE_KEYS, ServiceProfile
from .retry import BACKOFFS, JITTERS, RetryPolicy
from .workflow import DEFAULT_COMPENSATION_RETRY, DEFAULT_TIMEOUT, STEP_TYPES, Action, Step, Workflow
from .yamlsafe import Locator, decode_utf8, format_path, load_located

__all__ = ["parse_workflow", "load_workflow", "SUPPORTED_VERSIONS", "RESERVED_SERVICES"]

SUPPORTED_VERSIONS = ("1.0", "1")
#: Names of the simulator's own nodes; a service may not take them.
RESERVED_SERVICES = ("orchestrator", "broker", "client")

TOP_KEYS = ("name", "version", "description", "workflow", "compensation_flows", "services",
            "compensation_retry")
STEP_KEYS = ("name", "type", "service", "endpoint", "topic", "depends_on", "timeout", "retry_policy",
             "compensation", "description")
RETRY_KEYS = ("max_attempts", "backoff", "initial_interval", "backoff_coefficient", "max_interval",
              "jitter", "non_retryable_errors")
ACTION_KEYS = ("service", "topic", "endpoint")
#: The key each step type calls its service through.
TARGET_KEY = MappingProxyType({"sync-task": "endpoint", "async-task": "topic", "fire-and-forget": "topic"})
#: Latency distributions and their duration fields (engine.latency documents them).
_LATENCY_DISTS = ("constant", "uniform", "exponential", "lognormal")
_LATENCY_DURATIONS = ("value", "low", "high", "mean", "median")

_INVALID = object()  # a field that failed its check; never reaches a dataclass


def load_workflow(path) -> Workflow:
    """Load and validate a workflow file (UTF-8); its path names it in diagnostics."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"There is no workflow file at {str(path)!r} "
                                f"(relative paths start from {os.getcwd()}).")
    return parse_workflow(decode_utf8(path.read_bytes(), source=str(path)), source=str(path))


def parse_workflow(text: str, *, source: str = "<string>") -> Workflow:
    """A `Workflow` from YAML text, or a `WorkflowError` listing every problem."""
    data, loc = load_located(text, source=source)
    ck = _Checker(loc, source)
    draft = _check_document(ck, data)
    if ck.has_errors():
        raise WorkflowError(ck.sorted())
    return _build(draft, ck, source)


# -- reporting -------------------------------------------------------------------

class _Checker:
    """Collects diagnostics, placing each with the document's Locator."""

    def __init__(self, loc: Locator, source: str) -> None:
        self.loc, self.source = loc, source
        self.diagnostics: list[Diagnostic] = []

    def error(self, code, path, message, hint=None, *, at_key=False, severity="error") -> None:
        line, column = self.loc.key(path) if at_key else self.loc.value(path)
        self.diagnostics.append(Diagnostic(code=code, message=message, path=format_path(path), line=line,
                                           column=column, hint=hint, severity=severity, file=self.source))

    def warn(self, code, path, message, hint=None, *, at_key=False) -> None:
        self.error(code, path, message, hint, at_key=at_key, severity="warning")

    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.diagnostics, key=lambda d: (d.line, d.column))

    def line_of(self, path) -> int:
        return self.loc.value(path)[0]


def _kind(value) -> str:
    """How a value reads in a sentence: 'a list', 'the number 30', 'nothing'."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return "a mapping" if isinstance(value, dict) else "a list"


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- small shared checks ------------------------------------------------------------

def _check_keys(ck, path, mapping, allowed, where) -> None:
    for key in mapping:
        if key not in allowed:
            hint = did_you_mean(key, allowed) or f"{where} takes {', '.join(allowed)}"
            ck.error("unknown-key", path + (key,), f"{key!r} is not a key of {where}", hint, at_key=True)


def _require(ck, path, mapping, keys, where) -> None:
    for key in keys:
        if key not in mapping:
            ck.error("missing-key", path + (key,), f"{where} has no {key!r}, which is required")


def _mapping(ck, path, value, what, example) -> bool:
    if isinstance(value, dict):
        return True
    ck.error("wrong-type", path, f"{what} must be a mapping, not {_kind(value)}", f"write it as {example}")
    return False


def _text(ck, path, value, what, *, allow_empty=False):
    """The string, or _INVALID after reporting why not."""
    if isinstance(value, str):
        if value.strip() or allow_empty:
            return value
        ck.error("bad-value", path, f"{what} is empty")
        return _INVALID
    hint = f'quote it: "{ck.loc.raw(path)}"' if isinstance(value, (int, float)) else None
    ck.error("wrong-type", path, f"{what} must be text, not {_kind(value)}", hint)
    return _INVALID


def _name_list(ck, path, value, what):
    """A list of non-empty strings as [(index, name)], or _INVALID."""
    if isinstance(value, str):
        ck.error("wrong-type", path, f"{what} must be a list, not a single name", f"write {path[-1]}: [{value}]")
        return _INVALID
    if not isinstance(value, list):
        ck.error("wrong-type", path, f"{what} must be a list, not {_kind(value)}", f"write {path[-1]}: [a, b]")
        return _INVALID
    names = [(j, _text(ck, path + (j,), item, f"each entry of {what}")) for j, item in enumerate(value)]
    return _INVALID if any(n is _INVALID for _, n in names) else names


def _duration(ck, path, value, what):
    """Seconds from a duration string such as '5s', or _INVALID."""
    if _is_number(value):
        raw = ck.loc.raw(path) or repr(value)
        if value > 0 and math.isfinite(value):
            fixed = raw if raw.replace(".", "", 1).isdigit() else f"{value:g}"
            ck.error("bad-duration", path, f"{what} {raw} has no unit", f"write '{fixed}s'")
        else:
            ck.error("bad-duration", path, f"{what} {raw} has no unit and is not positive",
                     "a duration is positive and has a unit: 500ms, 5s, 2m, 1h")
        return _INVALID
    if not isinstance(value, str):
        ck.error("wrong-type", path, f"{what} must be a duration such as '5s', not {_kind(value)}")
        return _INVALID
    try:
        return parse_duration(value)
    except ValueError as exc:
        # parse_duration says "<problem>; write <fix>": the fix becomes the hint.
        problem, _, fix = str(exc).partition("; write ")
        hint = f"write {fix}" if fix else "write a positive number and a unit: 500ms, 5s, 2m, 1h"
        ck.error("bad-duration", path, f"{what}: {problem}", hint)
        return _INVALID


# -- the document -------------------------------------------------------------------

@dataclass
class _StepDraft:
    """What one step's checks found; turned into a `Step` when nothing failed."""

    index: int
    name: object = _INVALID
    type: object = _INVALID
    service: object = _INVALID
    endpoint: str | None = None
    topic: str | None = None
    depends_on: list = field(default_factory=list)  # [(index in the list, name)]
    timeout: float = DEFAULT_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    compensation: str | None = None

    @property
    def path(self) -> tuple:
        return ("workflow", self.index)

    @property
    def label(self) -> str:
        return f"step {self.name!r}" if isinstance(self.name, str) else f"workflow[{self.index}]"


@dataclass
class _Draft:
    name: object = _INVALID
    version: object = _INVALID
    steps: list = field(default_factory=list)
    flows: dict = field(default_factory=dict)  # step name → tuple of Actions
    services: dict = field(default_factory=dict)
    compensation_retry: object = DEFAULT_COMPENSATION_RETRY


def _check_document(ck, data: dict) -> _Draft:
    draft = _Draft()
    _check_keys(ck, (), data, TOP_KEYS, "a workflow")
    _require(ck, (), data, ("name", "version", "workflow"), "the workflow")
    if "name" in data:
        draft.name = _text(ck, ("name",), data["name"], "the workflow's name")
    if "version" in data:
        draft.version = _version(ck, data["version"])
    if "description" in data:
        _text(ck, ("description",), data["description"], "description", allow_empty=True)
    if "workflow" in data:
        draft.steps = _steps(ck, data["workflow"])
    _check_graph(ck, draft.steps)
    first = _first_steps(draft.steps)
    if "compensation_flows" in data:
        draft.flows = _flows(ck, data["compensation_flows"], first)
    _check_step_compensations(ck, draft.steps, draft.flows)
    if "services" in data:
        draft.services = _services(ck, data["services"], _used_services(draft.steps))
    if "compensation_retry" in data:
        draft.compensation_retry = _retry(ck, ("compensation_retry",), data["compensation_retry"],
                                          DEFAULT_COMPENSATION_RETRY)
    return draft


def _version(ck, value):
    if value is None or isinstance(value, (dict, list)):
        ck.error("wrong-type", ("version",), f"version must be a number such as 1.0, not {_kind(value)}")
        return _INVALID
    raw = ck.loc.raw(("version",))  # the text as written: YAML would read 1.10 as 1.1
    if raw in SUPPORTED_VERSIONS:
        return raw
    ck.error("unsupported-version", ("version",), f"version {raw} is not supported",
             f"this engine reads versions {' and '.join(SUPPORTED_VERSIONS)}; write version: 1.0")
    return _INVALID


def _first_steps(steps) -> dict[str, _StepDraft]:
    """Step name → its first declaration (a later duplicate is an error already)."""
    out: dict[str, _StepDraft] = {}
    for s in steps:
        if isinstance(s.name, str):
            out.setdefault(s.name, s)
    return out


def _used_services(steps) -> list[str]:
    return list(dict.fromkeys(s.service for s in steps if isinstance(s.service, str)))


# -- steps ------------------------------------------------------------------------------

def _steps(ck, value) -> list[_StepDraft]:
    path = ("workflow",)
    if not isinstance(value, list):
        ck.error("wrong-type", path, f"workflow must be a list of steps, not {_kind(value)}",
                 "write each step as a list item: '- name: ...'")
        return []
    if not value:
        ck.error("bad-value", path, "workflow has no steps", "add at least one step: '- name: ...'")
    return [s for i, raw in enumerate(value) if (s := _step(ck, i, raw)) is not None]


def _step(ck, index: int, raw) -> _StepDraft | None:
    step = _StepDraft(index)
    path = step.path
    if not _mapping(ck, path, raw, f"workflow[{index}]", "'- name: ...' followed by the step's keys"):
        return None
    if "name" in raw:
        step.name = _text(ck, path + ("name",), raw["name"], "a step's name")
    _check_keys(ck, path, raw, STEP_KEYS, step.label)
    _require(ck, path, raw, ("name", "type", "service"), step.label)
    if "type" in raw:
        step.type = _step_type(ck, path + ("type",), raw["type"])
    if "service" in raw:
        step.service = _service_name(ck, path + ("service",), raw["service"])
    _step_target(ck, step, raw)
    if "depends_on" in raw:
        names = _name_list(ck, path + ("depends_on",), raw["depends_on"], "depends_on")
        step.depends_on = [] if names is _INVALID else _without_repeats(ck, path + ("depends_on",), names)
    _step_awaiting(ck, step, raw)
    _step_compensation(ck, step, raw)
    if "description" in raw:
        _text(ck, path + ("description",), raw["description"], "description", allow_empty=True)
    return step


def _step_type(ck, path, value):
    if not isinstance(value, str):
        ck.error("wrong-type", path, f"a step's type must be text, not {_kind(value)}",
                 f"write one of {', '.join(STEP_TYPES)}")
        return _INVALID
    if value in STEP_TYPES:
        return value
    ck.error("unknown-step-type", path, f"{value!r} is not a step type",
             did_you_mean(value, STEP_TYPES) or f"a step type is one of {', '.join(STEP_TYPES)}")
    return _INVALID


def _service_name(ck, path, value):
    name = _text(ck, path, value, "a service name")
    if name in RESERVED_SERVICES:
        ck.error("bad-value", path, f"the service name {name!r} is reserved for the simulator's own {name}",
                 f"choose another name; {', '.join(RESERVED_SERVICES)} are reserved")
        return _INVALID
    return name


def _step_target(ck, step: _StepDraft, raw) -> None:
    """A sync-task calls an endpoint; the other types publish to a topic."""
    for key in ("endpoint", "topic"):
        if key in raw:
            value = _text(ck, step.path + (key,), raw[key], key)
            setattr(step, key, None if value is _INVALID else value)
    wanted = TARGET_KEY.get(step.type)
    if wanted is None:
        return  # the type is already reported
    other = "topic" if wanted == "endpoint" else "endpoint"
    how = ("calls an endpoint, e.g. endpoint: /validate" if wanted == "endpoint"
           else "publishes to a topic, e.g. topic: orders.created")
    if wanted not in raw:
        ck.error("missing-key", step.path + (wanted,), f"{step.label} is {_a(step.type)} and needs {wanted!r}",
                 f"{_a(step.type)} {how}")
    if other in raw:
        ck.error("inapplicable-key", step.path + (other,), f"{step.label} is {_a(step.type)}, which takes no "
                 f"{other!r}", f"{_a(step.type)} {how}", at_key=True)


def _without_repeats(ck, path, names):
    seen: dict[str, int] = {}
    out = []
    for j, name in names:
        if name in seen:
            ck.error("bad-value", path + (j,), f"depends_on lists {name!r} twice", "list each step once")
        else:
            seen[name] = j
            out.append((j, name))
    return out


def _step_awaiting(ck, step: _StepDraft, raw) -> None:
    """timeout and retry_policy; on a fire-and-forget step they are ignored, with a warning."""
    for key in ("timeout", "retry_policy"):
        if key in raw and step.type == "fire-and-forget":
            ck.warn("inapplicable-key", step.path + (key,), f"{step.label} is fire-and-forget: it is never "
                    f"awaited, so {key} is ignored", f"remove {key}, or make it an async-task", at_key=True)
    if "timeout" in raw:
        timeout = _duration(ck, step.path + ("timeout",), raw["timeout"], "timeout")
        if timeout is not _INVALID:
            step.timeout = timeout
    if "retry_policy" in raw:
        retry = _retry(ck, step.path + ("retry_policy",), raw["retry_policy"], RetryPolicy())
        if retry is not _INVALID:
            step.retry = retry


def _step_compensation(ck, step: _StepDraft, raw) -> None:
    if "compensation" not in raw:
        return
    path = step.path + ("compensation",)
    value = _text(ck, path, raw["compensation"], "compensation")
    if step.type == "fire-and-forget":
        ck.error("uncompensable-step", path, f"{step.label} is fire-and-forget: it is never awaited, so it "
                 "is never compensated", "remove compensation, or make the step an async-task", at_key=True)
    elif value is not _INVALID:
        step.compensation = value


# -- retry policies ------------------------------------------------------------------

def _retry(ck, path, value, base: RetryPolicy):
    """A RetryPolicy whose omitted fields come from `base`, or _INVALID."""
    if not _mapping(ck, path, value, path[-1], "a mapping such as {max_attempts: 3, backoff: exponential}"):
        return _INVALID
    _check_keys(ck, path, value, RETRY_KEYS, "a retry policy")
    given = {key: _retry_field(ck, path + (key,), key, v) for key, v in value.items() if key in RETRY_KEYS}
    valid = {key: v for key, v in given.items() if v is not _INVALID}
    fields = {**{f: getattr(base, f) for f in RETRY_KEYS}, **valid}
    problems = RetryPolicy.problems(**fields)
    for name, message in problems:
        choices = {"backoff": BACKOFFS, "jitter": JITTERS}.get(name)
        hint = did_you_mean(fields[name], choices) if choices else None
        ck.error("bad-retry-policy", path + (name,) if name in valid else path, message, hint)
    if problems or len(valid) < len(given):
        return _INVALID
    return RetryPolicy(**fields)


def _retry_field(ck, path, key, value):
    if key in ("initial_interval", "max_interval"):
        if key == "max_interval" and value is None:
            return None  # the default: 100 × initial_interval
        return _duration(ck, path, value, key)
    if key == "max_attempts":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        ck.error("wrong-type", path, f"max_attempts must be a whole number, not {_kind(value)}",
                 "it counts every attempt, the first included: max_attempts: 3")
        return _INVALID
    if key == "backoff_coefficient":
        if _is_number(value) and math.isfinite(value):
            return float(value)
        ck.error("wrong-type", path, f"backoff_coefficient must be a number, not {_kind(value)}",
                 "e.g. backoff_coefficient: 2.0")
        return _INVALID
    if key == "non_retryable_errors":
        names = _name_list(ck, path, value, "non_retryable_errors")
        return _INVALID if names is _INVALID else tuple(n for _, n in names)
    # backoff and jitter: their allowed values are checked by RetryPolicy.problems
    if isinstance(value, str):
        return value
    choices = BACKOFFS if key == "backoff" else JITTERS
    ck.error("wrong-type", path, f"{key} must be text, not {_kind(value)}", f"write one of {', '.join(choices)}")
    return _INVALID


# -- the graph ---------------------------------------------------------------------------

def _check_graph(ck, steps) -> None:
    first: dict[str, _StepDraft] = {}
    for s in steps:
        if not isinstance(s.name, str):
            continue
        if s.name in first:
            line = ck.line_of(first[s.name].path + ("name",))
            ck.error("duplicate-step", s.path + ("name",), f"two steps are named {s.name!r}; the first is on "
                     f"line {line}", "give each step its own name")
        else:
            first[s.name] = s
    edges: dict[str, list[str]] = {name: [] for name in first}
    for s in steps:
        for j, dep in s.depends_on:
            path = s.path + ("depends_on", j)
            if dep == s.name:
                ck.error("self-dependency", path, f"{s.label} depends on itself", "remove it from depends_on")
            elif dep not in first:
                ck.error("unknown-dependency", path, f"depends_on names {dep!r}, which is not a step",
                         did_you_mean(dep, list(first)) or f"the steps are {', '.join(first)}")
            elif first.get(s.name) is s:
                edges[s.name].append(dep)
    cycle = _find_cycle(list(first), edges)
    if cycle:
        _report_cycle(ck, cycle, first)


def _find_cycle(order: list[str], edges: dict[str, list[str]]) -> list[str] | None:
    """One cycle following `edges`, as [a, b, ..., a]; iterative, so no depth limit."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for root in order:
        if root in state:
            continue
        state[root] = 1
        path, stack = [root], [iter(edges[root])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(edges[nxt]))
    return None


def _report_cycle(ck, cycle: list[str], first: dict[str, _StepDraft]) -> None:
    """Report a cycle once, in running order (a → b: b depends on a), at its earliest step."""
    ring = list(reversed(cycle[:-1]))  # found following depends_on; show it in running order
    start = min(range(len(ring)), key=lambda i: first[ring[i]].index)
    ring = ring[start:] + ring[:start]
    at = first[ring[0]]
    j = next(j for j, dep in at.depends_on if dep == ring[-1])
    ck.error("cycle", at.path + ("depends_on", j), "the dependencies form a cycle: "
             f"{' → '.join(ring + ring[:1])} (each step depends on the one before it)",
             "a workflow is a DAG: remove one of these depends_on entries")


# -- compensation ------------------------------------------------------------------------

def _flows(ck, value, steps: dict[str, _StepDraft]) -> dict[str, tuple[Action, ...]]:
    path = ("compensation_flows",)
    if not _mapping(ck, path, value, "compensation_flows", "step-name: [list of actions]"):
        return {}
    services = _used_services(steps.values())
    out: dict[str, tuple[Action, ...]] = {}
    for name, actions in value.items():
        step = steps.get(name)
        if step is None:
            ck.error("unknown-step", path + (name,), f"compensation_flows names {name!r}, which is not a step",
                     did_you_mean(name, list(steps)) or f"the steps are {', '.join(steps)}", at_key=True)
        elif step.type == "fire-and-forget":
            ck.error("uncompensable-step", path + (name,), f"{step.label} is fire-and-forget: it is never "
                     "awaited, so it is never compensated", "remove this entry, or make the step an "
                     "async-task", at_key=True)
        parsed = _actions(ck, path + (name,), actions, services)
        if parsed is not _INVALID and step is not None:
            out[name] = parsed
    return out


def _actions(ck, path, value, services):
    if not isinstance(value, list):
        ck.error("wrong-type", path, f"a compensation flow must be a list of actions, not {_kind(value)}",
                 "write '- service: ...' then 'topic: ...' or 'endpoint: ...'")
        return _INVALID
    if not value:
        ck.error("bad-value", path, "this compensation flow has no actions", "add '- service: ...' with a "
                 "topic or an endpoint, or remove the entry")
        return _INVALID
    actions = [_action(ck, path + (k,), a, services) for k, a in enumerate(value)]
    return _INVALID if any(a is _INVALID for a in actions) else tuple(actions)


def _action(ck, path, value, services):
    if not _mapping(ck, path, value, "a compensation action", "{service: ..., topic: ...}"):
        return _INVALID
    before = len(ck.diagnostics)
    _check_keys(ck, path, value, ACTION_KEYS, "a compensation action")
    _require(ck, path, value, ("service",), "a compensation action")
    service = _text(ck, path + ("service",), value["service"], "service") if "service" in value else _INVALID
    if isinstance(service, str) and service not in services:
        ck.error("unknown-service", path + ("service",), f"no step uses the service {service!r}",
                 did_you_mean(service, services) or "a compensation calls a service that a step uses")
    targets = [key for key in ("topic", "endpoint") if key in value]
    if not targets:
        ck.error("missing-key", path + ("topic",), "a compensation action needs a topic or an endpoint",
                 "add 'topic: ...' for a message or 'endpoint: /...' for a request")
    elif len(targets) == 2:
        ck.error("inapplicable-key", path + ("endpoint",), "a compensation action has a topic or an "
                 "endpoint, not both", "keep topic for a message, or endpoint for a request", at_key=True)
    target = {key: _text(ck, path + (key,), value[key], key) for key in targets}
    if len(ck.diagnostics) > before:
        return _INVALID
    return Action(service=service, **target)


def _check_step_compensations(ck, steps, flows) -> None:
    """A step's `compensation` should name one of its compensation_flows actions."""
    for s in steps:
        if s.compensation is None or s.name not in flows:
            continue
        targets = [a.target for a in flows[s.name]]
        if s.compensation not in targets:
            ck.warn("conflicting-compensation", s.path + ("compensation",), f"{s.label} says compensation: "
                    f"{s.compensation}, but its compensation_flows entry calls {', '.join(targets)}; "
                    "the compensation_flows entry is used", "make them agree, or remove one")


def _step_actions(step: _StepDraft, flows) -> tuple[Action, ...]:
    if step.name in flows:
        return flows[step.name]
    if step.compensation is None:
        return ()
    key = "endpoint" if step.compensation.startswith("/") else "topic"
    return (Action(service=step.service, **{key: step.compensation}),)


# -- services -------------------------------------------------------------------------------

def _services(ck, value, used: list[str]) -> dict[str, ServiceProfile]:
    path = ("services",)
    if not _mapping(ck, path, value, "services", "service-name: {latency: 20ms, failure_rate: 0.1}"):
        return {}
    out: dict[str, ServiceProfile] = {}
    for name, spec in value.items():
        if name not in used:
            ck.error("unknown-service", path + (name,), f"services names {name!r}, which no step uses",
                     did_you_mean(name, used) or f"the steps use {', '.join(used) or 'no service yet'}",
                     at_key=True)
        profile = _profile(ck, path + (name,), spec)
        if profile is not _INVALID:
            out[name] = profile
    return out


def _profile(ck, path, spec):
    if not _mapping(ck, path, spec, "a service profile", "{latency: 20ms, failure_rate: 0.1}"):
        return _INVALID
    before = len(ck.diagnostics)
    _check_keys(ck, path, spec, PROFILE_KEYS, "a service profile")
    known = {k: v for k, v in spec.items() if k in PROFILE_KEYS}
    if "latency" in known and not _latency_durations(ck, path + ("latency",), known["latency"]):
        del known["latency"]  # reported; parse_latency must not see it
    codes = {"latency": "bad-latency", "failure_rate": "bad-value", "capacity": "bad-value"}
    for key, message in ServiceProfile.problems(known):
        ck.error(codes.get(key, "wrong-type"), path + (key,) if key else path, message)
    if len(ck.diagnostics) > before:
        return _INVALID
    return ServiceProfile.from_spec(known)


def _latency_durations(ck, path, spec) -> bool:
    """Durations in a latency carry units, like every duration in a workflow."""
    if not isinstance(spec, dict):
        return _latency_duration(ck, path, spec, "latency")
    ok = True
    dist = spec.get("dist")
    if not isinstance(dist, str):
        ck.error("wrong-type" if "dist" in spec else "missing-key", path + ("dist",),
                 f"a latency mapping needs dist: one of {', '.join(_LATENCY_DISTS)}")
        ok = False
    elif dist not in _LATENCY_DISTS:
        ck.error("bad-latency", path + ("dist",), f"{dist!r} is not a latency distribution",
                 did_you_mean(dist, _LATENCY_DISTS) or f"dist is one of {', '.join(_LATENCY_DISTS)}")
        ok = False
    for key in _LATENCY_DURATIONS:
        if key in spec:
            ok = _latency_duration(ck, path + (key,), spec[key], key) and ok
    return ok


def _latency_duration(ck, path, value, what) -> bool:
    if isinstance(value, str):
        try:
            parse_duration(value, allow_zero=True)
            return True
        except ValueError:
            pass  # _duration words the problem
    return _duration(ck, path, value, what) is not _INVALID


# -- building ---------------------------------------------------------------------------------

def _build(draft: _Draft, ck: _Checker, source: str) -> Workflow:
    steps = tuple(
        Step(name=s.name, type=s.type, service=s.service, endpoint=s.endpoint, topic=s.topic,
             depends_on=tuple(name for _, name in s.depends_on), timeout=s.timeout, retry=s.retry,
             compensation=_step_actions(s, draft.flows))
        for s in draft.steps)
    return Workflow(name=draft.name, version=draft.version, steps=steps, services=draft.services,
                    compensation_retry=draft.compensation_retry, source=source,
                    warnings=tuple(ck.sorted()))
