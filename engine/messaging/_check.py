"""Validation of plain parameters: every error names the parameter, the bad value and what is allowed."""

from __future__ import annotations

import math

from ..durations import parse_duration
from ..errors import did_you_mean


def number(name: str, value, *, low: float = -math.inf, high: float = math.inf, low_open: bool = False,
           allowed: str = "") -> float:
    """A finite real number in [low, high] (or (low, high] with low_open); bools are refused."""
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
          and (value > low if low_open else value >= low) and value <= high)
    if not ok:
        raise ValueError(f"{name} must be {allowed or _range(low, high, low_open)}, got {value!r}")
    return float(value)


def whole(name: str, value, *, low: int = 0, high: int | None = None, allowed: str = "") -> int:
    """A whole number in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {allowed or 'a whole number ' + span}, got {value!r}")
    return value


def choice(name: str, value, choices) -> str:
    """One of `choices`; the message lists them and suggests the closest."""
    if value not in choices:
        hint = did_you_mean(value, choices) if isinstance(value, str) else None
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}"
                         + (f"; {hint}" if hint else ""))
    return value


def seconds(name: str, value, *, allow_zero: bool = True) -> float:
    """Simulated seconds: a number, or a duration string with a unit ('90s', '2m', '1h')."""
    try:
        return parse_duration(value, allow_zero=allow_zero)
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None


def keys(name: str, given: dict, known) -> None:
    """Refuse unknown keys of a mapping parameter, naming the known ones."""
    if not isinstance(given, dict):
        raise ValueError(f"{name} must be a mapping with keys {', '.join(known)}, got {given!r}")
    for key in given:
        if key not in known:
            hint = did_you_mean(key, known)
            raise ValueError(f"{name} has no key {key!r}" + (f" ({hint})" if hint else "")
                             + f"; it takes {', '.join(known)}")


def _range(low, high, low_open) -> str:
    if math.isinf(low) and math.isinf(high):
        return "a finite number"
    if math.isinf(high):
        return f"a number {'>' if low_open else '>='} {low:g}"
    return f"a number from {low:g} to {high:g}"
