"""ADR-001's messaging options: the semantics each promises, the failures each forgets, one metric record."""

import math
import os
import subprocess
import sys

import pytest

from engine import messaging
from engine.messaging import NO_STREAM, StreamStore, WrongExpectedVersion, simulate_messaging

from conftest import ROOT

OPTIONS = ("queue", "log", "eventstore")
DAY = 86_400
QUIET = {"window": 600}                                                        # 10k orders/day: ~70 orders
BUSY = {"orders_per_day": 500_000, "window": 120, "event_gap": 0.05}            # ~6 orders/s, events close together
BUG = {"start": 200, "end": 400}


def run(option, **kw):
    kw.setdefault("workload", QUIET)
    return simulate_messaging(option, **kw)


# -- the four semantics of the issue ---------------------------------------------------------------------

def test_an_acked_message_cannot_be_replayed_from_the_queue():
    q = run("queue")
    assert q.metrics()["events"] > 100 and q.metrics()["unprocessed_orders"] == 0
    assert q.model.replayable(since=0) == []          # every message was deleted on ack
    log = run("log")
    assert len(log.model.replayable(since=0)) == log.metrics()["events"]  # the log still holds them all


def test_the_log_replays_within_retention_and_not_beyond_it():
    log = run("log", retention_hours=168)
    end = log.model.sim.now
    assert len(log.model.replayable(since=0, at=end + 6 * DAY)) == log.metrics()["events"]
    assert log.model.replayable(since=0, at=end + 8 * DAY) == []
    assert len(run("log", retention_hours=-1).model.replayable(since=0, at=end + 365 * DAY)) > 0


def test_acks_1_with_a_leader_crash_loses_the_unreplicated_tail_and_acks_all_does_not():
    crash = {"broker_crash": {"at": 60, "restart_after": 30}, "replication_lag": 0.2,
             "workload": {"orders_per_day": 2_000_000, "window": 90, "event_gap": 0.05}}
    one, every = run("log", acks="1", **crash), run("log", acks="all", **crash)
    dropped = one.trace.of("message-dropped")
    assert one.metrics()["lost_orders"] > 0 and dropped
    assert all(e.node == "broker-1" and e.time == 60 for e in dropped)
    assert every.metrics()["lost_orders"] == 0 and not every.trace.of("message-dropped")
    assert every.metrics()["unprocessed_orders"] == 0  # the unacknowledged tail was sent again


def test_the_event_store_refuses_a_write_at_a_stale_expected_version():
    store = StreamStore()
    assert store.append("order-1", [("e1", "created")], NO_STREAM) == 0
    assert store.append("order-1", [("e2", "paid")], 0) == 1
    with pytest.raises(WrongExpectedVersion) as refused:
        store.append("order-1", [("e3", "shipped")], 0)    # a writer that has not seen "paid"
    assert (refused.value.expected, refused.value.actual) == (0, 1)
    assert store.append("order-1", [("e2", "paid")], 0) == 1   # the same append again: idempotent
    assert [r.data for r in store.streams["order-1"]] == ["created", "paid"]
    with pytest.raises(WrongExpectedVersion):
        store.append("order-2", [("e4", "paid")], 0)             # expects a stream that does not exist


# -- at-least-once, ordering, rebuilds ---------------------------------------------------------------------

@pytest.mark.parametrize("option", OPTIONS)
def test_a_consumer_crash_mid_batch_duplicates_what_it_applied_but_had_not_acked(option):
    clean = run(option, workload=BUSY)
    crashed = run(option, workload=BUSY, consumer_crash={"at": 30, "restart_after": 10})
    assert clean.metrics()["duplicated_orders"] == 0
    m = crashed.metrics()
    assert m["duplicated_orders"] > 0 and m["lost_orders"] == 0 and m["unprocessed_orders"] == 0
    assert [e.node for e in crashed.trace.of("node-crashed")] == ["consumer-1"]
    assert run(option, workload=BUSY, consumer_crash={"at": 30, "restart_after": 10},
               idempotent=True).metrics()["duplicated_orders"] == 0


