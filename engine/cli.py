"""The command line: ``python -m engine check FILE``, ``run FILE`` and ``adr new|list|check``.

    python -m engine check notebooks/workflows/order-fulfillment.yaml
    python -m engine run notebooks/workflows/order-fulfillment.yaml --orders 100 --arrival-rate 20 \\
        --seed 7 --fault crash=orchestrator,at=1s,restart_after=2s \\
        --service payment-service.failure_rate=0.2

Exit status: 0 when all is well; 1 when the workflow has errors (check) or an
invariant is violated (run); 2 for a usage mistake.
"""

from __future__ import annotations

import argparse
import json
import sys

from .errors import WorkflowError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine", description="Simulate and check workflow YAML.")
    sub = p.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate a workflow; print every problem")
    check.add_argument("file")
    run = sub.add_parser("run", help="simulate a workflow; print a summary and the invariant verdict")
    run.add_argument("file")
    run.add_argument("--mode", choices=("orchestration", "choreography"), default="orchestration")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--orders", type=int, default=1)
    run.add_argument("--arrival-rate", type=float, default=None, help="orders per simulated second (Poisson)")
    run.add_argument("--fault", action="append", default=[], metavar="KIND=TARGET,key=value,...",
                     help="e.g. crash=orchestrator,at=3s,restart_after=5s or "
                          "partition=orchestrator:inventory-service,start=2s,end=8s (repeatable)")
    run.add_argument("--faults", metavar="FILE", help="a fault plan in YAML")
    run.add_argument("--service", action="append", default=[], metavar="NAME.KEY=VALUE",
                     help="override a service profile, e.g. payment-service.failure_rate=0.2 (repeatable)")
    run.add_argument("--network", metavar="LATENCY", help="default link latency, e.g. 2ms")
    run.add_argument("--json", action="store_true", help="print the summary and verdict as JSON")
    run.add_argument("--trace", metavar="FILE", help="write the trace as JSON lines")
    adr = sub.add_parser("adr", help="architecture decision records: new, list, check")
    adr_sub = adr.add_subparsers(dest="action", required=True)
    new = adr_sub.add_parser("new", help="write the next-numbered ADR from the template")
    new.add_argument("title")
    new.add_argument("--dir", default="docs/adr", help="the ADR log (default: docs/adr)")
    listing = adr_sub.add_parser("list", help="number, status and title of each ADR")
    listing.add_argument("--dir", default="docs/adr")
    adr_check = adr_sub.add_parser("check", help="every problem in the ADRs, as file:line: error[CODE] message")
    adr_check.add_argument("paths", nargs="+", metavar="PATH", help="ADR files or directories")
    adr_check.add_argument("--evidence", action="store_true", help="also rerun every evidence block")
    return p


def _adr(args) -> int:
    from . import adr

    if args.action == "new":
        import datetime

        path = adr.new_adr(args.dir, args.title, date=datetime.date.today())  # a file a person dates
        print(path)
        return 0
    if args.action == "list":
        for a in adr.list_adrs(args.dir):
            print(f"{a['number']:4d}  {a['status']:<11} {a['title']}  ({a['file']})")
        return 0
    problems = adr.check_adrs(args.paths, evidence=args.evidence)
    for p in problems:
        print(p)
    checked = "with evidence rerun" if args.evidence else "evidence not rerun (--evidence)"
    print(f"{len(problems)} problem(s); {checked}", file=sys.stderr)
    return 1 if problems else 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "adr":
            return _adr(args)
        return _check(args) if args.command == "check" else _run(args)
    except WorkflowError as err:
        print(err, file=sys.stderr)
        return 1
    except (ValueError, TypeError, FileNotFoundError, IsADirectoryError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _check(args) -> int:
    from .dsl import load_workflow

    wf = load_workflow(args.file)
    for warning in wf.warnings:
        print(warning)
    print(f"{args.file}: ok — workflow {wf.name!r} v{wf.version}, {len(wf.steps)} steps, "
          f"{len(wf.generations)} stages, critical path {' → '.join(wf.critical_path().steps)}")
    return 0


def fault_from_cli(spec: str, n: int):
    """``crash=orchestrator,at=3s`` → a one-fault FaultPlan (validated like a YAML plan)."""
    from .faultfile import parse_fault_plan

    parts = [p.strip() for p in spec.split(",") if p.strip()]
    items = []
    for part in parts:
        key, eq, value = part.partition("=")
        if not eq:
            raise ValueError(f"--fault {spec!r}: each part is key=value, got {part!r}")
        if ":" in value and key.strip() in ("partition", "loss", "duplicate", "slow"):
            a, b = value.split(":", 1)
            value = f"[{json.dumps(a.strip())}, {json.dumps(b.strip())}]"
        else:
            value = json.dumps(value.strip())
        items.append(f"{json.dumps(key.strip())}: {value}")
    return parse_fault_plan("faults:\n  - {" + ", ".join(items) + "}\n", source=f"--fault #{n}")


def _service_overrides(specs) -> dict:
    from .yamlsafe import load_located

    out: dict = {}
    for spec in specs:
        target, eq, raw = spec.partition("=")
        name, dot, key = target.rpartition(".")
        if not eq or not dot or not name:
            raise ValueError(f"--service takes NAME.KEY=VALUE, e.g. payment-service.failure_rate=0.2; got {spec!r}")
        value = load_located(f"v: {raw}", source=f"--service {spec}")[0]["v"]
        out.setdefault(name, {})[key] = value
    return out


def _run(args) -> int:
    from .dsl import load_workflow
    from .faultfile import load_fault_plan
    from .faults import FaultPlan
    from .simulate import simulate

    wf = load_workflow(args.file)
    plan = load_fault_plan(args.faults) if args.faults else FaultPlan()
    for n, spec in enumerate(args.fault, 1):
        plan = plan + fault_from_cli(spec, n)
    run = simulate(wf, mode=args.mode, seed=args.seed, orders=args.orders, arrival_rate=args.arrival_rate,
                   services=_service_overrides(args.service), network=args.network, faults=plan)
    summary, report = run.summary(), run.check()
    if args.trace:
        with open(args.trace, "w", encoding="utf-8") as f:
            for record in run.trace.to_records():
                f.write(json.dumps(record) + "\n")
    if args.json:
        print(json.dumps({"summary": summary.as_dict(), "ok": report.ok,
                          "violations": [str(v) for v in report.violations]}, indent=2, default=str))
    else:
        for line in plan.describe():
            print(f"fault: {line}")
        print(summary)
        print(report)
    return 0 if report.ok else 1
