"""The DSL's dependency graph: duplicate names, unknown dependencies and cycles."""

from __future__ import annotations

from ..errors import did_you_mean
from .steps import _StepDraft


# -- the graph ---------------------------------------------------------------------------

def _check_graph(ck, steps) -> None:
    first: dict[str, _StepDraft] = {}
    for s in steps:
        if not isinstance(s.name, str):
            continue
        if s.name in first:
            line = ck.line_of(first[s.name].path + ("name",))
            ck.error("duplicate-step", s.path + ("name",), f"two steps are named {s.name!r}; the first is on "
                     f"line {line}", "give each step its own name")
        else:
            first[s.name] = s
    edges: dict[str, list[str]] = {name: [] for name in first}
    for s in steps:
        for j, dep in s.depends_on:
            path = s.path + ("depends_on", j)
            if dep == s.name:
                ck.error("self-dependency", path, f"{s.label} depends on itself", "remove it from depends_on")
            elif dep not in first:
                ck.error("unknown-dependency", path, f"depends_on names {dep!r}, which is not a step",
                         did_you_mean(dep, list(first)) or f"the steps are {', '.join(first)}")
            elif first.get(s.name) is s:
                edges[s.name].append(dep)
    cycle = _find_cycle(list(first), edges)
    if cycle:
        _report_cycle(ck, cycle, first)


def _find_cycle(order: list[str], edges: dict[str, list[str]]) -> list[str] | None:
    """One cycle following `edges`, as [a, b, ..., a]; iterative, so no depth limit."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for root in order:
        if root in state:
            continue
        state[root] = 1
        path, stack = [root], [iter(edges[root])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(edges[nxt]))
    return None


def _report_cycle(ck, cycle: list[str], first: dict[str, _StepDraft]) -> None:
    """Report a cycle once, in running order (a → b: b depends on a), at its earliest step."""
    ring = list(reversed(cycle[:-1]))  # found following depends_on; show it in running order
    start = min(range(len(ring)), key=lambda i: first[ring[i]].index)
    ring = ring[start:] + ring[:start]
    at = first[ring[0]]
    j = next(j for j, dep in at.depends_on if dep == ring[-1])
    ck.error("cycle", at.path + ("depends_on", j), "the dependencies form a cycle: "
             f"{' → '.join(ring + ring[:1])} (each step depends on the one before it)",
             "a workflow is a DAG: remove one of these depends_on entries")
