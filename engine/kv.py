"""A replicated register on the simulated network: CP and AP behaviour under a partition.

N replicas hold one register (initially ``None``); clients read and write it,
one operation at a time each, and every operation is recorded Jepsen-style
(invoke, then ok / fail / info) in `KVRun.history`.

* ``consistency="cp"`` — the client coordinates majority quorums the way
  Attiya, Bar-Noy & Dolev's register does (JACM 1995): a write first asks R
  replicas for the highest timestamp, then stores (timestamp + 1, value) on W;
  a read asks R replicas, takes the newest, **writes it back** to W, then
  returns it. With R = W = a majority this is linearizable; a client that
  cannot reach a majority gets no answer: its operation times out.
* ``consistency="ap"`` — the client talks to its home replica only. The
  replica stamps a write with its clock (last-writer-wins) and answers at
  once, then pushes it to its peers in the background. Every client always
  gets an answer; during a partition the two sides diverge and reads are stale.
* ``r``, ``w`` and ``write_back`` can be set by hand to see that R + W > N
  alone is not enough, and ``conflicts="siblings"`` keeps concurrent writes
  side by side (version vectors) instead of silently dropping all but one.

Anti-entropy: every ``anti_entropy`` seconds each replica sends its state to
every peer, so replicas converge once the partition heals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .faults import FaultPlan
from .linearizability import check_linearizable, pair
from .network import Network, NetworkProfile
from .sim import Node, Simulation

__all__ = ["simulate_kv", "KVRun"]

REGISTER = "x"


class Replica(Node):
    def __init__(self, sim, name: str, index: int, store: "_Store") -> None:
        super().__init__(sim, name)
        self.index, self.store = index, store
        self.ts: tuple = (0, "")        # last-writer-wins: the newest (timestamp, writer) seen
        self.value = None
        self.siblings: list = []         # conflicts="siblings": [(version vector, value)], none dominated

    # -- local state --------------------------------------------------------------
    def read(self):
        if self.store.conflicts == "siblings" and self.store.consistency == "ap":
            values = sorted((v for _, v in self.siblings), key=repr)
            return values[0] if len(values) == 1 else (tuple(values) if values else None)
        return self.value

    def stamp_and_store(self, value) -> None:
        """A write coordinated here (AP): stamp it with this replica's clock, or a new version vector."""
        if self.store.conflicts == "siblings":
            n = len(self.store.replicas)
            vv = [max((s[0][k] for s in self.siblings), default=0) for k in range(n)]
            vv[self.index] += 1
            self.merge_siblings([(tuple(vv), value)])
        else:
            self.apply((self.sim.now + self.store.skew.get(self.name, 0.0), self.name), value)

    def apply(self, ts: tuple, value) -> None:
        if ts > self.ts:
            self.ts, self.value = ts, value
            self.sim.trace.add(self.sim.now, "replica-write", node=self.name, info=repr(value))

    def merge_siblings(self, incoming) -> None:
        merged = {vv: v for vv, v in self.siblings}
        merged.update({vv: v for vv, v in incoming})
        kept = [(vv, v) for vv, v in merged.items()
                if not any(other != vv and all(a <= b for a, b in zip(vv, other)) for other in merged)]
        kept.sort()
        if kept != self.siblings:
            self.siblings = kept
            self.sim.trace.add(self.sim.now, "replica-write", node=self.name, info=repr(self.read()))

    def state(self):
        return ("siblings", list(self.siblings)) if self.store.conflicts == "siblings" else ("lww", self.ts, self.value)

    def merge(self, state) -> None:
        if state[0] == "siblings":
            self.merge_siblings(state[1])
        else:
            self.apply(state[1], state[2])

    # -- messages ---------------------------------------------------------------------
    def on_get(self, client: str, op: int, phase: int) -> None:
        self.store.reply(self.name, client, op, phase, (self.ts, self.read()))

    def on_put(self, client: str, op: int, phase: int, ts, value) -> None:
        self.apply(ts, value)
        self.store.reply(self.name, client, op, phase, None)

    def on_ap_write(self, client: str, op: int, value) -> None:
        self.stamp_and_store(value)
        self.store.reply(self.name, client, op, 1, None)
        self.gossip()  # replicate in the background, after answering

    def on_ap_read(self, client: str, op: int) -> None:
        self.store.reply(self.name, client, op, 1, (self.ts, self.read()))

    def gossip(self) -> None:
        for peer in self.store.replicas:
            if peer is not self:
                self.sim.network.send(self.name, peer.name, "sync", peer.merge, (self.state(),))


