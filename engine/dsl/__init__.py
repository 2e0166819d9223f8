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

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import WorkflowError
from ..workflow import DEFAULT_COMPENSATION_RETRY, Step, Workflow
from ..yamlsafe import decode_utf8, load_located
from .compensation import _check_step_compensations, _flows, _services, _step_actions, _used_services
from .graph import _check_graph
from .report import _INVALID, _Checker, _check_keys, _kind, _require, _text
from .steps import RESERVED_SERVICES, _StepDraft, _retry, _steps

__all__ = ["parse_workflow", "load_workflow", "SUPPORTED_VERSIONS", "RESERVED_SERVICES"]

SUPPORTED_VERSIONS = ("1.0", "1")

TOP_KEYS = ("name", "version", "description", "workflow", "compensation_flows", "services",
            "compensation_retry")


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


# -- the document -------------------------------------------------------------------

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
