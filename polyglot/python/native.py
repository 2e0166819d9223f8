"""Native mode for Python (polyglot/NATIVE.md): the workflow on asyncio, or on threads.

    python polyglot/python/native.py concurrency '{"n": 10000, "flavor": "asyncio"}'

Writes one JSON object; on bad input {"error": ...} and exit status 2.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

STEPS = ("validate-order", "reserve-inventory", "process-payment", "ship-order", "send-confirmation")
FLAVORS = ("asyncio", "threads")


def rss() -> dict:
    """VmRSS and VmHWM in bytes, or None where /proc is missing."""
    out = {"VmRSS": None, "VmHWM": None}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key = line.split(":")[0]
                if key in out:
                    out[key] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return out


def percentile(xs: list[float], q: float) -> float | None:
    xs = sorted(xs)
    return xs[max(0, -(-len(xs) * q // 100) - 1)] if xs else None


class Params:
    def __init__(self, raw: dict) -> None:
        self.raw = raw
        self.flavor = raw.get("flavor", "asyncio")
        if self.flavor not in FLAVORS:
            raise ValueError(f"flavor is one of {', '.join(FLAVORS)}, got {self.flavor!r}")
        self.latency = [x / 1000 for x in raw.get("latency_ms", [5, 10, 10, 10, 5])]
        if len(self.latency) != 5:
            raise ValueError("latency_ms lists 5 numbers, one per step")
        self.failure_rate = float(raw.get("failure_rate", 0.0))
        self.seed = int(raw.get("seed", 0))


# -- the workflow, on asyncio --------------------------------------------------------------

async def a_step(p: Params, rng: random.Random, k: int, cpu: float = 0.0, fix: bool = False) -> bool:
    if cpu and fix:
        await asyncio.get_running_loop().run_in_executor(None, burn, cpu)
    elif cpu:
        burn(cpu)  # blocks the loop: every other instance waits
    else:
        await asyncio.sleep(p.latency[k])
    return rng.random() >= p.failure_rate


async def a_workflow(p: Params, i: int, cpu: float = 0.0, fix: bool = False) -> bool:
    rng = random.Random(p.seed * 1_000_003 + i)
    if not await a_step(p, rng, 0):
        return False
    reserve, pay = await asyncio.gather(a_step(p, rng, 1), a_step(p, rng, 2, cpu, fix))
    return reserve and pay and await a_step(p, rng, 3) and await a_step(p, rng, 4)


def burn(seconds: float) -> None:
    """CPU work for about `seconds`: hashing a counter until the clock says so."""
    end, h, n = time.perf_counter() + seconds, b"", 0
    while time.perf_counter() < end:
        h = hashlib.sha256(h + n.to_bytes(8, "little")).digest()
        n += 1


# -- the workflow, on threads -----------------------------------------------------------------

def t_workflow(p: Params, i: int) -> bool:
    rng = random.Random(p.seed * 1_000_003 + i)

    def step(k: int) -> bool:
        time.sleep(p.latency[k])
        return rng.random() >= p.failure_rate

    if not step(0):
        return False
    results = []
    side = threading.Thread(target=lambda: results.append(step(2)))
    side.start()
    reserve = step(1)
    side.join()
    return reserve and results[0] and step(3) and step(4)


# -- experiments ----------------------------------------------------------------------------------

def concurrency(p: Params) -> dict:
    n = int(p.raw["n"])
    idle = rss()["VmRSS"]
    t0 = time.perf_counter()
    if p.flavor == "asyncio":
        async def main():
            tasks = [asyncio.ensure_future(a_workflow(p, i)) for i in range(n)]
            spawned = time.perf_counter() - t0
            return spawned, await asyncio.gather(*tasks)
        spawned, outcomes = asyncio.run(main())
    else:
        outcomes = [None] * n
        threads = []
        try:
            for i in range(n):
                th = threading.Thread(target=lambda i=i: outcomes.__setitem__(i, t_workflow(p, i)), daemon=True)
                th.start()
                threads.append(th)
        except RuntimeError as exc:  # "can't start new thread": the machine's limit is a result
            return {"error": f"could not start thread {len(threads) + 1} of {n}: {exc}"}
        spawned = time.perf_counter() - t0
        for th in threads:
            th.join()
    wall = time.perf_counter() - t0
    ok = sum(1 for o in outcomes if o)
    return {"rss_idle": idle, "rss_peak": rss()["VmHWM"], "spawn_seconds": spawned, "wall_seconds": wall,
            "completed": ok, "failed": n - ok}


def cpu_step(p: Params) -> dict:
    n, every = int(p.raw.get("n", 1000)), int(p.raw.get("every", 100))
    cpu, fix = float(p.raw.get("cpu_ms", 50)) / 1000, bool(p.raw.get("fix", False))
    if p.flavor != "asyncio":
        raise ValueError("cpu_step runs on asyncio in Python (threads would need one thread per instance)")

    async def one(i: int, latencies: list) -> None:
        await asyncio.sleep(i / n)  # a steady arrival rate over one second
        start = time.perf_counter()
        heavy = i % every == 0
        await a_workflow(p, i, cpu if heavy else 0.0, fix)
        if not heavy:
            latencies.append(time.perf_counter() - start)

    async def main():
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=4))
        latencies: list[float] = []
        t0 = time.perf_counter()
        await asyncio.gather(*(one(i, latencies) for i in range(n)))
        return latencies, time.perf_counter() - t0

    latencies, wall = asyncio.run(main())
    return {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "max": max(latencies),
            "wall_seconds": wall, "note": "run_in_executor moves the CPU work off the loop; the GIL still "
                                          "serialises it with the loop's own Python code"}


def cancellation(p: Params) -> dict:
    calls, attempts = int(p.raw.get("n", 200)), int(p.raw.get("attempts", 3))
    timeout, work = float(p.raw.get("timeout_ms", 20)) / 1000, float(p.raw.get("work_ms", 50)) / 1000
    cancel = bool(p.raw.get("cancel", False))
    effects = 0

    async def service() -> None:
        nonlocal effects
        await asyncio.sleep(work)
        effects += 1  # the effect happens at the end of the work

    async def call() -> int:
        made = 0
        for _ in range(attempts):
            made += 1
            if cancel:
                try:
                    await asyncio.wait_for(service(), timeout)  # cancels the work on timeout
                    return made
                except asyncio.TimeoutError:
                    continue
            task = asyncio.ensure_future(service())
            done, _ = await asyncio.wait({task}, timeout=timeout)  # stops waiting, not the work
            if done:
                return made
        return made

    async def main():
        made = await asyncio.gather(*(call() for _ in range(calls)))
        await asyncio.sleep(work * 2)  # let stragglers finish, as they would in a real process
        return sum(made)

    made = asyncio.run(main())
    return {"calls": calls, "attempts_made": made, "effects": effects}


def startup(p: Params) -> dict:
    return {"seconds_to_ready": time.perf_counter() - START}


EXPERIMENTS = {"concurrency": concurrency, "cpu_step": cpu_step, "cancellation": cancellation, "startup": startup}
START = time.perf_counter()


def main(argv: list[str]) -> int:
    try:
        if len(argv) != 2 or argv[0] not in EXPERIMENTS:
            raise ValueError(f"usage: native.py {{{'|'.join(EXPERIMENTS)}}} '<params as JSON>'")
        raw = json.loads(argv[1])
        if not isinstance(raw, dict):
            raise ValueError("params are a JSON object")
        params = Params(raw)
        result = EXPERIMENTS[argv[0]](params)
    except (ValueError, KeyError, TypeError) as exc:
        print(json.dumps({"error": str(exc)}))
        return 2
    base = {"language": "python", "flavor": params.flavor, "experiment": argv[0], "params": raw}
    print(json.dumps({**base, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
