"""Workflow shapes for experiments, built in code because writing them in YAML would be tedious.

    wf = engine.fan_out(100, latency={"dist": "lognormal", "median": "10ms", "sigma": 0.8})

A request fans out to `n` leaf services in parallel and answers when the
slowest has replied — the shape behind "The Tail at Scale" (Dean & Barroso,
CACM 2013): the more leaves, the likelier one of them is slow.
"""

from __future__ import annotations

from .profiles import ServiceProfile
from .workflow import Step, Workflow

__all__ = ["fan_out"]


def fan_out(n: int, *, latency="10ms", timeout: float = 30.0, name: str | None = None) -> Workflow:
    """`n` parallel sync steps, one per leaf service, each with the given latency profile."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
        raise ValueError(f"n is the number of leaves, a whole number from 1 to 1000; got {n!r}")
    profile = ServiceProfile.from_spec({"latency": latency})
    leaves = [f"leaf-{k:03d}" for k in range(1, n + 1)]
    steps = tuple(Step(name=leaf, type="sync-task", service=leaf, endpoint="/query", timeout=timeout)
                  for leaf in leaves)
    return Workflow(name=name or f"fan-out-{n}", version="1.0", steps=steps,
                    services={leaf: profile for leaf in leaves})
