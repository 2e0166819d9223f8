"""A scenario: everything `simulate` needs besides the workflow, as one replayable YAML file.

    scenario = Scenario(mode="orchestration", seed=7, orders=200, arrival_rate=20,
                        services={"payment-service": {"failure_rate": 0.3}},
                        faults=FaultPlan().crash("orchestrator", at=2, restart_after=3))
    text = scenario.to_yaml()            # what the dashboard's export button gives
    run = Scenario.from_yaml(text).run(wf)

The file's ``faults:`` list is a fault plan in the format `FaultPlan.from_yaml`
reads; the other keys say how to run it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Diagnostic, WorkflowError, did_you_mean
from .faultfile import parse_fault_plan
from .faults import FaultPlan

__all__ = ["Scenario", "SCENARIO_KEYS"]

SCENARIO_KEYS = ("mode", "seed", "orders", "arrival_rate", "services", "network", "faults")


@dataclass(frozen=True, kw_only=True)
class Scenario:
    mode: str = "orchestration"
    seed: int = 0
    orders: int = 1
    arrival_rate: float | None = None
    services: dict = field(default_factory=dict)
    network: object = None
    faults: FaultPlan = field(default_factory=FaultPlan)

    def run(self, wf):
        from .simulate import simulate

        return simulate(wf, mode=self.mode, seed=self.seed, orders=self.orders, arrival_rate=self.arrival_rate,
                        services=self.services or None, network=self.network, faults=self.faults)

    def to_yaml(self) -> str:
        import yaml

        head = {"mode": self.mode, "seed": self.seed, "orders": self.orders}
        if self.arrival_rate is not None:
            head["arrival_rate"] = self.arrival_rate
        if self.services:
            head["services"] = self.services
        if self.network is not None:
            head["network"] = self.network
        text = yaml.safe_dump(head, sort_keys=False, default_flow_style=False)
        return text + self.faults.to_yaml()

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<scenario>") -> "Scenario":
        from .yamlsafe import load_located

        data, loc = load_located(text, source=source)
        problems = []
        for key in data:
            if key not in SCENARIO_KEYS:
                line, col = loc.key((key,))
                problems.append(Diagnostic("unknown-key", f"a scenario has no key {key!r}; it takes "
                                           f"{', '.join(SCENARIO_KEYS)}", key, line, col,
                                           did_you_mean(key, SCENARIO_KEYS), file=source))
        if problems:
            raise WorkflowError(problems)
        # Only the faults are re-read from text, so their diagnostics keep file positions.
        faults = parse_fault_plan(text if "faults" in data else "faults: []", source=source, scenario_keys=True)
        return cls(mode=data.get("mode", "orchestration"), seed=data.get("seed", 0), orders=data.get("orders", 1),
                   arrival_rate=data.get("arrival_rate"), services=data.get("services") or {},
                   network=data.get("network"), faults=faults)
