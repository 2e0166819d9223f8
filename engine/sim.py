"""The simulated world: one SimPy environment, one seeded RNG, one trace.

Everything that happens is scheduled through `Simulation.at`, which costs one
SimPy event, and recorded in `Simulation.trace`. Nodes (the orchestrator, the
broker, the client, each service) can crash and restart; a crash bumps the
node's `epoch`, and callbacks scheduled before it check the epoch and do
nothing — SimPy cannot cancel an event, so stale ones must know they are stale.
"""

from __future__ import annotations

import math
import random

import simpy
from simpy.events import NORMAL

from .faults import FaultPlan
from .trace import Trace

__all__ = ["Simulation", "Node"]


def _fire(event) -> None:
    event.fn(*event.args)


class _Call:
    """The cheapest thing SimPy will schedule: it reads only `callbacks` and `_ok`.

    A Timeout plus a closure costs ~25% more, and the engine schedules one per
    message, per unit of work and per timer.
    """

    __slots__ = ("callbacks", "fn", "args")
    _ok = True

    def __init__(self, fn, args) -> None:
        self.callbacks = [_fire]
        self.fn = fn
        self.args = args


class Node:
    """A named participant that can crash and restart."""

    def __init__(self, sim: "Simulation", name: str) -> None:
        self.sim = sim
        self.name = name
        self.up = True
        self.epoch = 0
        # callables run on crash / restart by whatever else lives on this node
        self.crash_hooks: list = []
        self.restart_hooks: list = []

    def crash(self) -> None:
        if not self.up:
            return
        self.up = False
        self.epoch += 1
        self.sim.trace.add(self.sim.now, "node-crashed", node=self.name)
        self.on_crash()
        for hook in self.crash_hooks:
            hook()

    def restart(self) -> None:
        if self.up:
            return
        self.up = True
        self.sim.trace.add(self.sim.now, "node-restarted", node=self.name)
        self.on_restart()
        for hook in self.restart_hooks:
            hook()

    def on_crash(self) -> None:
        """Lose volatile state. Durable state (histories, idempotency tables) survives."""

    def on_restart(self) -> None:
        """Recover from durable state."""


class Simulation:
    """Owns the SimPy environment, the RNG, the trace, the nodes and the fault plan."""

    def __init__(self, *, seed: int = 0, faults: FaultPlan | None = None) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {seed!r}")
        self.seed = seed
        self.env = simpy.Environment()
        self.rng = random.Random(seed)
        self.trace = Trace()
        self.faults = faults or FaultPlan()
        self.nodes: dict[str, Node] = {}
        self._crash_after: dict[str, list] = {}

    @property
    def now(self) -> float:
        return self.env.now

    def at(self, delay: float, fn, *args) -> None:
        """Call fn(*args) after `delay` simulated seconds."""
        self.env.schedule(_Call(fn, args), NORMAL, delay)

    def add(self, node: Node) -> Node:
        if node.name in self.nodes:
            raise ValueError(f"two nodes named {node.name!r}")
        self.nodes[node.name] = node
        return node

    def arm_faults(self) -> None:
        """Check the plan names known nodes, then schedule its timed crashes."""
        self.faults.check_nodes(self.nodes)
        for fault in self.faults:
            if fault.kind != "crash":
                continue
            if fault.at is not None:
                self.at(fault.at, self._crash, fault)
            else:
                self._crash_after.setdefault(fault.after, []).append(fault)

    def _crash(self, fault) -> None:
        node = self.nodes[fault.nodes[0]]
        node.crash()
        if fault.restart_after is not None:
            self.at(fault.restart_after, node.restart)

    def step_completed(self, node: str, instance: int, step: str) -> None:
        """Fire crashes planned for `node` right after it completes `step` (once each)."""
        pending = self._crash_after.get(step)
        if not pending:
            return
        for fault in list(pending):
            if fault.nodes[0] == node and (fault.instance is None or fault.instance == instance):
                pending.remove(fault)
                self._crash(fault)

    def run(self, until: float | None = None) -> None:
        self.env.run(until=until if until is None or math.isfinite(until) else None)
