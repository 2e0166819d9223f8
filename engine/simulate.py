"""`simulate`: build the world for a workflow, run orders through it, return a `Run`."""

from __future__ import annotations

import math

from .broker import Broker, BrokerConfig
from .choreography import CLIENT, Participant, start_choreography
from .errors import did_you_mean
from .external import ProtocolOrchestrator, brain_for
from .faults import FaultPlan
from .network import Network, NetworkProfile
from .profiles import ServiceProfile
from .run import Run
from .service import Service
from .sim import Node, Simulation, paused_gc

__all__ = ["simulate", "MODES"]

MODES = ("orchestration", "choreography")
#: After the last arrival, how long (simulated) a run may go on before it is cut off.
HORIZON = 3600.0


def simulate(wf, *, mode: str = "orchestration", seed: int = 0, orders: int = 1,
             arrival_rate: float | None = None, services: dict | None = None, network=None,
             faults: FaultPlan | None = None, broker: dict | None = None,
             until: float | None = None, orchestrator: str | None = None) -> Run:
    """Run `orders` instances of workflow `wf` and return the `Run`.

    * `mode` — "orchestration" or "choreography".
    * `seed` — the one RNG's seed: same seed, same trace.
    * `orders`, `arrival_rate` — how many instances, arriving as a Poisson
      process of `arrival_rate` per simulated second (None: all at time 0).
    * `services` — service name → profile mapping (`latency`, `failure_rate`,
      `capacity`, `idempotent`), overriding the workflow's `services:` block.
    * `network` — default link latency, or ``{latency, loss, duplicate, links}``.
    * `faults` — a `FaultPlan`.
    * `broker` — ``{ack_timeout, max_deliveries, publish_retry, max_publishes}``.
    * `until` — stop at this simulated time (default: an hour after the last arrival).
    * `orchestrator` — None for the built-in runner (the decision core, in this process), or
      "python", "go", "rust", "typescript" to run that language's orchestrator process over
      polyglot/PROTOCOL.md; all write the same trace.
    """
    _check_args(wf, mode, orders, arrival_rate, services, faults)
    if orchestrator is not None and mode != "orchestration":
        raise ValueError(f"orchestrator={orchestrator!r} runs an orchestrator: use mode='orchestration'")
    with paused_gc():
        return _simulate(wf, mode, seed, orders, arrival_rate, services, network, faults, broker, until,
                         orchestrator)


def _simulate(wf, mode, seed, orders, arrival_rate, services, network, faults, broker, until,
              orchestrator=None) -> Run:
    profiles = _profiles(wf, services or {})
    sim = Simulation(seed=seed, faults=faults)
    sim.network = Network(sim, NetworkProfile.from_spec(network))
    sim.broker = sim.add(Broker(sim, BrokerConfig.from_spec(broker)))
    sim.add(Node(sim, CLIENT))
    for name, profile in profiles.items():
        sim.add(Service(sim, name, profile, serves=[s.name for s in wf.steps if s.service == name]))
    external = None
    if mode == "orchestration":
        # The built-in runner is the protocol's decision core in this process: the same rules, and the
        # same trace, as the Python, Go, Rust and TypeScript orchestrators (polyglot/PROTOCOL.md).
        external = sim.add(ProtocolOrchestrator(sim, wf, brain_for(orchestrator or "decider", wf, seed)))
        start = external.start_instance
        _subscribe_services(sim, wf)
    else:
        for name in profiles:
            Participant(sim, wf, sim.nodes[name])
        start = lambda i: start_choreography(sim, wf, i)  # noqa: E731
    try:
        sim.arm_faults()
        last = _schedule_arrivals(sim, start, orders, arrival_rate)
        sim.run(until if until is not None else last + HORIZON)
    finally:
        if external is not None:
            external.close()
    return Run(wf, mode, seed, sim.trace, orders=orders, profiles=profiles)


def _check_args(wf, mode, orders, arrival_rate, services, faults) -> None:
    from .workflow import Workflow

    if not isinstance(wf, Workflow):
        raise TypeError(f"simulate() takes a Workflow (from engine.load_workflow), got {type(wf).__name__}")
    if mode not in MODES:
        hint = did_you_mean(mode, MODES)
        raise ValueError(f"mode must be 'orchestration' or 'choreography', got {mode!r}"
                         + (f"; {hint}" if hint else ""))
    if isinstance(orders, bool) or not isinstance(orders, int) or orders < 0:
        raise ValueError(f"orders is a whole number >= 0, got {orders!r}")
    if arrival_rate is not None and (isinstance(arrival_rate, bool) or not isinstance(arrival_rate, (int, float))
                                     or not arrival_rate > 0 or not math.isfinite(arrival_rate)):
        raise ValueError(f"arrival_rate is orders per simulated second (> 0), or None; got {arrival_rate!r}")
    if services is not None and not isinstance(services, dict):
        raise ValueError(f"services maps service names to profiles, got {services!r}")
    if faults is not None and not isinstance(faults, FaultPlan):
        raise TypeError(f"faults must be a FaultPlan, got {type(faults).__name__}")


def _profiles(wf, overrides: dict) -> dict[str, ServiceProfile]:
    names = wf.service_names
    for name in overrides:
        if name not in names:
            hint = did_you_mean(name, names)
            raise ValueError(f"services names {name!r}, which this workflow does not use "
                             f"(services: {', '.join(names)})" + (f"; {hint}" if hint else ""))
    out = {}
    for name in names:
        base = wf.profile(name)
        spec = overrides.get(name)
        try:
            out[name] = base if spec is None else ServiceProfile.from_spec(spec, base=base)
        except ValueError as exc:
            raise ValueError(f"services[{name!r}]: {exc}") from None
    return out


def _subscribe_services(sim, wf) -> None:
    """In orchestration, services consume the commands on their steps' and compensations' topics."""
    for step in wf.steps:
        if step.topic is not None:
            svc = sim.nodes[step.service]
            sim.broker.subscribe(step.topic, svc.name, svc.serve_command)
        for action in step.compensation:
            if action.topic is not None:
                svc = sim.nodes[action.service]
                sim.broker.subscribe(action.topic, svc.name, svc.serve_command)


def _schedule_arrivals(sim, start, orders: int, rate: float | None) -> float:
    t = 0.0
    for i in range(orders):
        if rate is not None:
            t += sim.rng.expovariate(rate)
        if t == 0.0:
            start(i)
        else:
            sim.at(t, start, i)
    return t
