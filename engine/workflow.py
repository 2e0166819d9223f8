"""The validated, frozen workflow: steps, their dependencies, compensations.

Build one with `engine.load_workflow` / `engine.parse_workflow`; the DSL
module checks the YAML, this module holds the result and answers questions
about its DAG (order, parallelism, critical path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Callable, Mapping, NamedTuple

from .errors import Diagnostic
from .profiles import ServiceProfile
from .retry import RetryPolicy

__all__ = ["Action", "Step", "Workflow", "CriticalPath", "STEP_TYPES",
           "DEFAULT_TIMEOUT", "DEFAULT_COMPENSATION_RETRY"]

STEP_TYPES = ("sync-task", "async-task", "fire-and-forget")
#: Timeout of an awaited step that declares none (documented in docs/dsl.md).
DEFAULT_TIMEOUT = 30.0
#: How compensations are retried when a workflow says nothing: they must not
#: give up easily, but a simulation must end.
DEFAULT_COMPENSATION_RETRY = RetryPolicy(max_attempts=5, initial_interval=1.0, backoff_coefficient=2.0)


@dataclass(frozen=True)
class Action:
    """A call on a service: a message on a `topic` or a request to an `endpoint`."""

    service: str
    topic: str | None = None
    endpoint: str | None = None

    @property
    def target(self) -> str:
        return self.topic if self.topic is not None else str(self.endpoint)

    @property
    def is_request(self) -> bool:
        return self.endpoint is not None


@dataclass(frozen=True, kw_only=True)
class Step:
    name: str
    type: str
    service: str
    endpoint: str | None = None
    topic: str | None = None
    depends_on: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    compensation: tuple[Action, ...] = ()

    @property
    def awaited(self) -> bool:
        """Fire-and-forget steps are published and never awaited."""
        return self.type != "fire-and-forget"

    @property
    def compensable(self) -> bool:
        return bool(self.compensation)


class CriticalPath(NamedTuple):
    length: float
    steps: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Workflow:
    name: str
    version: str
    steps: tuple[Step, ...]
    services: Mapping[str, ServiceProfile] = field(default_factory=dict)
    compensation_retry: RetryPolicy = DEFAULT_COMPENSATION_RETRY
    source: str = "<string>"
    warnings: tuple[Diagnostic, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "services", MappingProxyType(dict(self.services)))

    def __reduce__(self):
        # A MappingProxy does not pickle; sweeps send workflows to other processes.
        fields = {f: getattr(self, f) for f in self.__dataclass_fields__}
        fields["services"] = dict(self.services)
        return (_rebuild, (fields,))

    # -- lookup --------------------------------------------------------------
    @cached_property
    def _by_name(self) -> dict[str, Step]:
        return {s.name: s for s in self.steps}

    def __getitem__(self, name: str) -> Step:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @cached_property
    def step_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps)

    @cached_property
    def service_names(self) -> tuple[str, ...]:
        """Every service a step or compensation calls, in order of first mention."""
        names: dict[str, None] = {}
        for s in self.steps:
            names[s.service] = None
            for a in s.compensation:
                names[a.service] = None
        return tuple(names)

    def profile(self, service: str) -> ServiceProfile:
        return self.services.get(service) or ServiceProfile()

    # -- the DAG -------------------------------------------------------------
    @cached_property
    def dependents(self) -> dict[str, tuple[str, ...]]:
        """Step → the steps that depend on it directly, in declaration order."""
        out: dict[str, list[str]] = {s.name: [] for s in self.steps}
        for s in self.steps:
            for d in s.depends_on:
                out[d].append(s.name)
        return {k: tuple(v) for k, v in out.items()}

    @property
    def graph(self):
        """A networkx DiGraph: an edge d → s for each `s.depends_on` d; nodes carry `step`."""
        import networkx as nx  # deferred: `import engine` stays light

        g = nx.DiGraph(name=self.name)
        for s in self.steps:
            g.add_node(s.name, step=s, type=s.type, service=s.service)
        for s in self.steps:
            for d in s.depends_on:
                g.add_edge(d, s.name)
        return g

    @cached_property
    def generations(self) -> tuple[tuple[str, ...], ...]:
        """Steps grouped by depth: each group can run in parallel once the previous is done."""
        depth: dict[str, int] = {}
        for s in self.topological_order:
            depth[s] = 1 + max((depth[d] for d in self[s].depends_on), default=-1)
        groups: list[list[str]] = [[] for _ in range(1 + max(depth.values(), default=-1))]
        for s in self.steps:
            groups[depth[s.name]].append(s.name)
        return tuple(tuple(g) for g in groups)

    @cached_property
    def topological_order(self) -> tuple[str, ...]:
        """Kahn's algorithm, ties broken by declaration order (deterministic)."""
        indegree = {s.name: len(s.depends_on) for s in self.steps}
        ready = [s.name for s in self.steps if not s.depends_on]
        order: list[str] = []
        while ready:
            name = ready.pop(0)
            order.append(name)
            for d in self.dependents[name]:
                indegree[d] -= 1
                if indegree[d] == 0:
                    ready.append(d)
        if len(order) != len(self.steps):  # the DSL rejects cycles; guard direct construction
            raise ValueError("the workflow's dependencies contain a cycle")
        return tuple(order)

    def ancestors(self, name: str) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        stack = list(self[name].depends_on)
        while stack:
            d = stack.pop()
            if d not in seen:
                seen[d] = None
                stack.extend(self[d].depends_on)
        return tuple(s for s in self.topological_order if s in seen)

    def critical_path(self, latencies: Mapping[str, float] | Callable[[Step], float] | None = None) -> CriticalPath:
        """The longest chain of awaited work, given each step's latency in seconds.

        `latencies` maps step names (or service names) to seconds, or is a
        function of the Step. By default each step costs its service profile's
        mean latency. Fire-and-forget steps cost 0: nobody waits for them.
        """
        def cost(step: Step) -> float:
            if not step.awaited:
                return 0.0
            if latencies is None:
                return self.profile(step.service).latency.mean
            if callable(latencies):
                return float(latencies(step))
            if step.name in latencies:
                return float(latencies[step.name])
            if step.service in latencies:
                return float(latencies[step.service])
            raise KeyError(f"no latency given for step {step.name!r} (or its service {step.service!r})")

        finish: dict[str, float] = {}
        via: dict[str, str | None] = {}
        for name in self.topological_order:
            step = self[name]
            best = max(step.depends_on, key=lambda d: finish[d], default=None)
            finish[name] = (finish[best] if best else 0.0) + cost(step)
            via[name] = best
        if not finish:
            return CriticalPath(0.0, ())
        end = max(self.topological_order, key=lambda n: finish[n])
        path = [end]
        while via[path[-1]] is not None:
            path.append(via[path[-1]])
        return CriticalPath(finish[end], tuple(reversed(path)))


def _rebuild(fields: dict) -> Workflow:
    return Workflow(**fields)
