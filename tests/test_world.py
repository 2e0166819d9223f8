"""The simulated world on its own: network, services, broker, crashes."""

import pytest

from engine import FaultPlan, ServiceProfile
from engine.broker import Broker, BrokerConfig
from engine.network import Network, NetworkProfile
from engine.service import Service, Work
from engine.sim import Node, Simulation


def world(faults=None, network=None, broker=None, **profiles):
    sim = Simulation(seed=1, faults=faults)
    sim.network = Network(sim, NetworkProfile.from_spec(network or "10ms"))
    sim.broker = sim.add(Broker(sim, BrokerConfig.from_spec(broker)))
    for name in ("a", "b"):
        sim.add(Node(sim, name))
    for name, spec in profiles.items():
        sim.add(Service(sim, name, ServiceProfile.from_spec(spec)))
    sim.arm_faults()
    return sim


def test_message_arrives_after_link_latency():
    sim = world()
    got = []
    sim.network.send("a", "b", "hello", lambda: got.append(sim.now))
    sim.run()
    assert got == [pytest.approx(0.01)]
    (msg,) = sim.trace.of("message")
    assert (msg.node, msg.peer, msg.info, msg.start) == ("a", "b", "hello", 0.0)


def test_per_link_latency_overrides_default():
    sim = world(network={"latency": "10ms", "links": {"a->b": "50ms"}})
    got = []
    sim.network.send("a", "b", "x", lambda: got.append(sim.now))
    sim.network.send("b", "a", "y", lambda: got.append(sim.now))
    sim.run()
    assert got == [pytest.approx(0.01), pytest.approx(0.05)]


def test_partition_is_symmetric_and_has_a_window():
    sim = world(FaultPlan().partition("a", "b", start=1, end=2))
    got = []
    for t in (0.5, 1.5, 2.5):
        sim.at(t, sim.network.send, "a", "b", "ab", lambda: got.append(("ab", sim.now)))
        sim.at(t, sim.network.send, "b", "a", "ba", lambda: got.append(("ba", sim.now)))
    sim.run()
    assert [g[0] for g in got] == ["ab", "ba", "ab", "ba"]
    assert [e.info for e in sim.trace.of("message-dropped")] == ["partition", "partition"]


def test_one_way_partition_cuts_one_direction():
    sim = world(FaultPlan().partition("a", "b", one_way=True))
    got = []
    sim.network.send("a", "b", "ab", lambda: got.append("ab"))
    sim.network.send("b", "a", "ba", lambda: got.append("ba"))
    sim.run()
    assert got == ["ba"]


def test_loss_and_duplication_rates():
    sim = world(network={"latency": "1ms", "loss": 0.2, "duplicate": 0.1})
    got = []
    for _ in range(10_000):
        sim.network.send("a", "b", "m", lambda: got.append(1))
    sim.run()
    lost = len(sim.trace.of("message-dropped"))
    assert lost == pytest.approx(2000, rel=0.08)
    assert len(got) == pytest.approx((10_000 - lost) * 1.1, rel=0.03)


def test_messages_to_a_crashed_node_are_dropped():
    sim = world(FaultPlan().crash("b", at=0.005, restart_after=1.0))
    got = []
    sim.network.send("a", "b", "m", lambda: got.append(1))
    sim.at(2.0, sim.network.send, "a", "b", "m", lambda: got.append(2))
    sim.run()
    assert got == [2]
    assert sim.trace.of("message-dropped")[0].info == "node down"


def test_capacity_queues_requests_fifo():
    sim = world(svc={"latency": "1s", "capacity": 2})
    done = []
    for n in range(5):
        sim.nodes["svc"].submit(Work(n, "s", "do", 1), lambda error, n=n: done.append((n, sim.now)))
    sim.run()
    assert done == [(0, 1.0), (1, 1.0), (2, 2.0), (3, 2.0), (4, 3.0)]


def test_failure_rate_and_no_effect_on_failure():
    sim = world(svc={"latency": "1ms", "failure_rate": {"ServiceError": 0.25, "CardDeclined": 0.05}})
    outcomes = []
    for n in range(8000):
        sim.nodes["svc"].submit(Work(n, "s", "do", 1), outcomes.append)
    sim.run()
    assert outcomes.count("ServiceError") == pytest.approx(2000, rel=0.08)
    assert outcomes.count("CardDeclined") == pytest.approx(400, rel=0.2)
    assert len(sim.trace.of("effect")) == outcomes.count(None)


def test_without_idempotency_a_repeat_takes_effect_twice():
    sim = world(pay={"latency": "10ms"})
    for attempt in (1, 2):
        sim.nodes["pay"].submit(Work(0, "charge", "do", attempt), lambda e: None)
    sim.run()
    assert len(sim.trace.of("effect")) == 2  # a double charge


