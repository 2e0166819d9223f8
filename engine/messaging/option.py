"""What every messaging option provides to the run: publish, consumers, replay, day-scale rules."""

from __future__ import annotations

from ..sim import Node

__all__ = ["Option", "BrokerNode", "HOP"]

#: One network hop, simulated seconds (the engine's default link latency).
HOP = 0.001


class BrokerNode(Node):
    """A broker node of any option: its crash and restart are the option's to handle."""

    def __init__(self, sim, name: str, option: "Option") -> None:
        super().__init__(sim, name)
        self.option = option

    def on_crash(self) -> None:
        self.option.node_crashed(self.name)

    def on_restart(self) -> None:
        self.option.stalled.pop(self.name, None)  # a restarted broker fetches afresh: the stall is over
        self.option.node_restarted(self.name)


class Option:
    """Base of the three options. Work that finds the option unavailable is parked, not polled:
    it runs again when something changes (a restart, an election), so a broker that never comes
    back leaves a quiet simulation, not a busy loop."""

    name = ""

    def __init__(self, sim, app, config) -> None:
        self.sim, self.app, self.config = sim, app, config
        self.producer = None
        self.workload = None
        self.consumers: list = []
        self._parked: list = []
        self.incidents: list[dict] = []
        self.stalled: dict[str, int] = {}   # broker -> which stall (a token for timers set during it)
        self._stalls = 0

    def park(self, fn, *args) -> None:
        self._parked.append((fn, args))

    def unpark(self) -> None:
        parked, self._parked = self._parked, []
        for fn, args in parked:
            fn(*args)

    def note(self, what: str, **detail) -> None:
        """An incident worth a line on a plot: a rebalance, a failover, a replay."""
        self.incidents.append({"time": self.sim.now, "what": what, **detail})

    # -- the contract ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Consumers begin polling."""
        for c in self.consumers:
            c.poll()

    def publish(self, msg) -> None:
        """Send `msg` (again): it arrives one hop later."""
        self.sim.at(HOP, self.arrive, msg)

    def arrive(self, msg) -> None:
        """`msg` reaches the option: store it, or park it when the option cannot take it."""
        raise NotImplementedError

    def node_stalled(self, name: str) -> None:
        """`name` stops replicating but stays up and keeps its session: nothing fences it (a gray
        failure). An option whose writes wait for a majority commits without it; the log overrides."""
        self._stalls += 1
        self.stalled[name] = self._stalls
        self.note("follower stalled", broker=name)

    def node_resumed(self, name: str) -> bool:
        """`name` replicates again; False if its stall had already ended (a restart ends it)."""
        if self.stalled.pop(name, None) is None:
            return False
        self.note("follower resumed", broker=name)
        return True

    def replayable(self, since: float, at: float | None = None) -> list:
        """The stored events emitted at or after `since` that a replay at time `at` (now) could read."""
        raise NotImplementedError

    def repair(self, since: float) -> None:
        """The consumer bug is fixed: re-deliver what the option still holds from `since` on."""
        raise NotImplementedError

    def day_scale(self, workload, days: float) -> dict:
        """Day-granular rules: {'stored_events', 'storage_bytes', 'storage_bytes_day_before'} at `days`."""
        raise NotImplementedError