class Client(Node):
    def __init__(self, sim, name: str, store: "_Store", home: str, ops: int) -> None:
        super().__init__(sim, name)
        self.store, self.home, self.left = store, home, ops
        self.op = None  # the operation in flight: dict with id, f, value, phase, replies

    def begin(self) -> None:
        store = self.store
        if self.left == 0:
            store.finished(self)
            return
        self.left -= 1
        f = "read" if self.sim.rng.random() < store.read_fraction else "write"
        value = store.next_value() if f == "write" else None
        store.op_id += 1
        self.op = {"id": store.op_id, "f": f, "value": value, "phase": 1, "replies": []}
        store.record(self.name, "invoke", f, value)
        self.sim.at(store.timeout, self.expire, store.op_id)
        if store.consistency == "ap":
            home = self.sim.nodes[self.home]
            if f == "write":
                self._send(home, "write", home.on_ap_write, (self.name, store.op_id, value))
            else:
                self._send(home, "read", home.on_ap_read, (self.name, store.op_id))
        else:
            self._ask_all()

    def _send(self, replica, label, fn, args) -> None:
        self.sim.network.send(self.name, replica.name, label, fn, args)

    def _ask_all(self) -> None:
        for rep in self.store.replicas:
            self._send(rep, "get", rep.on_get, (self.name, self.op["id"], 1))

    def _put_all(self, ts, value) -> None:
        self.op["phase"], self.op["replies"] = 2, []
        for rep in self.store.replicas:
            self._send(rep, "put", rep.on_put, (self.name, self.op["id"], 2, ts, value))

    def on_reply(self, op: int, phase: int, payload) -> None:
        cur = self.op
        if cur is None or cur["id"] != op or cur["phase"] != phase:
            return  # late: that operation or phase is over
        cur["replies"].append(payload)
        store = self.store
        if store.consistency == "ap":
            self._done("ok", payload[1] if cur["f"] == "read" else cur["value"])
        elif phase == 1 and len(cur["replies"]) >= store.r:
            ts, value = max(cur["replies"], key=lambda p: p[0])
            if cur["f"] == "write":
                self._put_all((ts[0] + 1, self.name), cur["value"])
            elif store.write_back:
                cur["result"] = value
                self._put_all(ts, value)
            else:
                self._done("ok", value)
        elif phase == 2 and len(cur["replies"]) >= store.w:
            self._done("ok", cur["value"] if cur["f"] == "write" else cur["result"])

    def expire(self, op: int) -> None:
        if self.op is not None and self.op["id"] == op:
            # A write that timed out may still take effect: indefinite. A read has no effect: failed.
            self._done("info" if self.op["f"] == "write" else "fail", self.op["value"])

    def _done(self, kind: str, value) -> None:
        f = self.op["f"]
        self.op = None
        self.store.record(self.name, kind, f, value)
        self.sim.at(self.sim.rng.expovariate(1.0 / self.store.think), self.begin)


@dataclass
class _Store:
    sim: Simulation
    consistency: str
    conflicts: str
    r: int
    w: int
    write_back: bool
    read_fraction: float
    think: float
    timeout: float
    anti_entropy: float
    skew: dict
    replicas: list = field(default_factory=list)
    history: list = field(default_factory=list)
    op_id: int = 0
    written: int = 0
    busy: int = 0

    def next_value(self) -> int:
        self.written += 1
        return self.written

    def record(self, process: str, kind: str, f: str, value) -> None:
        self.history.append({"process": process, "type": kind, "f": f, "value": value, "time": self.sim.now})

    def reply(self, replica: str, client: str, op: int, phase: int, payload) -> None:
        node = self.sim.nodes[client]
        self.sim.network.send(replica, client, "reply", node.on_reply, (op, phase, payload))

    def finished(self, client) -> None:
        self.busy -= 1

    def anti_entropy_round(self) -> None:
        for rep in self.replicas:
            if rep.up:
                rep.gossip()
        if self.busy > 0 or self.sim.now < self.quiet_until:
            self.sim.at(self.anti_entropy, self.anti_entropy_round)


