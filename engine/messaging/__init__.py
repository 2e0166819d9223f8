"""Messaging options for ADR-001, simulated: a queue, a log, an event store, and one way to compare them.

    from engine.messaging import ADR_001, compare_messaging, simulate_messaging
    run = simulate_messaging("log", workload=ADR_001, consumer_crash={"at": 1250})
    run.metrics()          # one plain dict: the same keys for every option
    compare_messaging(workload=ADR_001, broker_crash={"at": 1300, "restart_after": 60},
                      settings={"log": {"acks": "1"}})   # a record per option, for a table

Modules, one concept each: workload (orders, growth, the burst), producer (the order service),
consumer (the projection every option feeds), option (what every option provides), queue, log and
group (Kafka's partitions and consumer groups), eventstore, metrics, run (`simulate_messaging`).
"""

from .eventstore import ANY, NO_STREAM, EventStoreConfig, StreamStore, WrongExpectedVersion
from .log import LogConfig
from .metrics import METRICS
from .queue import QueueConfig
from .run import OPTIONS, MessagingRun, compare_messaging, simulate_messaging
from .workload import ADR_001, Workload

__all__ = [
    "simulate_messaging", "compare_messaging", "MessagingRun", "OPTIONS", "METRICS",
    "Workload", "ADR_001",
    "QueueConfig", "LogConfig", "EventStoreConfig",
    "StreamStore", "WrongExpectedVersion", "NO_STREAM", "ANY",
]
