"""Records the reference's conversations as fixtures for the TypeScript unit tests.

    .venv/bin/python polyglot/typescript/testdata/record.py    # from the repository root

Runs a few scenarios through the world with the reference decision core
(engine/decider.py, in process) and writes, for each, every line the world sends
an orchestrator process and the line the reference answers (one JSON object a
line: {"send": ..., "expect": ...}; a "hello" starts a new process, as after a
crash). src/transcripts.test.ts feeds the sends to a Session and compares.
Regenerate when the rules or the vectors change.
"""

from __future__ import annotations

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "polyglot" / "vectors"))

import engine  # noqa: E402
from engine import Action, FaultPlan, RetryPolicy, Step, Workflow  # noqa: E402
from engine import external  # noqa: E402

import generate  # noqa: E402


class Recorder(external.InProcessBrain):
    log: list = []

    def __init__(self, workflow: dict, seed: int) -> None:
        super().__init__(workflow, seed)
        Recorder.log.append({"send": {"type": "hello", "protocol": 1, "seed": seed, "workflow": workflow},
                             "expect": {"type": "ready"}})

    def activate(self, time_us: int, events: list, replay: bool = False) -> list:
        commands = super().activate(time_us, events, replay)
        Recorder.log.append({"send": {"type": "activation", "time_us": time_us, "replay": replay, "events": events},
                             "expect": {"type": "commands", "time_us": time_us, "commands": commands}})
        return commands

    def restart(self) -> "Recorder":
        return Recorder(self.workflow, self.seed)


def mixed_workflow() -> Workflow:
    """Every backoff and jitter, a diamond, two-action compensations, a non-retryable error."""
    def retry(**kw) -> RetryPolicy:
        return RetryPolicy(**{"max_attempts": 3, "initial_interval": 0.1, **kw})
    steps = (
        Step(name="a", type="sync-task", service="svc-a", endpoint="/a", timeout=1.0,
             retry=retry(backoff="linear", jitter="decorrelated"),
             compensation=(Action("svc-a", endpoint="/undo-a"), Action("svc-b", topic="a.undo2"))),
        Step(name="b", type="async-task", service="svc-b", topic="b.do", depends_on=("a",), timeout=0.2,
             retry=retry(backoff="constant", jitter="equal", max_attempts=4),
             compensation=(Action("svc-b", topic="b.undo"),)),
        Step(name="c", type="sync-task", service="svc-c", endpoint="/c", depends_on=("a",), timeout=1.0,
             retry=retry(backoff="exponential", jitter="full", backoff_coefficient=1.5,
                         non_retryable_errors=("ServiceError",)),
             compensation=(Action("svc-c", endpoint="/undo-c"),)),
        Step(name="n", type="fire-and-forget", service="svc-a", topic="n.do", depends_on=("a",)),
        Step(name="d", type="sync-task", service="svc-c", endpoint="/d", depends_on=("b", "c"), timeout=0.2,
             retry=retry(jitter="decorrelated", max_interval=0.3)),
    )
    services = {name: engine.ServiceProfile.from_spec({"failure_rate": 0.3, "latency": {"dist": "exponential",
                                                                                       "mean": "80ms"}})
                for name in ("svc-a", "svc-b", "svc-c")}
    return Workflow(name="mixed", version="1.0", steps=steps, services=services,
                    compensation_retry=RetryPolicy(max_attempts=3, initial_interval=0.2, jitter="decorrelated"))


def main() -> int:
    external.InProcessBrain = Recorder  # type: ignore[misc]
    scenarios = {}
    for name in ("jitter-under-failures", "compensation-keeps-failing", "timeout-but-charged",
                 "crash-after-process-payment"):
        vector = json.loads((ROOT / "polyglot" / "vectors" / f"{name}.json").read_text())
        Recorder.log = []
        generate.run(vector, orchestrator="decider")
        scenarios[name] = Recorder.log
    Recorder.log = []
    plan = FaultPlan().crash("orchestrator", at=1.0, restart_after=0.5).fail("svc-c", rate=1.0, start=2, end=4)
    engine.simulate(mixed_workflow(), seed=11, orders=25, arrival_rate=8, faults=plan, orchestrator="decider")
    scenarios["mixed-backoffs-and-jitters"] = Recorder.log
    for name, log in scenarios.items():
        path = HERE / f"{name}.jsonl"
        path.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in log))
        print(f"{path.name}: {len(log)} lines, {sum(x['send']['type'] == 'hello' for x in log)} processes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
