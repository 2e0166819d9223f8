"""Reporting a workflow's problems, and the small value checks every part of the DSL shares.

`_Checker` collects the diagnostics; the checks below report through it and
return `_INVALID` for a value that failed, so it never reaches a dataclass.
"""

from __future__ import annotations

import math

from ..durations import parse_duration
from ..errors import Diagnostic, did_you_mean
from ..yamlsafe import Locator, format_path

_INVALID = object()  # a field that failed its check; never reaches a dataclass


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
