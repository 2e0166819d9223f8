"""How fast is the engine? Ratios against bare SimPy, measured in one process.

Machines are shared and noisy, so this prints ratios against a baseline run
in the same process, interleaved, and medians over repetitions — not
absolute times a test could assert.

The baseline is the seed's order-fulfillment workflow written directly in
SimPy, with the same messages and timers the engine simulates: every network
hop, the broker's deliveries, acks and ack deadlines, the per-attempt
timeouts (racing with ``|``, SimPy's any_of), the same latencies. What it
leaves out is what the engine adds: the trace, fault checks, idempotency
tables, the orchestrator's history, generality over workflows.

Run: ``make bench`` (or ``python bench/bench_engine.py``).
"""

from __future__ import annotations

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

import engine  # noqa: E402

NET = 0.001          # the engine's default link latency
MEDIAN, SIGMA = 0.020, 0.5  # the engine's default service latency
ACK_TIMEOUT = 5.0    # the engine's default broker ack deadline


def bare_simpy(orders: int, rate: float, seed: int) -> list[float]:
    """order-fulfillment in plain SimPy; returns each order's latency."""
    env = simpy.Environment()
    rng = random.Random(seed)
    mu = math.log(MEDIAN)
    latencies: list[float] = []

    def work():
        return env.timeout(rng.lognormvariate(mu, SIGMA))

    def hop():
        return env.timeout(NET)

    def request():  # orchestrator → service → orchestrator
        yield hop()
        yield work()
        yield hop()

    def sync_task(timeout, attempts=1):
        for _ in range(attempts):
            call = env.process(request())
            yield call | env.timeout(timeout)
            if call.triggered:
                return True
        return False

    def command(done):  # publish, deliver, work, ack, completion event back, ack
        yield hop()                      # orchestrator → broker
        yield hop()                      # broker → service
        env.timeout(ACK_TIMEOUT)         # the delivery's ack deadline
        yield work()
        hop()                            # service → broker: ack
        yield hop()                      # service → broker: completion event
        yield hop()                      # broker → orchestrator
        env.timeout(ACK_TIMEOUT)
        hop()                            # orchestrator → broker: ack
        done.succeed()

    def async_task(timeout):
        done = env.event()
        env.process(command(done))
        yield done | env.timeout(timeout)
        return done.triggered

    def fire_and_forget():
        yield hop()
        yield hop()
        env.timeout(ACK_TIMEOUT)
        yield work()
        hop()

    def order():
        start = env.now
        if not (yield from sync_task(5.0, attempts=3)):
            return
        reserve = env.process(async_task(30.0))
        charge = env.process(sync_task(10.0))
        yield reserve & charge
        if not (reserve.value and charge.value):
            return
        if not (yield from async_task(30.0)):
            return
        env.process(fire_and_forget())
        latencies.append(env.now - start)

    def source():
        for _ in range(orders):
            yield env.timeout(rng.expovariate(rate))
            env.process(order())

    env.process(source())
    gc.disable()  # as the engine does during a run, so the ratio compares the models, not the collector
    try:
        env.run()
    finally:
        gc.enable()
    return latencies


def timed(fn, *args, **kwargs) -> float:
    t = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t


def main(repeats: int = 7, orders: int = 2000, rate: float = 50.0) -> None:
    wf = engine.load_workflow(ROOT / "notebooks" / "workflows" / "order-fulfillment.yaml")
    # Same model, same answer: the baseline is not cutting corners.
    bare = bare_simpy(orders, rate, 1)
    run = engine.simulate(wf, seed=1, orders=orders, arrival_rate=rate)
    mean_bare, mean_engine = statistics.mean(bare), statistics.mean(run.latencies())
    assert len(bare) == orders and abs(mean_bare - mean_engine) / mean_bare < 0.05, (mean_bare, mean_engine)

    samples: dict[str, list[float]] = {"bare SimPy": [], "orchestration": [], "choreography": []}
    small: dict[str, list[float]] = {"orchestration": [], "choreography": [], "summary + check": []}
    for r in range(repeats):  # interleaved, so drift in machine load hits every variant alike
        samples["bare SimPy"].append(timed(bare_simpy, orders, rate, r))
        for mode in engine.MODES:
            samples[mode].append(timed(engine.simulate, wf, mode=mode, seed=r, orders=orders, arrival_rate=rate))
            small[mode].append(timed(engine.simulate, wf, mode=mode, seed=r, orders=500, arrival_rate=rate))
        run500 = engine.simulate(wf, seed=r, orders=500, arrival_rate=rate)
        small["summary + check"].append(timed(lambda: (run500.summary(), run500.check())))

    base = statistics.median(samples["bare SimPy"])
    print(f"order-fulfillment, {orders} orders at {rate:g}/s, median of {repeats} interleaved runs")
    print(f"  mean latency: bare SimPy {mean_bare * 1000:.1f} ms, engine {mean_engine * 1000:.1f} ms (same model)")
    print(f"  {'variant':<16}{'workflows/s':>12}{'× bare SimPy time':>20}")
    for name, xs in samples.items():
        med = statistics.median(xs)
        print(f"  {name:<16}{orders / med:>12,.0f}{med / base:>20.2f}")
    print("500 orders (an interactive re-run), median:")
    for name, xs in small.items():
        print(f"  {name:<16}{statistics.median(xs) * 1000:>8.1f} ms")
    print(f"events per order in the engine's trace: {len(run.trace) / orders:.1f}")


if __name__ == "__main__":
    main()
