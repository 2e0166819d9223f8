"""The DSL's steps: each step's keys and values, and its retry policy."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import did_you_mean
from ..retry import BACKOFFS, JITTERS, RetryPolicy
from ..workflow import DEFAULT_TIMEOUT, STEP_TYPES
from .report import _INVALID, _a, _check_keys, _duration, _is_number, _kind, _mapping, _name_list, _require, _text

#: Names of the simulator's own nodes; a service may not take them.
RESERVED_SERVICES = ("orchestrator", "broker", "client")

STEP_KEYS = ("name", "type", "service", "endpoint", "topic", "depends_on", "timeout", "retry_policy",
             "compensation", "description")
RETRY_KEYS = ("max_attempts", "backoff", "initial_interval", "backoff_coefficient", "max_interval",
              "jitter", "non_retryable_errors")
#: The key each step type calls its service through.
TARGET_KEY = MappingProxyType({"sync-task": "endpoint", "async-task": "topic", "fire-and-forget": "topic"})


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
