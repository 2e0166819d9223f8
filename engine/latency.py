"""Latency distributions, written the same way everywhere.

A latency is a duration for a constant (``"10ms"``) or a mapping naming a
distribution::

    {dist: exponential, mean: 50ms}
    {dist: uniform, low: 5ms, high: 20ms}
    {dist: lognormal, median: 40ms, sigma: 0.5}
    {dist: constant, value: 10ms}

Samples are drawn from the simulation's one RNG (a `random.Random`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from .durations import format_duration, parse_duration

__all__ = ["Latency", "Constant", "Uniform", "Exponential", "LogNormal", "parse_latency"]


class Latency:
    """Base class: `sample(rng)` seconds, `mean`, `quantile(q)`, `to_spec()`."""

    def sample(self, rng) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def quantile(self, q: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def scaled(self, factor: float) -> "Latency":  # pragma: no cover - abstract
        raise NotImplementedError

    def to_spec(self):  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Constant(Latency):
    value: float

    def sample(self, rng) -> float:
        return self.value

    @property
    def mean(self) -> float:
        return self.value

    def quantile(self, q: float) -> float:
        return self.value

    def scaled(self, factor: float) -> "Constant":
        return Constant(self.value * factor)

    def to_spec(self):
        return format_duration(self.value)


@dataclass(frozen=True)
class Uniform(Latency):
    low: float
    high: float

    def sample(self, rng) -> float:
        return self.low + (self.high - self.low) * rng.random()

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def quantile(self, q: float) -> float:
        return self.low + (self.high - self.low) * q

    def scaled(self, factor: float) -> "Uniform":
        return Uniform(self.low * factor, self.high * factor)

    def to_spec(self):
        return {"dist": "uniform", "low": format_duration(self.low), "high": format_duration(self.high)}


@dataclass(frozen=True)
class Exponential(Latency):
    mean_value: float

    def sample(self, rng) -> float:
        return rng.expovariate(1.0 / self.mean_value)

    @property
    def mean(self) -> float:
        return self.mean_value

    def quantile(self, q: float) -> float:
        return -self.mean_value * math.log1p(-q)

    def scaled(self, factor: float) -> "Exponential":
        return Exponential(self.mean_value * factor)

    def to_spec(self):
        return {"dist": "exponential", "mean": format_duration(self.mean_value)}


@dataclass(frozen=True)
class LogNormal(Latency):
    median: float
    sigma: float

    def sample(self, rng) -> float:
        return rng.lognormvariate(math.log(self.median), self.sigma)

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)

    def quantile(self, q: float) -> float:
        return self.median * math.exp(self.sigma * NormalDist().inv_cdf(q))

    def scaled(self, factor: float) -> "LogNormal":
        return LogNormal(self.median * factor, self.sigma)

    def to_spec(self):
        return {"dist": "lognormal", "median": format_duration(self.median), "sigma": self.sigma}


_FIELDS = {
    "constant": ("value",),
    "uniform": ("low", "high"),
    "exponential": ("mean",),
    "lognormal": ("median", "sigma"),
}


def parse_latency(spec) -> Latency:
    """A `Latency` from a duration, a number of seconds, a mapping, or a Latency.

    Raises ValueError with a sentence saying what is wrong.
    """
    if isinstance(spec, Latency):
        return spec
    if isinstance(spec, (str, int, float)) and not isinstance(spec, bool):
        return Constant(parse_duration(spec, allow_zero=True))
    if not isinstance(spec, dict):
        raise ValueError(f"a latency is a duration ('10ms') or a mapping with 'dist'; got {spec!r}")
    dist = spec.get("dist")
    if dist not in _FIELDS:
        choices = ", ".join(_FIELDS)
        raise ValueError(f"latency 'dist' must be one of {choices}; got {dist!r}")
    wanted = _FIELDS[dist]
    extra = sorted(set(spec) - set(wanted) - {"dist"})
    missing = [f for f in wanted if f not in spec]
    if extra or missing:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(extra))
        raise ValueError(f"{dist} latency takes {', '.join(wanted)}: {'; '.join(parts)}")
    if dist == "constant":
        return Constant(parse_duration(spec["value"], allow_zero=True))
    if dist == "uniform":
        low = parse_duration(spec["low"], allow_zero=True)
        high = parse_duration(spec["high"], allow_zero=True)
        if high < low:
            raise ValueError(f"uniform latency needs low <= high; got low={spec['low']}, high={spec['high']}")
        return Uniform(low, high)
    if dist == "exponential":
        return Exponential(parse_duration(spec["mean"]))
    sigma = spec["sigma"]
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not 0 <= sigma <= 5:
        raise ValueError(f"lognormal 'sigma' is a number between 0 and 5; got {sigma!r}")
    return LogNormal(parse_duration(spec["median"]), float(sigma))
