"""The DSL's compensations and services: compensation_flows, their actions, and the `services:` block."""

from __future__ import annotations

from ..durations import parse_duration
from ..errors import did_you_mean
from ..profiles import NEEDS_TABLE, PROFILE_KEYS, ServiceProfile
from ..workflow import Action
from .report import _INVALID, _check_keys, _duration, _kind, _mapping, _require, _text
from .steps import _StepDraft

ACTION_KEYS = ("service", "topic", "endpoint")
#: Latency distributions and their duration fields (engine.latency documents them).
_LATENCY_DISTS = ("constant", "uniform", "exponential", "lognormal")
_LATENCY_DURATIONS = ("value", "low", "high", "mean", "median")


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

def _used_services(steps) -> list[str]:
    return list(dict.fromkeys(s.service for s in steps if isinstance(s.service, str)))


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
        code = "missing-key" if message == NEEDS_TABLE else codes.get(key, "wrong-type")
        ck.error(code, path + (key,) if key else path, message)
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
