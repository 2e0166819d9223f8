"""Picking facts out of a run for the views: one instance, and when nodes were down."""

from __future__ import annotations

__all__ = ["find_instance", "describe_ids", "downtimes"]


def describe_ids(ids) -> str:
    """0–19, or 0, 3, 7 for a few scattered ids."""
    ids = sorted(ids)
    if len(ids) > 2 and ids == list(range(ids[0], ids[-1] + 1)):
        return f"{ids[0]}–{ids[-1]}"
    shown = ", ".join(map(str, ids[:10]))
    return shown + (f" … ({len(ids)} in all)" if len(ids) > 10 else "")


def find_instance(run, instance):
    """The `Instance` with id `instance`, or a ValueError naming the ids that exist."""
    for x in run.instances:
        if x.id == instance:
            return x
    if not run.instances:
        raise ValueError(f"instance {instance!r} does not exist: this run has no instances "
                         f"(it simulated orders={run.orders})")
    ids = describe_ids([x.id for x in run.instances])
    raise ValueError(f"instance {instance!r} does not exist; this run's instance ids are {ids}")


def downtimes(run) -> list[tuple[str, float, float | None]]:
    """(node, crashed at, restarted at or None) for every crash in the trace."""
    down: dict[str, float] = {}
    out: list[tuple[str, float, float | None]] = []
    for e in run.trace.of("node-crashed", "node-restarted"):
        if e.kind == "node-crashed":
            down.setdefault(e.node, e.time)
        elif e.node in down:
            out.append((e.node, down.pop(e.node), e.time))
    return out + [(node, t, None) for node, t in down.items()]
