"""The trace: the one record of what happened in a simulation.

Every metric, plot and checker is derived from the trace. An `Event` is a
small typed record; `kind` is one of `KINDS` (below, with what each means).
Field use by kind:

* ``time`` — simulated seconds when it happened (for messages: arrival or drop).
* ``instance``, ``step``, ``attempt`` — which workflow instance, step, attempt.
* ``node`` — where it happened (for messages: the sender).
* ``peer`` — the other end of a message.
* ``info`` — an error name, an outcome, a topic or endpoint, a status.
* ``start`` — when a span began (message sent, work started).
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterator, NamedTuple

__all__ = ["Event", "Trace", "KINDS"]

KINDS: dict[str, str] = {
    # instances
    "instance-started": "an order arrived and its workflow instance began",
    "instance-ended": "the orchestrator ended an instance; info is its status",
    # steps, as the orchestrator (or a choreography participant) sees them
    "attempt-started": "an attempt of a step began",
    "attempt-failed": "an attempt failed definitely; info is the error",
    "attempt-timeout": "an attempt timed out: an indefinite failure, the work may have happened",
    "retry-scheduled": "a retry was scheduled; info is the delay in seconds",
    "step-completed": "an attempt succeeded and its step completed (fire-and-forget: was published)",
    "step-failed": "a step failed for good; info says definite or indefinite",
    "step-skipped": "a step never ran because its saga aborted",
    # compensation
    "compensation-started": "an attempt to compensate a step began",
    "compensation-ok": "a compensation attempt succeeded",
    "compensation-failed": "a compensation attempt failed; info is the error",
    "compensation-timeout": "a compensation attempt timed out",
    "compensation-retry-scheduled": "a compensation retry was scheduled; info is the delay in seconds",
    "step-compensated": "every compensation action of a step succeeded",
    "compensation-exhausted": "a compensation gave up: a human must intervene",
    "step-unwound": "choreography: a participant finished unwinding a step; info is what it did",
    # the world
    "message": "a message was delivered; node → peer, info is its label, start when sent",
    "message-dropped": "a message was lost; info says why (partition, loss, node down)",
    "work": "a service processed a request; start→time, info is ok / an error / duplicate",
    "effect": "a service's work took effect (a charge, a reservation); info is do or undo",
    "dead-letter": "the broker gave up redelivering a message; info is the topic",
    "node-crashed": "a node crashed; in-flight work on it is lost",
    "node-restarted": "a node came back",
    "instance-resumed": "the orchestrator rebuilt an instance from its history after a restart",
    "replica-write": "a replica of the register stored a newer version; info is the value it now reads",
}


class Event(NamedTuple):
    time: float
    kind: str
    instance: int | None = None
    step: str | None = None
    attempt: int | None = None
    node: str | None = None
    peer: str | None = None
    info: str | None = None
    start: float | None = None

    def to_record(self) -> dict:
        return {k: v for k, v in self._asdict().items() if v is not None}


_new = tuple.__new__


class Trace:
    """An append-only list of events, in the order they happened."""

    __slots__ = ("events",)

    def __init__(self, events=None) -> None:
        self.events: list[Event] = list(events or [])

    def add(self, time, kind, instance=None, step=None, attempt=None, node=None, peer=None, info=None, start=None):
        # tuple.__new__ skips NamedTuple's argument handling: this is the engine's hottest line.
        self.events.append(_new(Event, (time, kind, instance, step, attempt, node, peer, info, start)))

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def __getitem__(self, i):
        return self.events[i]

    def of(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def for_instance(self, instance: int) -> list[Event]:
        return [e for e in self.events if e.instance == instance]

    def to_records(self) -> list[dict]:
        """Plain dicts (None fields left out), ready for pandas or JSON."""
        return [e.to_record() for e in self.events]

    def digest(self) -> str:
        """A SHA-256 of the whole trace: equal digests mean identical runs."""
        h = hashlib.sha256()
        for e in self.events:
            h.update(json.dumps(e, separators=(",", ":")).encode())
            h.update(b"\n")
        return h.hexdigest()

    def __repr__(self) -> str:
        return f"<Trace {len(self.events)} events>"
