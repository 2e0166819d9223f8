"""Diagnostics: every problem in an input is reported, all at once, with a place.

A `Diagnostic` reads like a compiler message
(``file:line:col: error[CODE] path: message``) so that editors and learners
can jump to it. Codes are stable: tests and docs refer to them, wording may
change. `CODES` is the registry; docs/dsl.md carries the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CODES", "Diagnostic", "WorkflowError", "did_you_mean"]

#: Every diagnostic code, with what it means. docs/dsl.md mirrors this table.
CODES: dict[str, str] = {
    # YAML layer
    "yaml-syntax": "The text is not valid YAML.",
    "empty-document": "The document is empty.",
    "not-a-mapping": "The document's top level is not a mapping of keys to values.",
    "multiple-documents": "The file holds more than one YAML document (`---`).",
    "yaml-tag": "An explicit YAML tag (`!!python/...`, `!custom`) was used.",
    "yaml-anchor": "An anchor, alias or merge key (`&a`, `*a`, `<<`) was used.",
    "too-large": "The document is larger than the loader accepts.",
    "too-deep": "The document is nested deeper than the loader accepts.",
    "duplicate-key": "A mapping has the same key twice (YAML would keep the last silently).",
    "ambiguous-scalar": "A plain scalar that YAML 1.1 reads as something else (`no` → false, `1:30` → 90, `0755` → 493).",
    # Schema
    "unknown-key": "A key the DSL does not know.",
    "missing-key": "A required key is absent.",
    "wrong-type": "A value has the wrong type (e.g. a list where a string is needed).",
    "bad-value": "A value is out of range or not one of the allowed choices.",
    "inapplicable-key": "A known key that does not apply to this kind of step.",
    "unsupported-version": "The workflow's `version` is not one this engine understands.",
    "unknown-step-type": "A step's `type` is not sync-task, async-task or fire-and-forget.",
    "bad-duration": "A duration without a unit, zero, negative or not a number.",
    "bad-latency": "A latency is neither a duration nor a known distribution.",
    "bad-retry-policy": "A retry policy breaks a rule (Temporal's validation rules).",
    # Graph
    "duplicate-step": "Two steps have the same name.",
    "unknown-dependency": "`depends_on` names a step that does not exist.",
    "self-dependency": "A step depends on itself.",
    "cycle": "The dependencies form a cycle; a workflow must be a DAG.",
    # Compensation and services
    "unknown-step": "`compensation_flows` names a step that does not exist.",
    "unknown-service": "A service is named that no step uses.",
    "uncompensable-step": "A fire-and-forget step declares a compensation; it is never awaited, so never compensated.",
    "conflicting-compensation": "A step's `compensation` disagrees with its `compensation_flows` entry.",
    # Fault plans
    "bad-fault": "A fault in a fault plan is malformed.",
}


@dataclass(frozen=True)
class Diagnostic:
    """One problem, located. `line` and `column` are 1-based (0 = unknown)."""

    code: str
    message: str
    path: str = ""
    line: int = 0
    column: int = 0
    hint: str | None = None
    severity: str = "error"
    file: str = "<string>"

    def __post_init__(self) -> None:
        if self.code not in CODES:  # a programming error, not a user error
            raise KeyError(f"unregistered diagnostic code {self.code!r}")

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        path = f" {self.path}:" if self.path else ""
        text = f"{where}: {self.severity}[{self.code}]{path} {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class WorkflowError(ValueError):
    """Raised with every problem found in a workflow (or fault plan) at once."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.diagnostics]


def did_you_mean(word: str, choices) -> str | None:
    """A hint naming the closest choice, or None when nothing is close."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None
