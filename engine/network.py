"""The network: per-link latency, partitions (symmetric or one-way), loss, duplication.

Whether a message is lost is decided when it is sent (a partition that
begins while a message is in flight does not catch it); whether it is
delivered depends on the receiver being up when it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simpy.events import NORMAL

from .latency import Constant, Latency, parse_latency
from .sim import _Call

__all__ = ["Network", "NetworkProfile"]

_KEYS = ("latency", "loss", "duplicate", "links")


def _probability(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"network {what} is a probability between 0 and 1, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class NetworkProfile:
    """Default link latency, loss and duplication; `links` overrides latency per (src, dst)."""

    latency: Latency = field(default_factory=lambda: Constant(0.001))
    loss: float = 0.0
    duplicate: float = 0.0
    links: tuple[tuple[tuple[str, str], Latency], ...] = ()

    @classmethod
    def from_spec(cls, spec) -> "NetworkProfile":
        """From a mapping such as ``{"latency": "2ms", "loss": 0.01, "links": {"a<->b": "20ms"}}``.

        A bare latency (``"5ms"`` or a distribution mapping with ``dist``) is accepted too.
        """
        if spec is None:
            return cls()
        if isinstance(spec, NetworkProfile):
            return spec
        if not isinstance(spec, dict) or "dist" in spec:
            return cls(latency=parse_latency(spec))
        unknown = [k for k in spec if k not in _KEYS]
        if unknown:
            raise ValueError(f"unknown network key(s) {', '.join(map(repr, unknown))}; use {', '.join(_KEYS)}")
        links = []
        for name, lat in (spec.get("links") or {}).items():
            if "<->" in name:
                a, b = (s.strip() for s in name.split("<->", 1))
                links += [((a, b), parse_latency(lat)), ((b, a), parse_latency(lat))]
            elif "->" in name:
                a, b = (s.strip() for s in name.split("->", 1))
                links.append(((a, b), parse_latency(lat)))
            else:
                raise ValueError(f"a link is written 'a<->b' (both ways) or 'a->b' (one way), got {name!r}")
        return cls(latency=parse_latency(spec.get("latency", "1ms")),
                   loss=_probability(spec.get("loss", 0.0), "loss"),
                   duplicate=_probability(spec.get("duplicate", 0.0), "duplicate"),
                   links=tuple(links))


class Network:
    def __init__(self, sim, profile: NetworkProfile) -> None:
        self.sim = sim
        self.profile = profile
        self.links = dict(profile.links)
        self._default = profile.latency
        # A constant default latency needs no draw: the commonest case, on the hottest path.
        self._constant = profile.latency.value if isinstance(profile.latency, Constant) else None
        plan = sim.faults.faults
        self._partitions = [f for f in plan if f.kind == "partition"]
        self._loss = [f for f in plan if f.kind == "loss"]
        self._dups = [f for f in plan if f.kind == "duplicate"]
        self._slow = [f for f in plan if f.kind == "slow" and len(f.nodes) == 2]
        self._quiet = not (self._partitions or self._loss or self._dups or self._slow
                           or profile.loss or profile.duplicate)

    def send(self, src: str, dst: str, label: str, fn, args=(), tag=(None, None, None), on_drop=None) -> None:
        """Deliver `fn(*args)` at `dst` after the link's latency, unless the message is lost.

        `tag` is (instance, step, attempt), recorded with the message in the trace.
        `on_drop()` is called if the message is lost (the sender's outbox uses it).
        """
        sim = self.sim
        env = sim.env
        latency = self.links.get((src, dst), self._default) if self.links else self._default
        if self._quiet:  # the common case, kept short: one scheduled arrival
            delay = self._constant if latency is self._default and self._constant is not None \
                else latency.sample(sim.rng)
            env.schedule(_Call(self._arrive, (env.now, src, dst, label, fn, args, tag, on_drop)), NORMAL, delay)
            return
        now = env.now
        reason = self._lost(src, dst, now)
        if reason:
            sim.trace.add(now, "message-dropped", tag[0], tag[1], tag[2], src, dst, reason, now)
            if on_drop is not None:
                on_drop()
            return
        dup = self.profile.duplicate
        factor = 1.0
        for f in self._dups:
            if f.active(now) and f.on_link(src, dst):
                dup = max(dup, f.rate)
        for f in self._slow:
            if f.active(now) and f.on_link(src, dst):
                factor *= f.factor
        copies = 2 if dup and sim.rng.random() < dup else 1
        for _ in range(copies):
            sim.at(latency.sample(sim.rng) * factor, self._arrive, now, src, dst, label, fn, args, tag, on_drop)

    def _lost(self, src: str, dst: str, now: float) -> str | None:
        for f in self._partitions:
            if f.active(now) and f.on_link(src, dst):
                return "partition"
        loss = self.profile.loss
        for f in self._loss:
            if f.active(now) and f.on_link(src, dst):
                loss = max(loss, f.rate)
        if loss and self.sim.rng.random() < loss:
            return "loss"
        return None

    def _arrive(self, sent, src, dst, label, fn, args, tag, on_drop) -> None:
        sim = self.sim
        if not sim.nodes[dst].up:
            sim.trace.add(sim.env.now, "message-dropped", tag[0], tag[1], tag[2], src, dst, "node down", sent)
            if on_drop is not None:
                on_drop()
            return
        sim.trace.add(sim.env.now, "message", tag[0], tag[1], tag[2], src, dst, label, sent)
        fn(*args)
