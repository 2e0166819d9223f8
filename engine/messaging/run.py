"""`simulate_messaging`: one workload, one option, the four faults, the same metrics for all three.

    from engine.messaging import simulate_messaging, ADR_001
    run = simulate_messaging("log", workload=ADR_001, acks="1",
                             broker_crash={"at": 1300, "restart_after": 60},
                             consumer_crash={"at": 1250},
                             consumer_bug={"start": 1500, "end": 1800, "repair_after": 600},
                             slow_consumer={"factor": 10, "start": 2000, "end": 2600})
    run.metrics()   # {'throughput': ..., 'p95_latency': ..., 'lost_orders': ..., ...}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from ..faults import FaultPlan
from ..sim import Simulation
from ..trace import Trace
from . import _check
from .consumer import App
from .eventstore import EventStoreConfig, EventStoreOption
from .log import LogConfig, LogOption
from .metrics import day_metrics, first_applies, lag_series, window_metrics
from .producer import Producer
from .queue import QueueConfig, QueueOption
from .workload import Workload

__all__ = ["simulate_messaging", "compare_messaging", "MessagingRun", "OPTIONS"]

#: option -> (settings class, model class)
OPTIONS = {"queue": (QueueConfig, QueueOption), "log": (LogConfig, LogOption),
           "eventstore": (EventStoreConfig, EventStoreOption)}


@dataclass(frozen=True)
class MessagingRun:
    """A finished run: its metrics, the records behind them, the trace, and the model for inspection.

    `applies` — (time s, consumer, order, seq, kind, replay, wrong) for every apply, in time order;
    `emitted` — one dict per event (times in s, None when it did not happen);
    `lag` — (time s, events held but not yet applied) at every change, for a lag plot;
    `incidents` — rebalances, failovers, replays, for marking plots.
    """

    option: str
    settings: dict
    window_metrics: dict
    day_metrics: dict
    trace: Trace
    applies: list
    emitted: list
    lag: list
    incidents: list
    model: object = field(repr=False, compare=False)

    def metrics(self) -> dict:
        """The plain metrics dict: same keys for every option (units in engine.messaging.METRICS)."""
        return {**self.window_metrics, **self.day_metrics}


def simulate_messaging(option: str, *, workload=None, faults=None, seed: int = 0, days: float = 30,
                       consumers: int = 3, service_time=0.02, idempotent: bool = False, broker_crash=None,
                       follower_stall=None, consumer_crash=None, consumer_bug=None, slow_consumer=None,
                       **option_params) -> MessagingRun:
    """Run `workload` through `option` ("queue", "log" or "eventstore") and measure it.

    Parameters are plain values (str, int, float, bool, dict, list); times are simulated seconds,
    as a number or a string with a unit ('90s', '2m', '1h'). Every one is checked: a bad value
    raises ValueError naming the parameter, the value and what is allowed.

    * `workload` — a dict of `Workload` fields (orders_per_day, growth_to, growth_days, window,
      burst, events, event_gap, event_bytes) or None for the defaults (10,000 orders/day, 1 h window).
    * `faults` — a FaultPlan, or a list of fault-file entries (``[{"crash": "broker-1", "at": "20m",
      "restart_after": "1m"}]``); nodes are "broker-1".., "consumer-1"...
    * `seed` — the one RNG's seed. `days` — the horizon of the day-scale metrics (> 0).
    * `consumers` — how many consumers (1–64). `service_time` — median seconds to apply one event.
    * `idempotent` — the consumer skips an event it already applied (a dedupe table).
    * `broker_crash` — {"at", "restart_after" (None: never), "node" ("broker-1")}.
    * `follower_stall` — {"at", "duration" (60 s; None: for ever), "node" ("broker-2")}: the broker stays
      up and registered but stops replicating — a gray failure nothing fences. The log's in-sync sets
      keep it for `replica_lag_max`; the queue and the event store commit on a majority without it.
    * `consumer_crash` — {"at", "restart_after" (30 s; None: never), "consumer" ("consumer-1")}:
      it crashes mid-batch, right after applying an event it has not acknowledged yet.
    * `consumer_bug` — [start, end] or {"start", "end", "repair_after" (0 s)}: consumers write a wrong
      status during [start, end); at end + repair_after the option replays from the first event the
      bug touched. repair_after may lie days past the window, in seconds (8 days = 691200).
    * `slow_consumer` — a factor, or {"factor", "consumer" ("consumer-1"), "start" (0), "end" (never)}.
    * `**option_params` — the option's settings: QueueConfig, LogConfig or EventStoreConfig fields.

    Window metrics come from the simulated window; `audit_completeness_pct`, `storage_gb` and
    `storage_growth_gb_per_day` from the option's retention rules over `days` (see metrics.py).
    """
    cfg_cls, model_cls = OPTIONS[_check.choice("option", option, tuple(OPTIONS))]
    known = list(cfg_cls.__dataclass_fields__)
    _check.keys(f"{option} settings", dict(option_params), known)
    config = cfg_cls(**option_params)
    wl = Workload.from_spec(workload)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be a whole number, got {seed!r}")
    days = _check.number("days", days, low=0, low_open=True)
    consumers = _check.whole("consumers", consumers, low=1, high=64)
    service_time = _check.seconds("service_time", service_time, allow_zero=False)
    if not isinstance(idempotent, bool):
        raise ValueError(f"idempotent must be true or false, got {idempotent!r}")
    plan = _fault_plan(faults, broker_crash)
    crash = _timed("consumer_crash", consumer_crash, ("restart_after", 30.0), ("consumer", "consumer-1"))
    stall = _timed("follower_stall", follower_stall, ("duration", 60.0), ("node", "broker-2"))
    bug, slow = _bug(consumer_bug), _slow(slow_consumer)

    sim = Simulation(seed=seed, faults=plan)
    app = App(sim, service_time=service_time, slow=slow, crash=crash, bug=bug)
    model = model_cls(sim, app, config, consumers)
    model.workload = wl
    for name, what in (("consumer_crash", crash), ("slow_consumer", slow)):
        if what and what["consumer"] not in sim.nodes:
            raise ValueError(f"{name} names {what['consumer']!r}; the consumers are consumer-1..consumer-{consumers}")
    if stall:
        brokers = [n for n in sim.nodes if n.startswith("broker-")]
        if stall["node"] not in brokers:
            raise ValueError(f"follower_stall names {stall['node']!r}; the brokers are {', '.join(brokers)}")
        sim.at(stall["at"], model.node_stalled, stall["node"])
        if stall["duration"] is not None:
            sim.at(stall["at"] + stall["duration"], model.node_resumed, stall["node"])
    producer = model.producer = Producer(sim, model, wl.generate(sim.rng))
    sim.arm_faults()
    producer.start()
    model.start()
    if bug:
        sim.at(bug["end"] + bug["repair_after"], _repair, model, bug)
    sim.run()

    emitted = sorted(producer.emitted, key=lambda m: m.id)
    lag = lag_series(emitted, first_applies(app.applies))
    wm = window_metrics(emitted, app.applies, bug=bug, idempotent=idempotent, lag=lag)
    dm = day_metrics(model.day_scale(wl, days), wl, days, emitted)
    settings = {"option": option, "seed": seed, "days": days, "consumers": consumers, "service_time": service_time,
                "idempotent": idempotent, "workload": _plain(wl.__dict__), "config": _plain(config.__dict__),
                "faults": plan.to_dicts(), "follower_stall": stall, "consumer_crash": crash, "consumer_bug": bug, "slow_consumer": slow}
    return MessagingRun(option, settings, wm, dm, sim.trace,
                        [(t, c, m.order, m.seq, m.kind, r, w) for t, c, m, r, w in app.applies],
                        [{"id": m.id, "order": m.order, "seq": m.seq, "kind": m.kind, "emitted": m.t,
                          "stored": m.stored, "acked": m.acked, "lost": m.lost, "dead": m.dead} for m in emitted],
                        lag, list(model.incidents), model)


def compare_messaging(options=("queue", "log", "eventstore"), *, settings: dict | None = None,
                      **kw) -> list[dict]:
    """Run one workload and one set of faults on each option: a plain record per option, ready for a table.

    `settings` maps an option to its own settings (``{"log": {"acks": "1"}}``); every other keyword
    goes to `simulate_messaging` for every option. Each record is ``{"option": name, **metrics}``.
    """
    settings = dict(settings or {})
    _check.keys("settings", settings, tuple(OPTIONS))
    for o in options:
        _check.choice("options", o, tuple(OPTIONS))
    return [{"option": o, **simulate_messaging(o, **kw, **settings.get(o, {})).metrics()} for o in options]


def _repair(model, bug: dict) -> None:
    """Replay from the first event the bug touched (an operator picks a point before the damage)."""
    touched = [a[2].t for a in model.app.applies if a[4]]
    model.repair(min(touched) if touched else bug["start"])


# -- the fault parameters ---------------------------------------------------------------------------------

def _fault_plan(faults, broker_crash) -> FaultPlan:
    if faults is None:
        plan = FaultPlan()
    elif isinstance(faults, FaultPlan):
        plan = faults
    elif isinstance(faults, (list, tuple)):
        from ..faultfile import parse_fault_plan

        plan = parse_fault_plan(json.dumps({"faults": list(faults)}), source="faults")
    elif isinstance(faults, str):
        plan = FaultPlan.from_yaml(faults, source="faults")
    else:
        raise ValueError(f"faults must be a FaultPlan, a list of fault-file entries or YAML text, got {faults!r}")
    for i, f in enumerate(plan):
        if f.kind != "crash" or f.at is None:
            raise ValueError(f"faults[{i}]: a messaging run takes crashes at a time ('crash: broker-1, at: 20m'), "
                             f"got {f.to_dict()}; for slowness use slow_consumer")
    crash = _timed("broker_crash", broker_crash, ("restart_after", 60.0), ("node", "broker-1"))
    if crash is not None:
        plan = plan.crash(crash["node"], at=crash["at"], restart_after=crash["restart_after"])
    return plan


def _timed(name: str, spec, span: tuple, who: tuple) -> dict | None:
    """A fault mapping {"at", span, who}: `span` and `who` are (key, default); a span of None means for ever."""
    if spec is None:
        return None
    (span_key, span_default), (who_key, who_default) = span, who
    _check.keys(name, spec, ("at", span_key, who_key))
    length = spec.get(span_key, span_default)
    return {"at": _check.seconds(f"{name} at", spec.get("at", 0.0)),
            span_key: None if length is None else _check.seconds(f"{name} {span_key}", length, allow_zero=False),
            who_key: str(spec.get(who_key, who_default))}


def _bug(spec) -> dict | None:
    if spec is None:
        return None
    if isinstance(spec, (list, tuple)):
        if len(spec) != 2:
            raise ValueError(f"consumer_bug is [start, end] or a mapping, got {spec!r}")
        spec = {"start": spec[0], "end": spec[1]}
    _check.keys("consumer_bug", spec, ("start", "end", "repair_after"))
    if "start" not in spec or "end" not in spec:
        raise ValueError(f"consumer_bug needs a start and an end, got {spec!r}")
    start = _check.seconds("consumer_bug start", spec["start"])
    end = _check.seconds("consumer_bug end", spec["end"])
    if end <= start:
        raise ValueError(f"consumer_bug end must be after its start, got start={start:g}, end={end:g}")
    return {"start": start, "end": end, "repair_after": _check.seconds("consumer_bug repair_after",
                                                                        spec.get("repair_after", 0.0))}


def _slow(spec) -> dict | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        spec = {"factor": spec}
    _check.keys("slow_consumer", spec, ("factor", "consumer", "start", "end"))
    end = spec.get("end")
    return {"factor": _check.number("slow_consumer factor", spec.get("factor"), low=0, low_open=True),
            "consumer": str(spec.get("consumer", "consumer-1")),
            "start": _check.seconds("slow_consumer start", spec.get("start", 0.0)),
            "end": math.inf if end is None else _check.seconds("slow_consumer end", end)}


def _plain(d: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}
