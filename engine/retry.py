"""Retry policies: how many attempts, and how long to wait between them.

Semantics (docs/dsl.md repeats them):

* ``max_attempts`` counts **every attempt, the first included**, as in
  Temporal's ``maximum_attempts`` and tenacity's ``stop_after_attempt``. AWS
  Step Functions' ``MaxAttempts`` counts *retries*: its default 3 means 4
  attempts. `RetryPolicy.from_step_functions` converts.
* The base delay before retry k (k = 1 is the wait after the first attempt):
  exponential ``min(I·B^(k−1), M)``, linear ``min(I·k, M)``, constant ``I``;
  ``I`` = initial_interval, ``B`` = backoff_coefficient, ``M`` = max_interval
  (default 100·I, Temporal's default).
* Jitter (Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog,
  2015), drawn from the simulation's RNG: ``full`` U(0, d); ``equal``
  d/2 + U(0, d/2); ``decorrelated`` min(M, U(I, 3·previous)).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RetryPolicy", "BACKOFFS", "JITTERS"]

BACKOFFS = ("exponential", "linear", "constant")
JITTERS = ("none", "full", "equal", "decorrelated")


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """A validated retry policy. Durations are seconds."""

    max_attempts: int = 1
    backoff: str = "exponential"
    initial_interval: float = 1.0
    backoff_coefficient: float = 2.0
    max_interval: float | None = None
    jitter: str = "none"
    non_retryable_errors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "non_retryable_errors", tuple(self.non_retryable_errors))
        problems = self.problems(**{f: getattr(self, f) for f in self.__dataclass_fields__})
        if problems:
            raise ValueError("; ".join(message for _, message in problems))

    @staticmethod
    def problems(*, max_attempts=1, backoff="exponential", initial_interval=1.0,
                 backoff_coefficient=2.0, max_interval=None, jitter="none",
                 non_retryable_errors=()) -> list[tuple[str, str]]:
        """Every rule broken, as (field, sentence) pairs; empty when valid."""
        out: list[tuple[str, str]] = []
        if not isinstance(max_attempts, int) or isinstance(max_attempts, bool):
            out.append(("max_attempts", f"Maximum attempts must be a whole number, got {max_attempts!r}"))
        elif max_attempts < 1:
            out.append(("max_attempts", "Maximum attempts must be at least 1: it counts every attempt, the first "
                        "included (Temporal's 0 = unlimited is not supported in a simulation that must end)"))
        if backoff not in BACKOFFS:
            out.append(("backoff", f"Backoff must be one of {', '.join(BACKOFFS)}, got {backoff!r}"))
        if not _is_number(initial_interval) or initial_interval <= 0:
            out.append(("initial_interval", f"Initial interval must be positive, got {initial_interval!r}"))
        if not _is_number(backoff_coefficient) or backoff_coefficient < 1:
            out.append(("backoff_coefficient", f"Backoff coefficient cannot be less than 1, got {backoff_coefficient!r}"))
        if max_interval is not None:
            if not _is_number(max_interval) or max_interval <= 0:
                out.append(("max_interval", f"Maximum interval must be positive, got {max_interval!r}"))
            elif _is_number(initial_interval) and max_interval < initial_interval:
                out.append(("max_interval", "Maximum interval cannot be less than initial interval"))
        if jitter not in JITTERS:
            out.append(("jitter", f"Jitter must be one of {', '.join(JITTERS)}, got {jitter!r}"))
        if isinstance(non_retryable_errors, str) or not all(isinstance(e, str) for e in non_retryable_errors):
            out.append(("non_retryable_errors", "Non-retryable errors must be a list of error names"))
        return out

    @property
    def cap(self) -> float:
        """The largest base delay: max_interval, or 100 × initial_interval."""
        return self.max_interval if self.max_interval is not None else 100.0 * self.initial_interval

    def base_delay(self, k: int) -> float:
        """The delay before retry k (k ≥ 1), before jitter."""
        if k < 1:
            raise ValueError("retry numbers start at 1 (the wait after the first attempt)")
        i = self.initial_interval
        if self.backoff == "constant":
            return min(i, self.cap)
        if self.backoff == "linear":
            return min(i * k, self.cap)
        # Repeated multiplication, not pow(): the same bits in every language.
        delay = i
        for _ in range(k - 1):
            delay *= self.backoff_coefficient
            if delay >= self.cap:
                return self.cap
        return min(delay, self.cap)

    def delay(self, k: int, rng=None, previous: float | None = None) -> float:
        """The wait before retry k with jitter applied; `previous` feeds decorrelated jitter."""
        base = self.base_delay(k)
        if self.jitter == "none":
            return base
        if rng is None:
            raise ValueError(f"{self.jitter} jitter needs an RNG: pass the simulation's rng")
        if self.jitter == "full":
            return base * rng.random()
        if self.jitter == "equal":
            return base / 2 + (base / 2) * rng.random()
        prev = self.initial_interval if previous is None else previous
        low, high = self.initial_interval, max(self.initial_interval, 3.0 * prev)
        return min(self.cap, low + (high - low) * rng.random())

    def delays(self, rng=None) -> list[float]:
        """The waits between attempts if every attempt fails: max_attempts − 1 values."""
        out: list[float] = []
        previous = None
        for k in range(1, self.max_attempts):
            previous = self.delay(k, rng, previous)
            out.append(previous)
        return out

    def retryable(self, error: str) -> bool:
        return error not in self.non_retryable_errors

    @classmethod
    def from_step_functions(cls, *, max_attempts: int = 3, interval_seconds: float = 1.0,
                            backoff_rate: float = 2.0, max_delay_seconds: float | None = None,
                            jitter_strategy: str = "NONE") -> "RetryPolicy":
        """The same schedule as a Step Functions `Retry` block.

        Step Functions' MaxAttempts counts retries, so attempts = MaxAttempts + 1.
        """
        jitter = {"NONE": "none", "FULL": "full"}.get(jitter_strategy)
        if jitter is None:
            raise ValueError(f"Step Functions JitterStrategy is NONE or FULL, got {jitter_strategy!r}")
        # Step Functions has no cap unless MaxDelaySeconds is set.
        cap = max_delay_seconds if max_delay_seconds is not None else float("inf")
        return cls(max_attempts=max_attempts + 1, backoff="exponential", initial_interval=interval_seconds,
                   backoff_coefficient=backoff_rate, max_interval=cap, jitter=jitter)
