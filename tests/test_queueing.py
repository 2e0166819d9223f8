"""Queueing sanity: a single-step workflow on one server is an M/M/1 queue."""

import pytest

from engine import parse_workflow, simulate

MM1 = """
name: mm1
version: "1.0"
workflow:
  - {name: serve, type: sync-task, service: server, endpoint: /serve, timeout: 1h}
services:
  server: {latency: {dist: exponential, mean: 100ms}, capacity: 1}
"""


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_mm1_time_in_system_matches_theory(rho):
    mu = 10.0
    lam = rho * mu
    wf = parse_workflow(MM1)
    latencies = []
    for seed in range(6):  # one seed at ρ = 0.8 can miss by 4–8%: pool several
        run = simulate(wf, seed=seed, orders=4000, arrival_rate=lam, network="0s")
        latencies += run.latencies()
    assert sum(latencies) / len(latencies) == pytest.approx(1 / (mu - lam), rel=0.10)


def test_unbounded_capacity_is_an_infinite_server_queue():
    wf = parse_workflow(MM1.replace("capacity: 1", "capacity: null"))
    run = simulate(wf, seed=1, orders=5000, arrival_rate=50, network="0s")
    lat = run.latencies()
    assert sum(lat) / len(lat) == pytest.approx(0.1, rel=0.05)  # nobody waits: the mean service time
