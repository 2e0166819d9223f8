"""Retry storms: many clients retrying against one recovering server, and retries across layers.

`simulate_storm` — `clients` each send requests as a Poisson stream to one
server of fixed `capacity` (requests beyond it queue, FIFO). The server is
down from `outage[0]` to `outage[1]`. Each request is tried as its
`RetryPolicy` says; an attempt fails when it times out. The server goes on
working on requests whose clients have given up — wasted work — which is what
lets a retry storm outlive its trigger (a metastable failure: Bronson et al.,
HotOS 2021; Huang et al., OSDI 2022).

`simulate_layers` — a request crosses `layers` services, each retrying its
downstream call up to `attempts` times; the bottom one fails. Attempts
multiply: attempts ** layers reach the bottom for one user request (Google
SRE book, ch. 22). With a propagated `deadline`, inner layers stop retrying
once the caller's budget is spent.

Both record everything in the trace; every measure below is derived from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .faults import FaultPlan
from .network import Network, NetworkProfile
from .profiles import ServiceProfile
from .retry import RetryPolicy
from .service import Service, Work
from .sim import Node, Simulation

__all__ = ["simulate_storm", "StormRun", "simulate_layers", "LayersRun"]

SERVER = "server"


class _Client(Node):
    """Sends requests; retries each one as the policy says; never more than one attempt in flight."""

    def __init__(self, sim, name: str, policy: RetryPolicy, timeout: float, target: str,
                 throttle: tuple[float, float] | None) -> None:
        super().__init__(sim, name)
        self.policy, self.timeout, self.target = policy, timeout, target
        # gRPC's retry throttling (gRFC A6): a failure costs a token, a success earns token_ratio;
        # retries are allowed only while more than half of max_tokens remain.
        self.throttle = throttle
        self.tokens = throttle[0] if throttle else 0.0

    def request(self, rid: int) -> None:
        self.sim.trace.add(self.sim.now, "instance-started", rid, node=self.name)
        self.attempt(rid, 1, None)

    def attempt(self, rid: int, k: int, previous_delay) -> None:
        sim = self.sim
        sim.trace.add(sim.now, "attempt-started", rid, "request", k, self.name, self.target)
        state = {"open": True}
        server = sim.nodes[self.target]
        sim.network.send(self.name, self.target, "request", server.serve_request,
                         (self.name, "reply", Work(rid, "request", "do", k), lambda w, e: self.reply(state, w, e)),
                         (rid, "request", k))
        sim.at(self.timeout, self.expire, state, rid, k, previous_delay)

    def reply(self, state, work: Work, error) -> None:
        if not state["open"]:
            return  # too late: this attempt already timed out
        state["open"] = False
        if error is None:
            if self.throttle:
                self.tokens = min(self.throttle[0], self.tokens + self.throttle[1])
            self.sim.trace.add(self.sim.now, "step-completed", work.instance, "request", work.attempt, self.name)
        else:
            self.failed(work.instance, work.attempt, error, state.get("delay"))

    def expire(self, state, rid: int, k: int, previous_delay) -> None:
        if state["open"]:
            state["open"] = False
            self.sim.trace.add(self.sim.now, "attempt-timeout", rid, "request", k, self.name, self.target)
            self.failed(rid, k, "Timeout", previous_delay)

    def failed(self, rid: int, k: int, error: str, previous_delay) -> None:
        sim = self.sim
        if error != "Timeout":
            sim.trace.add(sim.now, "attempt-failed", rid, "request", k, self.name, self.target, error)
        allowed = True
        if self.throttle:
            self.tokens = max(0.0, self.tokens - 1)
            allowed = self.tokens > self.throttle[0] / 2
        if allowed and k < self.policy.max_attempts and self.policy.retryable(error):
            delay = self.policy.delay(k, sim.rng, previous_delay)
            sim.trace.add(sim.now, "retry-scheduled", rid, "request", k + 1, self.name, None, delay)
            sim.at(delay, self.attempt, rid, k + 1, delay)
        else:
            sim.trace.add(sim.now, "step-failed", rid, "request", k, self.name, None, error)


@dataclass
class StormRun:
    trace: object
    settings: dict

    def series(self, bucket: float = 1.0) -> dict[str, list[float]]:
        """Per `bucket` seconds: attempts sent, requests succeeded, server work done, and wasted work."""
        end = self.settings["duration"]
        n = int(math.ceil(end / bucket))
        out = {k: [0.0] * n for k in ("time", "attempts", "goodput", "work", "wasted")}
        out["time"] = [bucket * (i + 0.5) for i in range(n)]
        late: set = set()
        for e in self.trace.events:
            if e.kind == "attempt-timeout":
                late.add((e.instance, e.attempt))
        for e in self.trace.events:
            i = int(e.time // bucket)
            if i >= n:
                continue
            if e.kind == "attempt-started":
                out["attempts"][i] += 1 / bucket
            elif e.kind == "step-completed":
                out["goodput"][i] += 1 / bucket
            elif e.kind == "work" and e.node == SERVER:
                out["work"][i] += 1 / bucket
                if (e.instance, e.attempt) in late:
                    out["wasted"][i] += 1 / bucket
        return out

    def summary(self) -> dict:
        kinds: dict[str, int] = {}
        for e in self.trace.events:
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
        requests = kinds.get("instance-started", 0)
        ok = kinds.get("step-completed", 0)
        s = self.series()
        recovered = self.recovered_at()
        return {"requests": requests, "succeeded": ok, "success_rate": ok / requests if requests else math.nan,
                "attempts": kinds.get("attempt-started", 0),
                "attempts_per_request": kinds.get("attempt-started", 0) / requests if requests else math.nan,
                "wasted_work": sum(s["wasted"]), "recovered_at": recovered}

    def success_by_arrival(self, bucket: float = 1.0) -> tuple[list[float], list[float]]:
        """For requests arriving in each bucket: the fraction that eventually succeeded."""
        n = int(math.ceil(self.settings["duration"] / bucket))
        arrived, ok = [0] * n, [0] * n
        when: dict[int, int] = {}
        for e in self.trace.events:
            if e.kind == "instance-started":
                i = min(int(e.time // bucket), n - 1)
                when[e.instance] = i
                arrived[i] += 1
            elif e.kind == "step-completed" and e.instance in when:
                ok[when[e.instance]] += 1
        times = [bucket * (i + 0.5) for i in range(n)]
        return times, [o / a if a else math.nan for o, a in zip(ok, arrived)]

    def recovered_at(self, bucket: float = 1.0) -> float | None:
        """From when on (after the outage) do ≥ 90% of arriving requests succeed, to the end?

        The last few seconds are left out: requests arriving then may not have finished their retries.
        """
        times, rate = self.success_by_arrival(bucket)
        outage_end, tail = self.settings["outage"][1], self.settings["duration"] - self._patience()
        after = [(t, r) for t, r in zip(times, rate) if outage_end <= t - bucket / 2 and t + bucket / 2 <= tail]
        for i in range(len(after)):
            if all(r >= 0.9 or math.isnan(r) for _, r in after[i:]):  # nan: nobody arrived in that bucket
                return after[i][0] - bucket / 2
        return None

    def _patience(self) -> float:
        """How long a request can take with all its retries, at most."""
        return self.settings["max_request_time"]

    def __str__(self) -> str:
        s = self.summary()
        back = "never (still collapsed at the end)" if s["recovered_at"] is None else f"{s['recovered_at']:.0f}s"
        p = self.settings
        return (f"{p['clients']} clients × {p['rate']:g} req/s against capacity {p['capacity']} "
                f"({p['service_rate']:g} req/s), outage {p['outage'][0]:g}–{p['outage'][1]:g}s, "
                f"{p['policy']}\n"
                f"  success {s['success_rate']:.1%} of {s['requests']} requests · "
                f"{s['attempts_per_request']:.2f} attempts per request · wasted work {s['wasted_work']:.0f} · "
                f"healthy again from: {back}")

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


def _policy_text(policy: RetryPolicy) -> str:
    if policy.max_attempts == 1:
        return "no retries"
    jitter = "no jitter" if policy.jitter == "none" else f"{policy.jitter} jitter"
    return f"{policy.max_attempts} attempts, {policy.backoff} backoff from {policy.initial_interval:g}s, {jitter}"


def _longest_wait(policy: RetryPolicy, k: int) -> float:
    """The longest wait before retry k: jitter only shortens, except decorrelated (up to 3× the last)."""
    if policy.jitter == "decorrelated":
        return min(policy.cap, policy.initial_interval * 3 ** k)
    return policy.base_delay(k)


def simulate_storm(*, clients: int = 200, rate: float = 0.7, duration: float = 60.0, capacity: int = 10,
                   service_time: float = 0.05, outage=(10.0, 15.0), policy: RetryPolicy | None = None,
                   timeout: float = 1.0, throttle: tuple[float, float] | None = None, network="5ms",
                   synchronized: bool = False, seed: int = 0) -> StormRun:
    """Clients retrying against a server that is down during `outage`; see the module docstring.

    `throttle=(max_tokens, token_ratio)` turns on gRPC-style retry throttling in each client.
    With `synchronized`, every client sends at the same instants (every 1/rate seconds, like jobs
    started by one cron schedule) instead of as independent Poisson streams: a thundering herd.
    """
    policy = policy or RetryPolicy(max_attempts=1)
    if throttle is not None and not (len(throttle) == 2 and throttle[0] > 0 and 0 < throttle[1] <= throttle[0]):
        raise ValueError(f"throttle is (max_tokens, token_ratio) with 0 < token_ratio <= max_tokens, got {throttle}")
    if not (isinstance(clients, int) and clients >= 1 and rate > 0 and duration > 0 and capacity >= 1):
        raise ValueError("clients and capacity are whole numbers >= 1; rate and duration are > 0")
    start, end = outage
    if not 0 <= start <= end <= duration:
        raise ValueError(f"outage must lie within the run: 0 <= start <= end <= duration, got {outage}")
    faults = FaultPlan().crash(SERVER, at=start, restart_after=end - start) if end > start else FaultPlan()
    sim = Simulation(seed=seed, faults=faults)
    sim.network = Network(sim, NetworkProfile.from_spec(network))
    profile = ServiceProfile.from_spec({"latency": {"dist": "exponential", "mean": f"{service_time}s"},
                                        "capacity": capacity})
    sim.add(Service(sim, SERVER, profile))
    rid = 0
    for c in range(clients):
        client = sim.add(_Client(sim, f"client-{c}", policy, timeout, SERVER, throttle))
        t = 1.0 / rate if synchronized else sim.rng.expovariate(rate)
        while t < duration:
            sim.at(t, client.request, rid)
            rid += 1
            t += 1.0 / rate if synchronized else sim.rng.expovariate(rate)
    sim.arm_faults()
    sim.run(until=duration)
    settings = {"clients": clients, "rate": rate, "duration": duration, "capacity": capacity,
                "service_rate": capacity / service_time, "outage": (start, end),
                "policy": _policy_text(policy) + (f", throttled {throttle}" if throttle else ""),
                "timeout": timeout, "seed": seed, "synchronized": synchronized,
                "max_request_time": policy.max_attempts * timeout + sum(_longest_wait(policy, k)
                                                                        for k in range(1, policy.max_attempts))}
    return StormRun(sim.trace, settings)


# -- retries across layers ------------------------------------------------------------------------

class _Layer(Node):
    """A service that calls the next one down, retrying as told; passes on the remaining deadline."""

    def __init__(self, sim, name: str, below: str, attempts: int, timeout: float, propagate: bool) -> None:
        super().__init__(sim, name)
        self.below, self.attempts, self.timeout, self.propagate = below, attempts, timeout, propagate

    def serve(self, src: str, rid: int, deadline: float, reply) -> None:
        self.call(rid, 1, deadline, lambda error: self.sim.network.send(self.name, src, "reply", reply, (error,)))

    def call(self, rid: int, k: int, deadline: float, done) -> None:
        sim = self.sim
        if self.propagate and sim.now >= deadline:
            done("DeadlineExceeded")
            return
        sim.trace.add(sim.now, "attempt-started", rid, self.below, k, self.name, self.below)
        state = {"open": True}

        def answer(error):
            if state["open"]:
                state["open"] = False
                if error is None:
                    done(None)
                elif k < self.attempts:
                    self.call(rid, k + 1, deadline, done)
                else:
                    done(error)

        below = sim.nodes[self.below]
        if isinstance(below, _Layer):
            sim.network.send(self.name, self.below, "call", below.serve, (self.name, rid, deadline, answer))
        else:
            sim.network.send(self.name, self.below, "query", below.serve_request,
                             (self.name, "rows", Work(rid, self.below, "do", k), lambda w, e: answer(e)))
        wait = min(self.timeout, max(0.0, deadline - sim.now)) if self.propagate else self.timeout
        sim.at(wait, answer, "Timeout")


@dataclass
class LayersRun:
    trace: object
    layers: list[str]

    def attempts_per_layer(self) -> dict[str, int]:
        """How many calls each layer made to the one below it."""
        out = {name: 0 for name in self.layers}
        for e in self.trace.events:
            if e.kind == "attempt-started" and e.node in out:
                out[e.node] += 1
        return out

    def user_latency(self) -> float | None:
        done = [e.time for e in self.trace.events if e.kind in ("step-completed", "step-failed")]
        return done[0] if done else None


def simulate_layers(*, layers: int = 3, attempts=4, timeout: float = 1.0, database: str = "fails",
                    deadline: float | None = None, seed: int = 0) -> LayersRun:
    """One user request through `layers` services, each retrying its downstream `attempts` times.

    `attempts` is one number for every layer, or a list with one number per layer, top first
    (e.g. ``[4, 1, 1]``: retry at the top only).

    `database="fails"` answers every query with an error at once; `"down"` never answers, so
    every attempt waits for its timeout. `deadline` (seconds) is the user's budget, passed down.
    """
    per_layer = list(attempts) if isinstance(attempts, (list, tuple)) else [attempts] * layers
    if layers < 1 or len(per_layer) != layers or any(not isinstance(a, int) or a < 1 for a in per_layer):
        raise ValueError(f"layers is a whole number >= 1 and attempts one whole number >= 1 or a list of "
                         f"{layers} of them; got layers={layers!r}, attempts={attempts!r}")
    if database not in ("fails", "down"):
        raise ValueError(f"database is 'fails' (errors at once) or 'down' (never answers), got {database!r}")
    faults = FaultPlan().crash("database", at=0.0) if database == "down" else FaultPlan()
    sim = Simulation(seed=seed, faults=faults)
    sim.network = Network(sim, NetworkProfile.from_spec("1ms"))
    sim.add(Service(sim, "database", ServiceProfile.from_spec({"latency": "5ms", "failure_rate": 1.0})))
    names = [f"layer-{k}" for k in range(1, layers + 1)]
    # Each layer waits longer than the one below would take to exhaust its retries, as teams often set it.
    wait = timeout
    for k in range(layers, 0, -1):
        below = "database" if k == layers else names[k]
        sim.add(_Layer(sim, names[k - 1], below, per_layer[k - 1], wait, propagate=deadline is not None))
        wait *= per_layer[k - 1]
    user = sim.add(Node(sim, "user"))
    budget = deadline if deadline is not None else math.inf
    top = sim.nodes[names[0]]

    def finished(error):
        kind = "step-completed" if error is None else "step-failed"
        sim.trace.add(sim.now, kind, 0, "request", None, user.name, None, error)

    sim.arm_faults()
    sim.network.send("user", names[0], "call", top.serve, ("user", 0, budget, finished))
    sim.run()
    return LayersRun(sim.trace, names)
