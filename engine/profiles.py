"""Service profiles: how a simulated service behaves.

A profile is written the same way in a workflow's ``services:`` block and in
``simulate(services=...)``::

    payment-service:
      latency: {dist: lognormal, median: 40ms, sigma: 0.5}
      failure_rate: 0.1                 # or {ServiceError: 0.1, CardDeclined: 0.02}
      capacity: 4                       # requests served at once; the rest queue
      idempotent: true                  # deduplicate by idempotency key
      tombstones: true                  # refuse work whose undo came first (needs idempotent)

Defaults: latency lognormal(median 20ms, sigma 0.5), no failures, unbounded
capacity, and **not idempotent** — a service deduplicates only if someone
built it to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .latency import Latency, LogNormal, parse_latency

__all__ = ["ServiceProfile", "DEFAULT_ERROR", "PROFILE_KEYS", "NEEDS_TABLE"]

DEFAULT_ERROR = "ServiceError"
PROFILE_KEYS = ("latency", "failure_rate", "capacity", "idempotent", "tombstones")
NEEDS_TABLE = "tombstones need the idempotency table they are kept in: set idempotent: true as well"


@dataclass(frozen=True, kw_only=True)
class ServiceProfile:
    latency: Latency = field(default_factory=lambda: LogNormal(0.020, 0.5))
    #: (error name, probability) pairs; a request fails with at most one of them.
    failures: tuple[tuple[str, float], ...] = ()
    capacity: int | None = None
    idempotent: bool = False
    tombstones: bool = False

    @property
    def failure_rate(self) -> float:
        return sum(rate for _, rate in self.failures)

    @staticmethod
    def problems(spec, base: "ServiceProfile | None" = None) -> list[tuple[str, str]]:
        """Every problem in a profile mapping (over `base`'s values, if given), as (key, sentence) pairs."""
        if not isinstance(spec, dict):
            return [("", f"a service profile is a mapping of {', '.join(PROFILE_KEYS)}; got {spec!r}")]
        out = [(k, f"unknown profile key {k!r}; profiles take {', '.join(PROFILE_KEYS)}")
               for k in spec if k not in PROFILE_KEYS]
        if "latency" in spec:
            try:
                parse_latency(spec["latency"])
            except ValueError as exc:
                out.append(("latency", str(exc)))
        if "failure_rate" in spec:
            try:
                _failures(spec["failure_rate"])
            except ValueError as exc:
                out.append(("failure_rate", str(exc)))
        cap = spec.get("capacity")
        if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
            out.append(("capacity", f"capacity is a whole number of concurrent requests >= 1 (or null); got {cap!r}"))
        if "idempotent" in spec and not isinstance(spec["idempotent"], bool):
            out.append(("idempotent", f"idempotent is true or false; got {spec['idempotent']!r}"))
        if "tombstones" in spec and not isinstance(spec["tombstones"], bool):
            out.append(("tombstones", f"tombstones is true or false; got {spec['tombstones']!r}"))
        elif spec.get("tombstones") and spec.get("idempotent", base.idempotent if base else False) is not True:
            out.append(("tombstones", NEEDS_TABLE))
        return out

    @classmethod
    def from_spec(cls, spec, base: "ServiceProfile | None" = None) -> "ServiceProfile":
        """A profile from a mapping; keys not given keep `base`'s values (or the defaults)."""
        if isinstance(spec, ServiceProfile):
            return spec
        problems = cls.problems(spec, base)
        if problems:
            raise ValueError("; ".join(f"{k}: {m}" if k else m for k, m in problems))
        base = base or cls()
        return cls(
            latency=parse_latency(spec["latency"]) if "latency" in spec else base.latency,
            failures=_failures(spec["failure_rate"]) if "failure_rate" in spec else base.failures,
            capacity=spec.get("capacity", base.capacity),
            idempotent=spec.get("idempotent", base.idempotent),
            tombstones=spec.get("tombstones", base.tombstones),
        )

    def to_spec(self) -> dict:
        failures = dict(self.failures)
        rate = failures.get(DEFAULT_ERROR) if list(failures) == [DEFAULT_ERROR] else failures
        out = {"latency": self.latency.to_spec(), "failure_rate": rate or 0.0,
               "capacity": self.capacity, "idempotent": self.idempotent}
        if self.tombstones:
            out["tombstones"] = True
        return out


def _rate(x, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 <= x <= 1:
        raise ValueError(f"{what} is a probability between 0 and 1; got {x!r}")
    return float(x)


def _failures(value) -> tuple[tuple[str, float], ...]:
    if isinstance(value, dict):
        pairs = tuple((str(k), _rate(v, f"failure rate of {k}")) for k, v in value.items())
    else:
        pairs = ((DEFAULT_ERROR, _rate(value, "failure_rate")),)
    if sum(r for _, r in pairs) > 1 + 1e-12:
        raise ValueError("failure rates add up to more than 1")
    return tuple(p for p in pairs if p[1] > 0)