@dataclass
class KVRun:
    """A finished run of the replicated register: its history, trace and measures."""

    history: list[dict]
    trace: object
    settings: dict
    replicas: dict = field(default_factory=dict)  # replica -> final value
    faults: FaultPlan = field(default_factory=FaultPlan)

    def check(self):
        """The linearizability checker's verdict on the history."""
        return check_linearizable(self.history)

    @property
    def availability(self) -> dict[str, float]:
        """For each client, the fraction of its operations that got an ok."""
        out: dict[str, list[int]] = {}
        for e in self.history:
            if e["type"] != "invoke":
                out.setdefault(e["process"], [0, 0])
                out[e["process"]][0] += e["type"] == "ok"
                out[e["process"]][1] += 1
        return {p: ok / n for p, (ok, n) in sorted(out.items())}

    def stale_reads(self) -> list:
        """Ok reads that returned a value certainly overwritten before the read began.

        A read is stale when some write w completed before it started and the value it
        returned was written by a write that completed before w started (or is the
        initial None): every legal order puts w after that value, and w before the read.
        """
        ops = pair(self.history)
        writes = [o for o in ops if o.f == "write"]
        done = [o for o in writes if o.type == "ok"]
        out = []
        for read in (o for o in ops if o.f == "read" and o.type == "ok"):
            sources = [o for o in writes if o.value == read.value]
            for w in done:
                if w.end < read.start and (read.value is None and not sources
                                           or sources and all(src.end < w.start for src in sources)):
                    out.append(read)
                    break
        return out

    def latencies(self, f: str | None = None, process: str | None = None) -> list[float]:
        """Seconds from invocation to ok, for reads or writes (or both), of one client (or all)."""
        return [o.end - o.start for o in pair(self.history)
                if o.type == "ok" and (f is None or o.f == f) and (process is None or o.process == process)
                and math.isfinite(o.end)]

    @property
    def converged(self) -> bool:
        return len({repr(v) for v in self.replicas.values()}) == 1

    def summary(self) -> str:
        ops = pair(self.history)
        s = self.settings
        lat = {f: self.latencies(f) for f in ("read", "write")}
        lines = [f"{s['consistency'].upper()} register · N={s['n']} R={s['r']} W={s['w']}"
                 f"{' with write-back' if s['write_back'] and s['consistency'] == 'cp' else ''}"
                 f" · {s['conflicts']} · seed {s['seed']}",
                 "  availability  " + ", ".join(f"{p} {a:.0%}" for p, a in sorted(self.availability.items())),
                 f"  operations    {len(ops)} completed or indefinite, {len(self.stale_reads())} stale read(s)",
                 "  mean latency  " + ", ".join(f"{f} {1000 * sum(x) / len(x):.1f} ms" if x else f"{f} —"
                                                for f, x in lat.items()),
                 "  replicas      " + ", ".join(f"{k}={v!r}" for k, v in self.replicas.items())
                 + ("  (converged)" if self.converged else "  (diverged)")]
        return "\n".join(lines)


def simulate_kv(*, n: int = 3, consistency: str = "cp", r: int | None = None, w: int | None = None,
                write_back: bool | None = None, conflicts: str = "lww", clients=("client-a", "client-b"),
                homes: dict | None = None, ops_per_client: int = 10, read_fraction: float = 0.5,
                think: float = 0.3, timeout: float = 1.0, anti_entropy: float = 1.0, network="5ms",
                faults: FaultPlan | None = None, clock_skew: dict | None = None, seed: int = 0,
                settle: float = 5.0) -> KVRun:
    """Run clients against N replicas of one register; see the module docstring for the modes."""
    _check(n, consistency, r, w, conflicts, ops_per_client, read_fraction)
    majority = n // 2 + 1
    r = r if r is not None else (majority if consistency == "cp" else 1)
    w = w if w is not None else (majority if consistency == "cp" else 1)
    if not (1 <= r <= n and 1 <= w <= n):
        raise ValueError(f"R and W must be between 1 and N={n}; got R={r}, W={w}")
    write_back = (consistency == "cp") if write_back is None else write_back
    sim = Simulation(seed=seed, faults=faults)
    sim.network = Network(sim, NetworkProfile.from_spec(network))
    store = _Store(sim, consistency, conflicts, r, w, write_back, read_fraction, think, timeout, anti_entropy,
                   dict(clock_skew or {}))
    store.replicas = [sim.add(Replica(sim, f"replica-{k + 1}", k, store)) for k in range(n)]
    homes = homes or {}
    for k, name in enumerate(clients):
        home = homes.get(name, store.replicas[k % n].name)
        client = sim.add(Client(sim, name, store, home, ops_per_client))
        store.busy += 1
        sim.at(sim.rng.expovariate(1.0 / think), client.begin)
    sim.arm_faults()
    last_fault = max((f.end for f in sim.faults if math.isfinite(f.end)), default=0.0)
    store.quiet_until = last_fault + settle
    sim.at(anti_entropy, store.anti_entropy_round)
    sim.run()
    settings = {"n": n, "r": r, "w": w, "write_back": write_back, "consistency": consistency,
                "conflicts": conflicts, "seed": seed}
    return KVRun(store.history, sim.trace, settings, {rep.name: rep.read() for rep in store.replicas}, sim.faults)


def _check(n, consistency, r, w, conflicts, ops, read_fraction) -> None:
    if consistency not in ("cp", "ap"):
        raise ValueError(f"consistency is 'cp' or 'ap', got {consistency!r}")
    if conflicts not in ("lww", "siblings"):
        raise ValueError(f"conflicts is 'lww' (last writer wins) or 'siblings', got {conflicts!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n is the number of replicas, a whole number >= 1; got {n!r}")
    if not isinstance(ops, int) or ops < 0:
        raise ValueError(f"ops_per_client is a whole number >= 0, got {ops!r}")
    if not 0 <= read_fraction <= 1:
        raise ValueError(f"read_fraction is between 0 and 1, got {read_fraction!r}")
