import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import RetryPolicy


def test_max_attempts_counts_the_first_attempt():
    policy = RetryPolicy(max_attempts=3, initial_interval=1.0)
    assert len(policy.delays()) == 2  # three attempts, two waits


def test_exponential_linear_constant_formulas():
    exp = RetryPolicy(max_attempts=6, initial_interval=0.5, backoff_coefficient=3.0, max_interval=10.0)
    assert exp.delays() == [0.5, 1.5, 4.5, 10.0, 10.0]
    lin = RetryPolicy(max_attempts=5, backoff="linear", initial_interval=2.0)
    assert lin.delays() == [2.0, 4.0, 6.0, 8.0]
    const = RetryPolicy(max_attempts=4, backoff="constant", initial_interval=0.25)
    assert const.delays() == [0.25, 0.25, 0.25]


def test_default_cap_is_temporals_100_times_initial():
    policy = RetryPolicy(max_attempts=20, initial_interval=1.0)
    assert policy.cap == 100.0 and max(policy.delays()) == 100.0


@given(st.integers(1, 12), st.floats(0.001, 10), st.floats(1.0, 4.0), st.floats(1.0, 50.0))
def test_delay_equals_the_formula(k, initial, coefficient, cap_factor):
    policy = RetryPolicy(max_attempts=13, initial_interval=initial, backoff_coefficient=coefficient,
                         max_interval=initial * cap_factor)
    expected = min(initial * coefficient ** (k - 1), initial * cap_factor)
    assert policy.base_delay(k) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("jitter", ["full", "equal", "decorrelated"])
def test_jitter_stays_in_its_bounds(jitter):
    policy = RetryPolicy(max_attempts=8, initial_interval=1.0, max_interval=20.0, jitter=jitter)
    rng = random.Random(3)
    for _ in range(500):
        previous = None
        for k in range(1, 8):
            d = policy.delay(k, rng, previous)
            base = policy.base_delay(k)
            if jitter == "full":
                assert 0 <= d <= base
            elif jitter == "equal":
                assert base / 2 <= d <= base
            else:
                assert 1.0 <= d <= min(20.0, 3 * (previous or 1.0))
            previous = d


def test_jitter_needs_the_simulation_rng():
    with pytest.raises(ValueError, match="needs an RNG"):
        RetryPolicy(max_attempts=2, jitter="full").delays()


def test_same_seed_same_jittered_schedule():
    policy = RetryPolicy(max_attempts=6, jitter="full")
    assert policy.delays(random.Random(5)) == policy.delays(random.Random(5))


@pytest.mark.parametrize("kwargs,fragment", [
    ({"max_attempts": 0}, "at least 1"),
    ({"backoff_coefficient": 0.5}, "Backoff coefficient cannot be less than 1"),
    ({"initial_interval": 2.0, "max_interval": 1.0}, "Maximum interval cannot be less than initial interval"),
    ({"backoff": "fibonacci"}, "Backoff must be one of"),
    ({"jitter": "some"}, "Jitter must be one of"),
    ({"initial_interval": -1}, "Initial interval must be positive"),
])
def test_temporal_style_validation(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        RetryPolicy(**kwargs)


def test_step_functions_counts_retries_not_attempts():
    sfn = RetryPolicy.from_step_functions(max_attempts=3, interval_seconds=1, backoff_rate=2.0)
    assert sfn.max_attempts == 4
    assert sfn.delays() == [1.0, 2.0, 4.0]
    assert RetryPolicy.from_step_functions(max_attempts=0).max_attempts == 1