def test_the_log_orders_per_partition_only():
    assert run("log", workload=BUSY, partition_by="key").metrics()["ordering_violations"] == 0
    assert run("log", workload=BUSY, partition_by="random").metrics()["ordering_violations"] > 0
    assert run("eventstore", workload=BUSY).metrics()["ordering_violations"] == 0  # a stream per order


def test_fifo_groups_fix_the_queues_ordering():
    assert run("queue", workload=BUSY).metrics()["ordering_violations"] > 0
    assert run("queue", workload=BUSY, fifo=True).metrics()["ordering_violations"] == 0


@pytest.mark.parametrize("option, repair_after, settings, rebuilt", [
    ("log", 3600, {}, True),                                      # within retention (7 days)
    ("log", 8 * DAY, {}, False),                                  # beyond it: the records are gone
    ("log", 30 * DAY, {"cleanup_policy": "compact"}, True),       # compaction keeps each order's last event
    ("queue", 3600, {}, False),                                   # deleted on ack: nothing to replay
    ("eventstore", 8 * DAY, {}, True),                            # history is kept
    ("eventstore", 8 * DAY, {"max_age_days": 7}, False),          # unless $maxAge scavenges it
])
def test_rebuild_after_a_consumer_bug(option, repair_after, settings, rebuilt):
    r = run(option, consumer_bug={**BUG, "repair_after": repair_after}, **settings)
    m = r.metrics()
    assert any(a[6] for a in r.applies), "the bug wrote something"
    assert m["rebuilt"] is rebuilt
    assert (m["wrong_state_orders"] == 0) is rebuilt
    assert run(option).metrics()["rebuilt"] is None


def test_a_dead_consumer_stalls_a_log_partition_until_its_session_times_out():
    m = run("log", workload=BUSY, consumer_crash={"at": 30, "restart_after": None}).metrics()
    assert m["max_consumer_lag_time"] >= 45 and m["unprocessed_orders"] == 0   # session.timeout.ms, then a rebalance
    es = run("eventstore", workload=BUSY, consumer_crash={"at": 30, "restart_after": None}).metrics()
    assert es["unprocessed_orders"] > 0          # catch-up subscriptions do not rebalance: its share waits


def test_sqs_waits_out_the_visibility_timeout_rabbitmq_requeues_at_once():
    crash = {"workload": BUSY, "consumer_crash": {"at": 30, "restart_after": None}}
    def redelivered_after(r):  # seconds from the first apply of the crashed-on event to its second
        times = {}
        for a in r.applies:
            times.setdefault(a[2:4], []).append(a[0])
        return [t[1] - t[0] for t in times.values() if len(t) > 1]

    sqs, rabbit = (redelivered_after(run("queue", flavor=f, **crash)) for f in ("sqs", "rabbitmq"))
    assert len(sqs) == len(rabbit) == 1
    assert sqs[0] > 29 > 1 > rabbit[0]   # the visibility timeout (30 s); a closed connection requeues at once


def test_messages_received_too_often_go_to_the_dead_letter_queue():
    # every apply outlasts the visibility timeout: the rest of each batch goes round and round
    slow = dict(workload={"orders_per_day": 200_000, "window": 30}, service_time="10s", ack_timeout=5)
    m = run("queue", max_receives=2, **slow).metrics()
    assert m["dead_lettered_orders"] > 0 and m["duplicated_orders"] > 0
    assert run("queue", max_receives=None, **slow).metrics()["dead_lettered_orders"] == 0


def test_a_broker_crash_costs_a_failover_and_acks_all_waits_until_the_dead_follower_is_fenced():
    crash = {"workload": BUSY, "broker_crash": {"at": 30, "restart_after": None}}
    log = run("log", **crash)
    assert log.metrics()["lost_orders"] == 0 and 10 <= log.metrics()["max_consumer_lag_time"] < 12
    shrinks = [i for i in log.incidents if i["what"] == "isr shrink"]
    assert shrinks and {i["time"] for i in shrinks} == {40}            # fenced with the elections, not after 30 s
    es = run("eventstore", **crash)
    assert es.metrics()["lost_orders"] == 0 and es.metrics()["max_consumer_lag_time"] < 12  # a majority suffices
    assert [(i["what"], i["time"]) for i in es.incidents] == [("leader lost", 30), ("leader elected", 40)]
    q = run("queue", **crash)
    assert q.metrics()["lost_orders"] == 0 and q.metrics()["unprocessed_orders"] == 0
    assert [(i["what"], i["time"]) for i in q.incidents] == [("queue unavailable", 30), ("queue served again", 40)]
    single = run("queue", nodes=1, **crash).metrics()
    assert single["unprocessed_orders"] > 0 and single["lost_orders"] == 0   # held by the order service: nobody takes them
    assert single["max_latency"] == single["p95_latency"] == math.inf         # stranded events count


