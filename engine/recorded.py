"""Runs of Phase 2's orchestrators, live when their toolchain is installed, recorded when it is not.

    run, source = engine.live_or_recorded(wf, orchestrator="go", seed=3, orders=20, faults=plan)
    print(source)   # "live: the go orchestrator" or "recorded ... (install: apt-get install golang-go)"

A notebook on a laptop without Go, Rust or Node still shows the real
results: each live run made with ``SDE_RECORD=1`` (as `make notebooks` does)
is saved under polyglot/recorded/, keyed by the orchestrator, the workflow and
the settings, and replayed from there when the orchestrator cannot run. The
recording is the trace itself, so every view and the checker work on it;
tests/test_recorded.py re-runs each recording live where it can and demands
the same trace.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import pathlib
import shutil

from .decider import canonical_json, canonical_workflow
from .external import ORCHESTRATORS, POLYGLOT
from .faults import FaultPlan
from .run import Run
from .trace import Event, Trace

__all__ = ["live_or_recorded", "recording_path", "RECORDED"]

RECORDED = POLYGLOT / "recorded"


def _key(wf, orchestrator: str, settings: dict) -> str:
    text = canonical_json({"orchestrator": orchestrator, "workflow": canonical_workflow(wf),
                           "settings": settings})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _settings(kwargs: dict) -> dict:
    out = dict(kwargs)
    faults = out.pop("faults", None)
    out["faults"] = (faults or FaultPlan()).to_dicts()
    return json.loads(json.dumps(out, sort_keys=True, default=str))


def recording_path(wf, orchestrator: str, **kwargs) -> pathlib.Path:
    base = orchestrator.replace("+", "_fix_").replace(",", "-")
    return RECORDED / f"{base}-{_key(wf, orchestrator, _settings(kwargs))}.json.gz"


def _runnable(orchestrator: str) -> str | None:
    """None if the orchestrator can run here, else the install hint."""
    name = orchestrator.partition("+")[0]
    argv, build, install = ORCHESTRATORS[name]
    program = pathlib.Path(argv[1] if argv[0] == "node" else argv[0])
    if program.exists() and (argv[0] != "node" or shutil.which("node")):
        return None
    return f"{install}, then {build}" if install else str(build)


def live_or_recorded(wf, *, orchestrator: str, **kwargs) -> tuple[Run, str]:
    """Run `wf` on a language's orchestrator, or replay the recording of the same run."""
    from .simulate import simulate

    path = recording_path(wf, orchestrator, **kwargs)
    missing = _runnable(orchestrator)
    if missing is None:
        run = simulate(wf, orchestrator=orchestrator, **kwargs)
        if os.environ.get("SDE_RECORD") == "1" and orchestrator != "python":  # Python runs everywhere
            _save(path, run, orchestrator, kwargs)
        return run, f"live: the {orchestrator} orchestrator"
    if not path.exists():
        raise ValueError(f"the {orchestrator} orchestrator cannot run here and this run was never recorded; "
                         f"to run it live: {missing}")
    return _load(path, wf), f"recorded: the {orchestrator} orchestrator's run (to run it live: {missing})"


def _save(path: pathlib.Path, run: Run, orchestrator: str, kwargs: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    source = pathlib.Path(run.workflow.source).resolve()
    in_repo = source.is_relative_to(POLYGLOT.parent) and source.exists()
    data = {"orchestrator": orchestrator, "mode": run.mode, "seed": run.seed, "orders": run.orders,
            "workflow_file": str(source.relative_to(POLYGLOT.parent)) if in_repo else None,
            "settings": _settings(kwargs), "trace_sha256": run.trace.digest(),
            "profiles": {k: v.to_spec() for k, v in run.profiles.items()},
            "events": [list(e) for e in run.trace.events]}
    # mtime=0 and no file name in the gzip header: the same run gives the same bytes.
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
        f.write(json.dumps(data, separators=(",", ":")).encode("utf-8"))


def _load(path: pathlib.Path, wf) -> Run:
    from .profiles import ServiceProfile

    with gzip.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    trace = Trace(Event(*e) for e in data["events"])
    if trace.digest() != data["trace_sha256"]:
        raise ValueError(f"{path.name} is damaged: its trace does not match its checksum")
    profiles = {k: ServiceProfile.from_spec(v) for k, v in data["profiles"].items()}
    return Run(wf, data["mode"], data["seed"], trace, orders=data["orders"], profiles=profiles)
