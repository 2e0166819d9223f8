import math
import random

import pytest

from engine import Constant, Exponential, LogNormal, Uniform, format_duration, parse_duration, parse_latency


@pytest.mark.parametrize("text,seconds", [("500ms", 0.5), ("5s", 5.0), ("2m", 120.0), ("1.5s", 1.5),
                                          ("1h", 3600.0), ("250us", 0.00025), (" 3 s ", 3.0)])
def test_durations_with_units(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text,fragment", [("30", "no unit"), ("0s", "zero"), ("-1s", "negative"),
                                           ("five seconds", "not a duration"), ("5 sec", "not a duration"),
                                           (True, "expected a duration")])
def test_bad_durations_say_what_is_wrong(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_duration(text)


def test_format_duration_is_readable():
    assert [format_duration(x) for x in (0.0005, 0.25, 5, 90, 7200)] == ["500us", "250ms", "5s", "1.5m", "2h"]


def test_latency_specs():
    assert parse_latency("10ms") == Constant(0.01)
    assert parse_latency({"dist": "uniform", "low": "5ms", "high": "20ms"}) == Uniform(0.005, 0.02)
    assert parse_latency({"dist": "exponential", "mean": "50ms"}) == Exponential(0.05)
    assert parse_latency({"dist": "lognormal", "median": "40ms", "sigma": 0.5}) == LogNormal(0.04, 0.5)


@pytest.mark.parametrize("spec,fragment", [({"dist": "gamma"}, "one of"),
                                           ({"dist": "uniform", "low": "5ms"}, "missing high"),
                                           ({"dist": "exponential", "mean": "1s", "sd": 1}, "unexpected sd"),
                                           ({"dist": "uniform", "low": "9ms", "high": "1ms"}, "low <= high"),
                                           ({"dist": "lognormal", "median": "1s", "sigma": -1}, "sigma"),
                                           ([1, 2], "a latency is")])
def test_bad_latency_specs(spec, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_latency(spec)


@pytest.mark.parametrize("dist", [Uniform(0.01, 0.03), Exponential(0.02), LogNormal(0.02, 0.6)])
def test_samples_match_mean_and_quantiles(dist):
    rng = random.Random(1)
    xs = sorted(dist.sample(rng) for _ in range(40_000))
    assert sum(xs) / len(xs) == pytest.approx(dist.mean, rel=0.03)
    for q in (0.5, 0.9, 0.99):
        assert xs[int(q * len(xs))] == pytest.approx(dist.quantile(q), rel=0.06)


def test_round_trip_through_spec():
    for dist in (Constant(0.01), Uniform(0.005, 0.02), Exponential(0.05), LogNormal(0.04, 0.5)):
        again = parse_latency(dist.to_spec())
        assert again.mean == pytest.approx(dist.mean) and not math.isnan(again.mean)