def test_a_stalled_follower_holds_acks_all_for_replica_lag_max_and_a_majority_does_not_wait():
    stall = {"workload": BUSY, "follower_stall": {"at": 30, "duration": 60}}
    default, tuned = run("log", **stall), run("log", replica_lag_max=10, **stall)
    assert 30 <= default.metrics()["max_latency"] < 35 and 10 <= tuned.metrics()["max_latency"] < 12
    assert {i["time"] for i in default.incidents if i["what"] == "isr shrink"} == {60}
    # acks=1 answers the producer at once, but consumers read only up to the high watermark: it waits too
    assert run("log", acks="1", **stall).metrics()["max_consumer_lag_time"] >= 30
    brief = run("log", workload=BUSY, follower_stall={"at": 30, "duration": 5})
    assert not [i for i in brief.incidents if i["what"] == "isr shrink"] and 5 <= brief.metrics()["max_latency"] < 6
    for option in ("queue", "eventstore"):
        assert run(option, **stall).metrics()["max_latency"] < 1
    with pytest.raises(ValueError, match="the brokers are broker-1, broker-2, broker-3"):
        run("log", follower_stall={"node": "broker-9"})


def test_a_restart_ends_a_stall():
    # broker-2 stalls for ever, crashes at 35 s, is fenced and restarts fresh at 45 s: nothing holds the log after
    r = run("log", workload=BUSY, follower_stall={"at": 30, "duration": None},
            faults=[{"crash": "broker-2", "at": "35s", "restart_after": "10s"}])
    assert r.metrics()["unprocessed_orders"] == 0 and r.metrics()["max_latency"] < 20   # not 30: replica_lag_max
    assert not r.model.stalled and "follower resumed" not in [i["what"] for i in r.incidents]


def test_max_latency_sees_an_outage_that_the_option_side_metrics_miss():
    crash = {"at": 300, "restart_after": 60}
    m = run("queue", workload={"orders_per_day": 20_000, "window": 600}, seed=2, broker_crash=crash).metrics()
    calm = run("queue", workload={"orders_per_day": 20_000, "window": 600}, seed=2).metrics()
    # the order service held its events through the 10 s failover: the option never saw them wait
    assert m["max_latency"] > 5 > m["max_consumer_lag_time"] and m["p95_latency"] < 1
    assert calm["max_latency"] < 1


def test_a_short_window_reports_its_peak_per_second_not_per_minute():
    short = run("log", workload={"orders_per_day": 200_000, "window": 20, "burst": None}).metrics()
    assert short["peak_throughput"] == pytest.approx(short["throughput"], rel=0.25)


def test_a_subscriber_that_never_returns_leaves_events_waiting_for_ever():
    m = run("eventstore", consumer_crash={"at": 100, "restart_after": None}).metrics()
    assert m["unprocessed_orders"] > 0 and m["max_consumer_lag_time"] == math.inf


# -- the record ----------------------------------------------------------------------------------------------

def test_every_option_gives_the_same_metric_keys():
    keys = [set(run(o).metrics()) for o in OPTIONS]
    assert keys[0] == keys[1] == keys[2] == set(messaging.METRICS)


