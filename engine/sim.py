"""The simulated world: one SimPy environment, one seeded RNG, one trace.

Everything that happens is scheduled through `Simulation.at`, which costs one
SimPy event, and recorded in `Simulation.trace`. Nodes (the orchestrator, the
broker, the client, each service) can crash and restart; a crash bumps the
node's `epoch`, and callbacks scheduled before it check the epoch and do
nothing — SimPy cannot cancel an event, so stale ones must know they are stale.
"""

from __future__ import annotations

import gc
import math
from contextlib import contextmanager
import random
from collections import deque

import simpy
from simpy.events import NORMAL

from .faults import FaultPlan
from .trace import Trace

__all__ = ["Simulation", "Node", "Deadlines", "paused_gc"]


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

    @property
    def crashes_after_steps(self) -> bool:
        """Is any crash still planned to follow a step?"""
        return any(self._crash_after.values())

    def crash_planned_after(self, node: str, instance: int, step: str) -> bool:
        """Would `step_completed(node, instance, step)` crash `node`?"""
        return any(f.nodes[0] == node and (f.instance is None or f.instance == instance)
                   for f in self._crash_after.get(step, ()))

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
        with paused_gc():
            self.env.run(until=until if until is None or math.isfinite(until) else None)


@contextmanager
def paused_gc():
    """Pause the cyclic garbage collector while a simulation is built and run.

    A run allocates a small object per event and frees almost nothing until it ends: the
    collector would walk the whole heap over and over — including earlier runs a notebook
    keeps — and find nothing (seen: runs 2× slower beside kept runs). It resumes afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Deadlines:
    """Many timers of one fixed delay, kept in a queue behind a single SimPy event.

    Deadlines of a fixed delay arrive in order, so only the earliest needs to be
    scheduled. Most timers (ack deadlines, attempt timeouts) find their work
    already done when they expire; `pending(item)` says whether it still
    matters, and settled items are dropped without waking the simulation.
    `fire(item)` runs at exactly the deadline of each item still pending.
    """

    __slots__ = ("sim", "delay", "fire", "pending", "queue", "armed")

    def __init__(self, sim: "Simulation", delay: float, fire, pending) -> None:
        self.sim, self.delay, self.fire, self.pending = sim, delay, fire, pending
        self.queue: deque = deque()
        self.armed: float | None = None

    def add(self, item) -> None:
        deadline = self.sim.env.now + self.delay
        self.queue.append((deadline, item))
        if self.armed is None:
            self._arm(deadline)

    def _arm(self, deadline: float) -> None:
        self.armed = deadline
        self.sim.at(deadline - self.sim.env.now, self._wake)

    def _wake(self) -> None:
        self.armed = None
        now, queue, pending = self.sim.env.now, self.queue, self.pending
        while queue:
            deadline, item = queue[0]
            if deadline > now and pending(item):
                self._arm(deadline)
                return
            queue.popleft()
            if deadline <= now and pending(item):
                self.fire(item)