def test_idempotency_key_deduplicates_repeats_and_concurrent_duplicates():
    sim = world(pay={"latency": "10ms", "idempotent": True})
    replies = []
    svc = sim.nodes["pay"]
    svc.submit(Work(0, "charge", "do", 1), replies.append)
    svc.submit(Work(0, "charge", "do", 2), replies.append)  # while the first is in progress
    sim.at(1.0, svc.submit, Work(0, "charge", "do", 3), replies.append)  # after it took effect
    sim.run()
    assert replies == [None, None, None]
    assert len(sim.trace.of("effect")) == 1
    assert [e.info for e in sim.trace.of("work")] == ["ok", "duplicate"]


def test_crash_loses_work_in_progress_but_not_the_idempotency_table():
    sim = world(FaultPlan().crash("pay", at=0.5, restart_after=0.5), pay={"latency": "1s", "idempotent": True})
    svc = sim.nodes["pay"]
    replies = []
    svc.submit(Work(0, "charge", "do", 1), replies.append)  # would finish at 1.0: lost at 0.5
    sim.at(2.0, svc.submit, Work(1, "charge", "do", 1), replies.append)
    sim.at(4.0, svc.submit, Work(1, "charge", "do", 2), replies.append)
    sim.run()
    assert replies == [None, None]
    assert [e.instance for e in sim.trace.of("effect")] == [1]


def test_crash_right_after_a_step_takes_effect_sends_no_reply():
    sim = world(FaultPlan().crash("pay", after="charge"), pay={"latency": "10ms"})
    replies = []
    sim.nodes["pay"].submit(Work(0, "charge", "do", 1), replies.append)
    sim.run()
    assert replies == [] and len(sim.trace.of("effect")) == 1
    assert sim.trace.of("node-crashed")[0].time == pytest.approx(0.01)


def test_slow_fault_multiplies_service_latency():
    sim = world(FaultPlan().slow("svc", factor=10, start=0, end=1), svc={"latency": "100ms"})
    times = []
    sim.nodes["svc"].submit(Work(0, "s", "do", 1), lambda e: times.append(sim.now))
    sim.at(2, sim.nodes["svc"].submit, Work(1, "s", "do", 1), lambda e: times.append(sim.now))
    sim.run()
    assert times == [pytest.approx(1.0), pytest.approx(2.1)]


def test_broker_delivers_to_every_subscriber_and_redelivers_until_acked():
    sim = world(broker={"ack_timeout": 1.0, "max_deliveries": 3})
    seen = []
    sim.broker.subscribe("t", "a", lambda payload, ack: (seen.append(("a", sim.now)), ack()))
    sim.broker.subscribe("t", "b", lambda payload, ack: seen.append(("b", sim.now)))  # never acks
    sim.broker.publish("a", "t", "hello")
    sim.run()
    assert [s[0] for s in seen].count("a") == 1
    assert [s[0] for s in seen].count("b") == 3
    (dead,) = sim.trace.of("dead-letter")
    assert dead.peer == "b" and dead.info == "t"


def test_lost_ack_means_a_duplicate_delivery():
    sim = world(FaultPlan().partition("b", "broker", one_way=True, start=0, end=0.5),
                broker={"ack_timeout": 1.0})
    seen = []
    sim.broker.subscribe("t", "b", lambda payload, ack: (seen.append(sim.now), ack()))
    sim.broker.publish("a", "t", "hello")
    sim.run()
    assert len(seen) == 2  # at-least-once: the first ack was lost


def test_outbox_resends_a_publish_the_network_dropped():
    sim = world(FaultPlan().partition("a", "broker", start=0, end=2.5), broker={"publish_retry": 1.0})
    seen = []
    sim.broker.subscribe("t", "b", lambda payload, ack: (seen.append(sim.now), ack()))
    sim.broker.publish("a", "t", "hello")
    sim.run()
    assert seen == [pytest.approx(3.02)]  # tries at 0, 1, 2 dropped; 3 gets through


def test_broker_crash_keeps_messages_and_redelivers_on_restart():
    sim = world(FaultPlan().crash("broker", at=0.015, restart_after=2.0), broker={"ack_timeout": 5.0})
    seen = []
    sim.broker.subscribe("t", "b", lambda payload, ack: (seen.append(sim.now), ack()))
    sim.broker.publish("a", "t", "hello")
    sim.run()
    # delivered at 0.02, its ack arrives at 0.03 while the broker is down, so it is delivered again at restart
    assert seen == [pytest.approx(0.02), pytest.approx(2.025)]


def test_unknown_fault_node_is_a_clear_error():
    from engine import WorkflowError

    with pytest.raises(WorkflowError, match="did you mean 'svc'"):
        world(FaultPlan().crash("svcc", at=1), svc={})
