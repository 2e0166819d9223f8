"""How fast are the messaging options? Ratios against a bare SimPy producer/consumer loop, one process.

The baseline is the same workload (the same orders, events and due times, drawn by the same
generator) through a bare SimPy ``Store`` with the same number of competing consumers and the
same lognormal service times: no broker semantics, no acks, no trace, no records. What the
options add is what they model: hops, acks and commits, redelivery deadlines, replication and
high watermarks, consumer groups, the trace and the apply record behind the metrics.

Runs are interleaved and reported as medians (machines are shared and noisy: trust the ratios).
Then the runs the Phase 3 notebooks make — ADR-001's workload with the four faults, at 10,000 and at
100,000 orders a day — are timed against the 2 s budget.

Run: ``python bench/bench_messaging.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import gc
import math
import pathlib
import random
import statistics
import sys
import time

import simpy

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.messaging import ADR_001, Workload, simulate_messaging  # noqa: E402

SERVICE = 0.02
CONSUMERS = 3
FAULTS = {"broker_crash": {"at": 1300, "restart_after": 60}, "consumer_crash": {"at": 1250},
          "consumer_bug": {"start": 1500, "end": 1800, "repair_after": 600},
          "slow_consumer": {"factor": 10, "start": 2000, "end": 2600}}


def bare_simpy(workload: dict, seed: int) -> list[float]:
    """The same orders through a bare Store and competing consumers; returns each event's latency."""
    env = simpy.Environment()
    rng = random.Random(seed)
    firsts = Workload.from_spec(workload).generate(rng)
    store = simpy.Store(env)
    mu = math.log(SERVICE)
    latencies: list[float] = []

    def order(msg):
        while msg is not None:
            if msg.due > env.now:
                yield env.timeout(msg.due - env.now)
            msg.t = env.now
            yield store.put(msg)
            msg = msg.next

    def consumer():
        while True:
            msg = yield store.get()
            yield env.timeout(rng.lognormvariate(mu, 0.5))
            latencies.append(env.now - msg.t)

    for m in firsts:
        env.process(order(m))
    for _ in range(CONSUMERS):
        env.process(consumer())
    env.run()
    return latencies


def timed(fn, *args, **kw) -> tuple[float, object]:
    gc.collect()
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    load = dict(ADR_001, orders_per_day=100_000)
    variants = {"bare SimPy": lambda s: bare_simpy(load, s)}
    for option in ("queue", "log", "eventstore"):
        variants[option] = lambda s, o=option: simulate_messaging(o, workload=load, seed=s)
    times: dict[str, list[float]] = {k: [] for k in variants}
    events = 0
    for rep in range(args.repeat):
        for name, fn in variants.items():  # interleaved, so a noisy moment hits every variant
            dt, out = timed(fn, rep)
            times[name].append(dt)
            if name == "queue":
                events = out.metrics()["events"]
    base = statistics.median(times["bare SimPy"])
    print(f"ADR-001 at 100,000 orders/day, a 1 h window with a 20x burst ({events:,} events), "
          f"median of {args.repeat} interleaved runs")
    print(f"  {'variant':<12} {'events/s':>10} {'× bare SimPy time':>18}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:<12} {events / med:>10,.0f} {med / base:>18.2f}")

    print("notebook runs: ADR-001 with the four faults (broker crash, consumer crash mid-batch, consumer bug "
          "repaired by replay, slow consumer), median wall time, budget 2 s")
    for per_day in (10_000, 100_000):
        wl = dict(ADR_001, orders_per_day=per_day)
        row = []
        for option in ("queue", "log", "eventstore"):
            ts = [timed(simulate_messaging, option, workload=wl, seed=rep, **FAULTS)[0] for rep in range(args.repeat)]
            row.append(f"{option} {statistics.median(ts):.2f}s")
        print(f"  {per_day:>7,}/day  " + "   ".join(row))


if __name__ == "__main__":
    main()
