"""The conformance vectors: each a workflow, a fault plan, a seed, and what must come out.

    python polyglot/vectors/generate.py      # rewrite the expected results from the reference core

Expected results come from the Python decision core (engine/decider.py) run in
process; every orchestrator must reproduce them: the same instance statuses,
the same invariant verdict and the same trace, byte for byte (its SHA-256).
tests/test_polyglot.py checks the files are current and runs every language.
"""

from __future__ import annotations

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402

SEED_WF = "notebooks/workflows/order-fulfillment.yaml"
JITTER_WF = "notebooks/workflows/retry-payment-jitter.yaml"
STEPS = ("validate-order", "reserve-inventory", "process-payment", "ship-order", "send-confirmation")
SERVICE = {"validate-order": "order-service", "reserve-inventory": "inventory-service",
           "process-payment": "payment-service", "ship-order": "shipping-service",
           "send-confirmation": "notification-service"}


def _vectors() -> dict[str, dict]:
    v: dict[str, dict] = {}
    base = {"workflow": SEED_WF, "seed": 7, "orders": 20, "arrival_rate": 10.0, "services": {}, "faults": []}
    v["no-faults"] = dict(base)
    for step in STEPS:
        v[f"{step}-fails"] = dict(base, services={SERVICE[step]: {"failure_rate": 1.0}})
    v["retries-exhausted"] = dict(base, faults=[{"fail": "order-service", "rate": 1.0, "end": "1.5s"}])
    v["timeout-but-charged"] = dict(base, faults=[{"partition": ["payment-service", "orchestrator"],
                                                   "one_way": True, "start": "0.5s", "end": "12s"}])
    v["compensation-keeps-failing"] = dict(base, services={"shipping-service": {"failure_rate": 1.0}},
                                           faults=[{"fail": "payment-service", "rate": 1.0, "start": "0.2s"}])
    for step in STEPS:
        v[f"crash-after-{step}"] = dict(base, faults=[{"crash": "orchestrator", "after": step,
                                                       "restart_after": "1.5s"}])
    v["crash-mid-flight"] = dict(base, faults=[{"crash": "orchestrator", "at": "0.8s", "restart_after": "2s"}])
    v["partition-orchestrator-payment"] = dict(base, faults=[{"partition": ["orchestrator", "payment-service"],
                                                              "start": "0.5s", "end": "4s"}])
    v["duplicated-deliveries"] = dict(base, faults=[{"duplicate": ["broker", "*"], "rate": 0.5}])
    v["fire-and-forget-under-failure"] = dict(base, services={"notification-service": {"failure_rate": 0.7}},
                                              faults=[{"crash": "notification-service", "at": "0.5s",
                                                       "restart_after": "0.5s"}])
    v["jitter-under-failures"] = dict(base, workflow=JITTER_WF, orders=40,
                                      services={"payment-service": {"failure_rate": 0.4, "idempotent": True}},
                                      faults=[{"crash": "orchestrator", "at": "1s", "restart_after": "1s"}])
    return v


def run(vector: dict, orchestrator: str = "decider"):
    wf = engine.load_workflow(ROOT / vector["workflow"])
    plan = engine.FaultPlan.from_yaml(json.dumps({"faults": vector["faults"]}))
    return engine.simulate(wf, seed=vector["seed"], orders=vector["orders"], arrival_rate=vector["arrival_rate"],
                           services=vector["services"] or None, faults=plan, orchestrator=orchestrator)


def expected(vector: dict, orchestrator: str = "decider") -> dict:
    r = run(vector, orchestrator)
    return {"statuses": {str(i.id): i.status for i in r.instances},
            "ok": r.check().ok, "trace_sha256": r.trace.digest(), "events": len(r.trace)}


def main() -> int:
    for name, vector in _vectors().items():
        data = dict(vector, name=name, expected=expected(vector))
        (HERE / f"{name}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(f"{name}: {data['expected']['events']} events, ok={data['expected']['ok']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
