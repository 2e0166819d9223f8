"""The order service: the single writer of each order, emitting the order's events in order.

It emits event n+1 of an order no earlier than its due time and no earlier than the option's
acknowledgement of event n (the service records each step before taking the next), so every
option receives each order's events in order; what the option and its consumers make of them is
what is measured. An event whose publish fails is retried when the option is available again.
"""

from __future__ import annotations

from .option import HOP

__all__ = ["Producer"]


class Producer:
    """Emits every order's events: each reaches `option.arrive` one hop after it is emitted, and the
    option calls `acked(msg, t)` once, with the time `t` the acknowledgement reaches the service."""

    def __init__(self, sim, option, firsts: list) -> None:
        self.sim, self.option, self.firsts = sim, option, firsts
        self.emitted: list = []

    def start(self) -> None:
        for msg in self.firsts:
            self._emit(msg, msg.due)

    def _emit(self, msg, t: float) -> None:
        # one event per emit: the send is scheduled straight at its arrival (emit time + one hop)
        msg.t = t
        self.emitted.append(msg)
        self.sim.at(t + HOP - self.sim.now, self.option.arrive, msg)

    def acked(self, msg, t: float) -> None:
        if msg.acked is not None:
            return  # a retry's second acknowledgement
        msg.acked = t
        nxt = msg.next
        if nxt is not None:
            self._emit(nxt, max(nxt.due, t))
