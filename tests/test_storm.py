"""Retry storms and layered retries: the measures behind the retries lesson."""

import pytest

from engine import RetryPolicy
from engine.storm import simulate_layers, simulate_storm

RETRY3 = RetryPolicy(max_attempts=3, initial_interval=1.0)


def test_without_retries_the_server_recovers_when_the_outage_ends():
    run = simulate_storm(seed=1)
    assert run.recovered_at() == 15.0
    assert run.summary()["wasted_work"] == 0


def test_retries_turn_a_short_outage_into_a_lasting_collapse():
    run = simulate_storm(policy=RETRY3, seed=1)
    s = run.summary()
    assert s["recovered_at"] is None and s["success_rate"] < 0.5
    late = run.series()
    assert sum(late["goodput"][30:]) == 0 and sum(late["wasted"][30:]) > 0  # busy, all of it wasted


@pytest.mark.parametrize("jitter", ["none", "full", "equal", "decorrelated"])
def test_retry_throttling_restores_recovery_whatever_the_jitter(jitter):
    policy = RetryPolicy(max_attempts=3, initial_interval=1.0, jitter=jitter)
    assert simulate_storm(policy=policy, seed=1, throttle=(10, 0.1)).recovered_at() == 15.0


def test_jitter_spreads_a_thundering_herd():
    def peak(jitter):
        policy = RetryPolicy(max_attempts=4, initial_interval=0.5, jitter=jitter)
        run = simulate_storm(policy=policy, synchronized=True, rate=0.2, timeout=0.5, outage=(0, 0),
                             duration=30, seed=1)
        waves: dict[int, int] = {}
        for e in run.trace.of("attempt-started"):
            if e.attempt > 1:  # retries only: the fresh requests arrive in lockstep whatever the policy
                waves[int(e.time / 0.25)] = waves.get(int(e.time / 0.25), 0) + 1
        return max(waves.values())

    herd = peak("none")
    assert peak("full") < 0.6 * herd and peak("decorrelated") < 0.6 * herd


def test_attempts_multiply_across_layers():
    run = simulate_layers(layers=3, attempts=4)
    assert run.attempts_per_layer() == {"layer-1": 4, "layer-2": 16, "layer-3": 64}


def test_a_propagated_deadline_bounds_the_wait_and_the_load():
    slow = simulate_layers(database="down")
    assert slow.user_latency() == pytest.approx(64, rel=0.01)
    bounded = simulate_layers(database="down", deadline=2.0)
    assert bounded.user_latency() == pytest.approx(2.0, rel=0.01)
    assert sum(bounded.attempts_per_layer().values()) < 10


def test_bad_storm_settings():
    with pytest.raises(ValueError, match="outage must lie within the run"):
        simulate_storm(outage=(50, 70), duration=60)
    with pytest.raises(ValueError, match="throttle"):
        simulate_storm(throttle=(10, 20))


def test_retrying_at_one_layer_only():
    assert simulate_layers(layers=3, attempts=[4, 1, 1]).attempts_per_layer() == {
        "layer-1": 4, "layer-2": 4, "layer-3": 4}


def test_quiet_seconds_do_not_count_as_unhealthy():
    run = simulate_storm(clients=100, capacity=5, duration=40, outage=(0, 0), synchronized=True, seed=1,
                         policy=RetryPolicy(max_attempts=3, initial_interval=1.0))
    assert run.summary()["success_rate"] > 0.9 and run.recovered_at() is not None
