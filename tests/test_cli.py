import json
import subprocess
import sys

import pytest

from engine.cli import main

from conftest import ROOT, SEED_YAML


def test_check_accepts_the_seed_workflow(capsys):
    assert main(["check", str(SEED_YAML)]) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "5 steps" in out and "validate-order → reserve-inventory → ship-order" in out


def test_check_reports_every_problem_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: '1.0'\nworkflow:\n  - name: a\n    type: sync_task\n    service: s\n"
                   "    endpoint: /a\n    dependson: [b]\n")
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:5:11: error[unknown-step-type]" in err
    assert "error[unknown-key]" in err and "did you mean 'depends_on'" in err


@pytest.mark.parametrize("mode", ["orchestration", "choreography"])
def test_run_prints_summary_and_verdict(mode, capsys):
    fault = "crash=orchestrator,at=1s,restart_after=2s" if mode == "orchestration" else "crash=payment-service,at=1s,restart_after=2s"
    code = main(["run", str(SEED_YAML), "--mode", mode, "--orders", "50", "--arrival-rate", "20", "--seed", "7",
                 "--fault", fault, "--fault", "partition=broker:shipping-service,start=0.5s,end=1.5s",
                 "--service", "payment-service.failure_rate=0.2"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"order-fulfillment · {mode} · seed 7 · 50 order(s)" in out
    assert "valid? true" in out and "fault: partition broker ↔ shipping-service (500ms–1.5s)" in out


def test_run_json_and_trace(tmp_path, capsys):
    trace = tmp_path / "trace.jsonl"
    assert main(["run", str(SEED_YAML), "--orders", "3", "--json", "--trace", str(trace)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["summary"]["statuses"]["completed"] == 3
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert records[0]["kind"] == "instance-started"


def test_run_exits_1_when_an_invariant_breaks(capsys):
    assert main(["run", str(SEED_YAML), "--fault", "crash=orchestrator,at=10ms"]) == 1
    assert "[terminates]" in capsys.readouterr().out


@pytest.mark.parametrize("args,fragment", [
    (["--fault", "crash=orchestrator,att=1s"], "did you mean 'at'"),
    (["--fault", "crash=paymnt-service,at=1s"], "did you mean 'payment-service'"),
    (["--service", "payment-service=0.2"], "NAME.KEY=VALUE"),
    (["--fault", "crash"], "key=value"),
])
def test_run_usage_mistakes_get_messages_not_tracebacks(args, fragment, capsys):
    assert main(["run", str(SEED_YAML), *args]) in (1, 2)
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_python_dash_m_engine_works():
    out = subprocess.run([sys.executable, "-m", "engine", "run", str(SEED_YAML), "--orders", "2"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "valid? true" in out.stdout
