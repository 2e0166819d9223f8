"""Technical debt against feature velocity: a small model of a team's delivery over quarters.

Each quarter a team has `capacity` points of work. A policy decides what fraction goes to paying down debt;
the rest builds features. Three effects, after Cunningham's metaphor and its later empirical work:

* **principal** — every feature point adds `accrual` units of debt (the shortcuts taken to ship it);
* **interest** — debt slows every change: the quarter's effective capacity is
  ``capacity / (1 + interest × debt)`` (developers lose a share of their time to it; Besker, Martini and
  Bosch measured about a quarter of working time wasted on technical debt);
* **repayment** — each point spent on it removes one unit of debt.

    run = engine.simulate_debt(lambda s: 0.2)            # a constant 20% to debt
    run.features, run.best().features                    # what it delivered, and the most any policy could

It is a model, not a forecast: the numbers are illustrative, the shape is the lesson — debt compounds through
velocity, repayment pays back only over the quarters left, and the best policy depends on both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["DebtModel", "DebtRun", "simulate_debt", "best_debt_policy"]


@dataclass(frozen=True)
class DebtModel:
    """The team and its codebase. Units: points of work per quarter; debt in points of rework."""

    quarters: int = 12
    capacity: float = 100.0
    accrual: float = 0.3
    interest: float = 0.004
    initial_debt: float = 50.0

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.quarters, bool) or not isinstance(self.quarters, int) or not 1 <= self.quarters <= 40:
            problems.append(f"quarters is a whole number from 1 to 40, not {self.quarters!r}")
        for name in ("capacity", "accrual", "interest", "initial_debt"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0 or (name == "capacity" and value == 0):
                problems.append(f"{name} is a number ≥ 0{' (and > 0)' if name == 'capacity' else ''}, not {value!r}")
        if problems:
            raise ValueError("; ".join(problems))

    def step(self, debt: float, fraction: float) -> tuple[float, float, float]:
        """One quarter: (features delivered, debt repaid, debt at its end) for a fraction to repayment."""
        effective = self.capacity / (1 + self.interest * debt)
        repaid = min(debt, fraction * effective)
        features = effective - repaid  # capacity not needed for repayment goes to features
        return features, repaid, debt - repaid + self.accrual * features


@dataclass(frozen=True)
class DebtRun:
    """A policy's quarters: `history` holds one dict per quarter (quarter, debt at its start, velocity,
    fraction, features, repaid)."""

    model: DebtModel
    history: tuple[dict, ...]
    features: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", sum(q["features"] for q in self.history))

    @property
    def final_debt(self) -> float:
        last = self.history[-1]
        return last["debt"] - last["repaid"] + self.model.accrual * last["features"]

    def best(self) -> "DebtRun":
        """The run of the best policy for the same model (dynamic programming over debt)."""
        return simulate_debt(best_debt_policy(self.model), self.model)

    def table(self) -> str:
        rows = [f"{'quarter':>7} {'debt':>7} {'velocity':>8} {'to debt':>7} {'features':>8}"]
        rows += [f"{q['quarter']:>7} {q['debt']:>7.0f} {q['velocity']:>8.1f} {q['fraction']:>6.0%} "
                 f"{q['features']:>8.1f}" for q in self.history]
        return "\n".join(rows + [f"total features {self.features:.0f}; debt at the end {self.final_debt:.0f}"])


def simulate_debt(policy, model: DebtModel | None = None, **settings) -> DebtRun:
    """Run `policy(state) -> fraction of capacity to debt` (0..1) for each quarter; `state` is a dict with
    quarter (1-based), quarters, debt, velocity (this quarter's effective capacity), delivered (so far), and
    the model's capacity, accrual and interest."""
    model = model or DebtModel(**settings)
    debt, delivered, history = float(model.initial_debt), 0.0, []
    for quarter in range(1, model.quarters + 1):
        velocity = model.capacity / (1 + model.interest * debt)
        state = {"quarter": quarter, "quarters": model.quarters, "debt": debt, "velocity": velocity,
                 "delivered": delivered, "capacity": model.capacity, "accrual": model.accrual,
                 "interest": model.interest}
        fraction = policy(dict(state))
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
            raise ValueError(f"the policy returned {fraction!r} in quarter {quarter}: it must return the fraction "
                             "of capacity spent on debt, a number from 0 to 1")
        features, repaid, after = model.step(debt, float(fraction))
        history.append({k: state[k] for k in ("quarter", "debt", "velocity")} | {
            "fraction": float(fraction), "features": features, "repaid": repaid})
        delivered += features
        debt = after
    return DebtRun(model, tuple(history))


_FRACTIONS = tuple(k / 20 for k in range(21))


def best_debt_policy(model: DebtModel):
    """The policy that delivers the most features over the horizon: backward induction over a grid of
    debt levels (values between grid points interpolated), the fraction chosen from 0, 5%, …, 100%."""
    top = model.initial_debt + model.accrual * model.capacity * model.quarters + 1
    grid = [top * (k / 400) ** 2 for k in range(401)]  # finer where debt is low: most decisions live there

    def interpolate(values, debt):
        if debt >= grid[-1]:
            return values[-1]
        k = max(0, min(len(grid) - 2, int(math.sqrt(debt / top) * 400)))
        while k > 0 and grid[k] > debt:
            k -= 1
        while k < len(grid) - 2 and grid[k + 1] < debt:
            k += 1
        span = grid[k + 1] - grid[k]
        w = (debt - grid[k]) / span if span else 0.0
        return values[k] * (1 - w) + values[k + 1] * w

    def choose(future, debt):
        return max(_FRACTIONS, key=lambda f: (lambda o: o[0] + interpolate(future, o[2]))(model.step(debt, f)))

    futures = [[0.0] * len(grid)]  # the value after the last quarter: debt left over is not counted
    for _ in range(model.quarters - 1):
        future = futures[-1]
        value = []
        for debt in grid:
            features, _, after = model.step(debt, choose(future, debt))
            value.append(features + interpolate(future, after))
        futures.append(value)
    futures.reverse()  # futures[q - 1]: the value of the quarters after quarter q, by debt

    def policy(state):
        return choose(futures[state["quarter"] - 1], state["debt"])
    return policy