def test_compare_messaging_gives_a_record_per_option_for_a_table():
    rows = messaging.compare_messaging(workload=QUIET, broker_crash={"at": 100, "restart_after": 20},
                                       settings={"log": {"acks": "1"}})
    assert [r["option"] for r in rows] == list(OPTIONS)
    assert rows[1] == {"option": "log", **run("log", acks="1", broker_crash={"at": 100, "restart_after": 20}).metrics()}
    r = run("log", workload=BUSY, consumer_crash={"at": 30})
    assert max(n for _, n in r.lag) == r.metrics()["max_consumer_lag"] > 0
    assert r.lag[-1][1] == 0 and [i["what"] for i in r.incidents][:2] == ["rebalance", "rebalance done"]


def test_day_scale_retention_audit_and_storage():
    wl = {**QUIET, "growth_to": 100_000, "growth_days": 365}
    q, log, es = (run(o, workload=wl, days=30).metrics() for o in OPTIONS)
    assert q["audit_completeness_pct"] == 0 and q["storage_gb"] == 0
    assert 20 < log["audit_completeness_pct"] < 30       # 7 of 30 days, a little more with growth
    assert es["audit_completeness_pct"] == 100
    assert es["storage_growth_gb_per_day"] > log["storage_growth_gb_per_day"] > 0
    assert run("log", workload=wl, days=3).metrics()["audit_completeness_pct"] == 100


def test_same_seed_same_run_different_seed_different_trace():
    kw = dict(workload=BUSY, consumer_crash={"at": 30}, broker_crash={"at": 50, "restart_after": 10})
    for option in OPTIONS:
        a, b, c = run(option, seed=3, **kw), run(option, seed=3, **kw), run(option, seed=4, **kw)
        assert a.metrics() == b.metrics() and a.trace.digest() == b.trace.digest()
        assert a.trace.digest() != c.trace.digest()


SCRIPT = """
from engine.messaging import simulate_messaging
for o in ("queue", "log", "eventstore"):
    r = simulate_messaging(o, seed=5, workload={"orders_per_day": 500000, "window": 60, "event_gap": 0.05},
                           consumer_crash={"at": 20}, broker_crash={"at": 40, "restart_after": 5})
    print(r.trace.digest(), sorted(r.metrics().items()))
"""


def test_same_seed_same_trace_in_another_process():
    outs = [subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True,
                           env=dict(os.environ, PYTHONHASHSEED=h)).stdout for h in ("0", "99")]
    assert outs[0] == outs[1] and outs[0].count("\n") == 3


@pytest.mark.parametrize("kw, words", [
    ({"option": "kafka"}, ["option", "'kafka'", "'log'"]),
    ({"option": "log", "ack": "1"}, ["'ack'", "did you mean 'acks'"]),
    ({"option": "log", "acks": 2}, ["acks", "2", "'all'"]),
    ({"option": "log", "partitions": 0}, ["partitions", "0", "from 1"]),
    ({"option": "queue", "consumers": 0}, ["consumers", "0", "from 1 to 64"]),
    ({"option": "queue", "workload": {"orders_per_day": -1}}, ["orders_per_day", "-1", "> 0"]),
    ({"option": "queue", "workload": {"burst": {"at": 1, "factr": 3}}}, ["factr", "did you mean 'factor'"]),
    ({"option": "queue", "consumer_bug": [400, 200]}, ["consumer_bug", "after its start"]),
    ({"option": "queue", "slow_consumer": "fast"}, ["slow_consumer factor", "'fast'"]),
    ({"option": "queue", "consumer_crash": {"at": "soon"}}, ["consumer_crash at", "'soon'"]),
    ({"option": "queue", "flavor": "kafka"}, ["flavor", "'sqs'", "'rabbitmq'"]),
    ({"option": "queue", "faults": [{"loss": ["*", "*"], "rate": 0.1}]}, ["faults[0]", "crash"]),
    ({"option": "log", "retention_hours": 0}, ["retention_hours", "-1"]),
    ({"option": "eventstore", "days": -3}, ["days", "-3"]),
])
def test_bad_parameters_are_refused_with_a_message(kw, words):
    option = kw.pop("option")
    with pytest.raises(ValueError) as e:
        simulate_messaging(option, **kw)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_all_is_honest():
    assert len(set(messaging.__all__)) == len(messaging.__all__)
    for name in messaging.__all__:
        assert getattr(messaging, name) is not None
