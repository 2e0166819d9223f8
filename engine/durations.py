"""Durations with units: ``500ms``, ``5s``, ``2m``, ``1.5s``, ``1h``.

Simulated time is a float of seconds everywhere in the engine; a duration in
YAML must carry its unit, because a bare ``30`` could be seconds or
milliseconds and the difference is a thousandfold.
"""

from __future__ import annotations

import math
import re

__all__ = ["parse_duration", "format_duration"]

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PATTERN = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(us|ms|s|m|h)\s*$")


def parse_duration(value, *, allow_zero: bool = False) -> float:
    """Seconds from a duration string; a float or int is taken as seconds already.

    Raises ValueError with a sentence saying what is wrong and how to write it.
    YAML callers pass strings only: a bare number there has no unit.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '5s', got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        match = _PATTERN.match(value)
        if not match:
            if re.match(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$", value):
                raise ValueError(f"duration {value!r} has no unit; write e.g. '{value.strip()}s' or '{value.strip()}ms'")
            raise ValueError(f"{value!r} is not a duration; write a number and a unit: 500ms, 5s, 2m, 1h")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError(f"expected a duration such as '5s', got {type(value).__name__} {value!r}")
    if not math.isfinite(seconds):
        raise ValueError(f"duration {value!r} is not finite")
    if seconds < 0:
        raise ValueError(f"duration {value!r} is negative; durations are > 0")
    if seconds == 0 and not allow_zero:
        raise ValueError(f"duration {value!r} is zero; durations are > 0")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest readable form: 0.0005 → '500us', 0.25 → '250ms', 90 → '1.5m'."""
    if seconds == 0:
        return "0s"
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(seconds) >= size:
            return f"{seconds / size:.4g}{unit}"
    return f"{seconds / 1e-6:.4g}us"
