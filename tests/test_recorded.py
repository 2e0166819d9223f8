"""Recorded runs: a notebook without Go, Rust or Node still shows the real results, labelled as recorded."""

import gzip
import json
import os

import pytest

from engine import FaultPlan, live_or_recorded
from engine import external, recorded

from conftest import ROOT

PLAN = FaultPlan().crash("orchestrator", at=0.5, restart_after=1.0)


def test_a_live_run_is_recorded_and_replayed_when_the_orchestrator_is_missing(wf, tmp_path, monkeypatch):
    # The Python program plays the Go orchestrator here, so the test runs on any machine.
    monkeypatch.setattr(recorded, "RECORDED", tmp_path)
    monkeypatch.setenv("SDE_RECORD", "1")
    monkeypatch.setitem(external.ORCHESTRATORS, "go", external.ORCHESTRATORS["python"])
    live, source = live_or_recorded(wf, orchestrator="go", seed=2, orders=10, arrival_rate=10, faults=PLAN)
    assert source.startswith("live")
    monkeypatch.setitem(external.ORCHESTRATORS, "go", (["/nowhere/orchestrator"], "make polyglot",
                                                       "apt-get install golang-go"))
    replayed, source = live_or_recorded(wf, orchestrator="go", seed=2, orders=10, arrival_rate=10, faults=PLAN)
    assert source.startswith("recorded") and "golang-go" in source
    assert replayed.trace.digest() == live.trace.digest()
    assert str(replayed.check()) == str(live.check()) and str(replayed.summary()) == str(live.summary())


def test_a_run_never_recorded_says_how_to_run_it(wf, tmp_path, monkeypatch):
    monkeypatch.setattr(recorded, "RECORDED", tmp_path)
    monkeypatch.setitem(external.ORCHESTRATORS, "go", (["/nowhere/orchestrator"], "make polyglot",
                                                       "apt-get install golang-go"))
    with pytest.raises(ValueError, match="never recorded.*golang-go"):
        live_or_recorded(wf, orchestrator="go", seed=2)


RECORDINGS = sorted((ROOT / "polyglot" / "recorded").glob("*.json.gz"))


@pytest.mark.parametrize("path", RECORDINGS, ids=[p.name for p in RECORDINGS])
def test_every_recording_is_what_a_live_run_gives(path):
    from engine import load_workflow, simulate  # noqa: F401

    with gzip.open(path, "rt") as f:
        data = json.load(f)
    if recorded._runnable(data["orchestrator"]):
        if os.environ.get("SDE_REQUIRE_POLYGLOT") == "1":
            pytest.fail(f"{data['orchestrator']} cannot run here")
        pytest.skip(f"{data['orchestrator']} is not built here")
    if data["workflow_file"] is None:
        pytest.skip("recorded from a workflow that is not a file of the repository")
    wf = load_workflow(ROOT / data["workflow_file"])
    settings = dict(data["settings"])
    settings["faults"] = FaultPlan.from_yaml(json.dumps({"faults": settings["faults"]}))
    run = simulate(wf, orchestrator=data["orchestrator"], **settings)
    assert run.trace.digest() == data["trace_sha256"], "re-record it: make notebooks"
