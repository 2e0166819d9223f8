"""The metrics, the same for every option, derived from the emitted events and the applies.

From the simulated window (message by message):

* ``throughput`` — distinct events applied per second, from the first emit to the last first apply;
  ``peak_throughput`` — the most in any minute (60-second buckets from time 0), per second; over the
  whole span when it is shorter than a minute.
* ``p95_latency`` and ``max_latency`` — seconds from the order step happening (the event's due time)
  to the event's first apply: it includes the order service waiting for the option to acknowledge
  the step before. An event never applied (lost, dead-lettered, or still waiting when the run has
  nothing left to do) has an infinite latency: it counts, so a run that strands orders cannot
  report a good percentile.
* ``max_consumer_lag`` — the most events held by the option but not yet applied, at any moment;
  ``max_consumer_lag_time`` — the longest any event waited there (s); infinite when a stored event
  was never applied, lost or dead-lettered.
* ``lost_orders`` — orders with an event the option accepted and then lost, never applied;
  ``dead_lettered_orders`` — with an event in the dead-letter queue (applied or not);
  ``unprocessed_orders`` — with an event neither applied, lost nor dead-lettered at the end.
* ``duplicated_orders`` — orders with an event applied twice or more (replays excluded; an
  idempotent consumer skips duplicates, so it has none).
* ``ordering_violations`` — orders whose events were first applied out of order.
* ``wrong_state_orders`` — orders whose projected status is not their last event's at the end.
* ``rebuilt`` — with a consumer bug: did every order the bug wrote end with the right status after
  the repair? None without a bug.

From the day-scale rules (each option's ``day_scale``, whole days of the workload's growth):
``audit_completeness_pct`` — the percentage of all events produced over `days` days still
readable after them (times the share of the window's events that were not lost);
``storage_gb`` — bytes held on all replicas after `days` days; ``storage_growth_gb_per_day`` —
the last day's change.
"""

from __future__ import annotations

import math

from ..run import percentile

__all__ = ["window_metrics", "day_metrics", "first_applies", "lag_series", "METRICS"]

#: metric -> unit ("1/s", "s", "count", "bool", "%", "GB", "GB/day").
METRICS = {
    "throughput": "1/s", "peak_throughput": "1/s", "p95_latency": "s", "max_latency": "s", "max_consumer_lag": "count",
    "max_consumer_lag_time": "s", "lost_orders": "count", "duplicated_orders": "count",
    "ordering_violations": "count", "dead_lettered_orders": "count", "unprocessed_orders": "count",
    "wrong_state_orders": "count", "rebuilt": "bool", "audit_completeness_pct": "%", "storage_gb": "GB",
    "storage_growth_gb_per_day": "GB/day", "orders": "count", "events": "count",
}


def window_metrics(emitted: list, applies: list, *, bug: dict | None, idempotent: bool,
                   lag: list | None = None) -> dict:
    """Every window metric from the emitted Msgs and the applies (time, consumer, msg, replay, wrong);
    `lag` is `lag_series(emitted, first_applies(applies))` when the caller has it already."""
    first: dict[int, float] = {}
    dup_orders: dict[int, None] = {}
    state: dict[int, tuple] = {}      # order -> (seq, wrong) as the projection holds it
    touched: dict[int, None] = {}     # orders the bug wrote
    for t, _c, m, replay, wrong in applies:
        if m.id in first and not replay:
            if idempotent:
                continue  # seen before: skipped
            dup_orders[m.order] = None
        first.setdefault(m.id, t)
        if wrong:
            touched[m.order] = None
        state[m.order] = (m.seq, wrong)
    applied = [m for m in emitted if m.id in first]

    lat = [first[m.id] - m.due if m.id in first else math.inf for m in emitted]
    waits = [first[m.id] - m.stored if m.id in first else math.inf for m in emitted
             if m.stored is not None and m.lost is None and m.dead is None]
    span = (max(first.values()) - min(m.t for m in emitted)) if applied else 0.0
    buckets: dict[int, int] = {}
    for t in first.values():
        buckets[int(t // 60)] = buckets.get(int(t // 60), 0) + 1
    minute = min(60.0, span) if span > 0 else 60.0

    truth: dict[int, int] = {}
    lost, dead, unprocessed = {}, {}, {}
    for m in emitted:
        if m.dead is not None:
            dead[m.order] = None  # in the dead-letter queue, whether or not a slow consumer applied it too
        if m.id not in first:
            if m.lost is not None:
                lost[m.order] = None
            elif m.dead is None:
                unprocessed[m.order] = None
        if m.lost is None:
            truth[m.order] = max(truth.get(m.order, -1), m.seq)
    orders = {m.order for m in emitted}
    wrong_state = [o for o in sorted(orders) if state.get(o) != (truth.get(o), False)]
    return {
        "throughput": len(applied) / span if span > 0 else 0.0,
        "peak_throughput": max(buckets.values()) / minute if buckets else 0.0,
        "p95_latency": percentile(lat, 95),
        "max_latency": max(lat, default=math.nan),
        "max_consumer_lag": max((n for _, n in (lag if lag is not None else lag_series(emitted, first))),
                                default=0),
        "max_consumer_lag_time": max(waits) if waits else 0.0,
        "lost_orders": len(lost),
        "duplicated_orders": len(dup_orders),
        "ordering_violations": _violations(applied, first),
        "dead_lettered_orders": len(dead),
        "unprocessed_orders": len(unprocessed),
        "wrong_state_orders": len(wrong_state),
        "rebuilt": None if not bug else all(state.get(o) == (truth.get(o), False) for o in touched),
        "orders": len(orders),
        "events": len(emitted),
    }


def first_applies(applies: list) -> dict:
    """msg id -> the time it was first applied."""
    first: dict[int, float] = {}
    for a in applies:
        first.setdefault(a[2].id, a[0])
    return first


def lag_series(emitted: list, first: dict) -> list[tuple[float, int]]:
    """(time s, events held and not yet applied) at every change: +1 stored, -1 first applied, lost or dead."""
    steps = []
    for m in emitted:
        if m.stored is None:
            continue
        steps.append((m.stored, 1))
        end = first.get(m.id, m.lost if m.lost is not None else m.dead)
        if end is not None:
            steps.append((end, -1))
    steps.sort()
    out, lag = [], 0
    for t, d in steps:
        lag += d
        out.append((t, lag))
    return out


def _violations(applied: list, first: dict) -> int:
    """Orders with an event first applied after a later event of the same order."""
    last: dict[int, tuple] = {}
    bad: dict[int, None] = {}
    for m in sorted(applied, key=lambda m: (first[m.id], m.id)):
        prev = last.get(m.order)
        if prev is not None and prev > m.seq:
            bad[m.order] = None
        last[m.order] = max(prev, m.seq) if prev is not None else m.seq
    return len(bad)


def day_metrics(day: dict, workload, days: float, emitted: list) -> dict:
    """Audit completeness and storage from an option's day-scale rules."""
    total = workload.events_between(0, days)
    durable = 1.0 - (sum(1 for m in emitted if m.lost is not None) / len(emitted) if emitted else 0.0)
    audit = 100.0 * min(day["stored_events"] / total, 1.0) * durable if total > 0 else math.nan
    return {"audit_completeness_pct": audit, "storage_gb": day["storage_bytes"] / 1e9,
            "storage_growth_gb_per_day": (day["storage_bytes"] - day["storage_bytes_day_before"]) / 1e9}
