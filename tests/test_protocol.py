"""polyglot/PROTOCOL.md: the decision core, the Python orchestrator process, and the world's side."""

import json
import subprocess
import sys

import pytest

from engine import FaultPlan, simulate
from engine.decider import Decider, canonical_workflow, delay_us, fnv1a64, rand, splitmix64
from engine.external import ExternalOrchestratorError

from conftest import ROOT

PYTHON_ORCH = [sys.executable, str(ROOT / "polyglot" / "python" / "orchestrator.py")]


def test_splitmix_and_fnv_match_their_reference_values():
    assert fnv1a64(b"") == 0xCBF29CE484222325
    assert fnv1a64(b"a") == 0xAF63DC4C8601EC8C
    assert splitmix64(0) == 0xE220A8397B1DCDAF
    assert rand(7, 12, "process-payment", "do", 0, 2) == splitmix64(7 ^ fnv1a64(b"12/process-payment/do/0/2"))


@pytest.mark.parametrize("jitter", ["none", "full", "equal", "decorrelated"])
def test_integer_delays_follow_the_rules(jitter):
    policy = {"initial_us": 1_000_000, "coefficient_milli": 2000, "max_us": 5_000_000, "backoff": "exponential",
              "jitter": jitter}
    bases = [1_000_000, 2_000_000, 4_000_000, 5_000_000]
    last = None
    for k, base in enumerate(bases, 1):
        for u in (0, 2**31, 2**32 - 1):
            d = delay_us(policy, k, last, u)
            if jitter == "none":
                assert d == base
            elif jitter == "full":
                assert 0 <= d <= base
            elif jitter == "equal":
                assert base // 2 <= d <= base
            else:
                assert 1_000_000 <= d <= 5_000_000
        last = delay_us(policy, k, last, 2**31)


def test_canonical_workflow_of_the_seed(wf):
    canon = canonical_workflow(wf)
    validate = canon["steps"][0]
    assert validate["timeout_us"] == 5_000_000 and validate["retry"]["max_attempts"] == 3
    assert validate["retry"]["coefficient_milli"] == 2000 and validate["retry"]["max_us"] == 100_000_000
    assert canon["steps"][1]["compensation"] == [{"service": "inventory-service", "topic": "inventory.release",
                                                  "endpoint": None}]


def test_the_decider_answers_a_start_with_the_first_invoke(wf):
    d = Decider(canonical_workflow(wf), seed=1)
    assert d.activate([{"kind": "start", "instance": 0}]) == [
        {"cmd": "invoke", "instance": 0, "step": "validate-order", "phase": "do", "action": 0, "attempt": 1,
         "timeout_us": 5_000_000}]


def _talk(lines):
    out = subprocess.run(PYTHON_ORCH, input="".join(json.dumps(x) + "\n" for x in lines), capture_output=True,
                         text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, timeout=30)
    return out.returncode, [json.loads(line) for line in out.stdout.splitlines()]


def test_the_python_process_speaks_the_protocol(wf):
    hello = {"type": "hello", "protocol": 1, "seed": 1, "workflow": canonical_workflow(wf)}
    code, answers = _talk([hello, {"type": "activation", "time_us": 0, "replay": False,
                                   "events": [{"kind": "start", "instance": 0}]}, {"type": "shutdown"}])
    assert code == 0 and answers[0] == {"type": "ready"}
    assert answers[1]["type"] == "commands" and answers[1]["commands"][0]["step"] == "validate-order"


@pytest.mark.parametrize("line,fragment", [
    ({"type": "activation", "time_us": 0, "events": []}, "before hello"),
    ({"type": "greeting"}, "unknown message type"),
])
def test_bad_input_ends_in_a_protocol_error(line, fragment):
    code, answers = _talk([line])
    assert code == 2 and answers[-1]["type"] == "error" and fragment in answers[-1]["message"]


def test_events_for_unknown_instances_are_refused(wf):
    hello = {"type": "hello", "protocol": 1, "seed": 1, "workflow": canonical_workflow(wf)}
    code, answers = _talk([hello, {"type": "activation", "time_us": 0, "events": [
        {"kind": "timer", "instance": 9, "step": "validate-order", "phase": "do", "action": 0, "attempt": 2}]}])
    assert code == 2 and "never started" in answers[-1]["message"]


PLANS = {
    "none": FaultPlan(),
    "crash": FaultPlan().crash("orchestrator", at=1.0, restart_after=2.0),
    "crash-after": FaultPlan().crash("orchestrator", after="process-payment", restart_after=1.0),
    "partition": FaultPlan().partition("orchestrator", "payment-service", start=0.5, end=3),
    "duplicates": FaultPlan().duplicate("broker", None, rate=0.3),
}


@pytest.mark.parametrize("plan", list(PLANS))
def test_python_process_and_in_process_core_write_the_same_trace(wf, plan):
    kw = dict(seed=3, orders=30, arrival_rate=10, faults=PLANS[plan],
              services={"payment-service": {"failure_rate": 0.2}, "order-service": {"failure_rate": 0.3}})
    core = simulate(wf, orchestrator="decider", **kw)
    proc = simulate(wf, orchestrator="python", **kw)
    assert proc.trace.digest() == core.trace.digest()
    assert proc.check().ok
    if plan.startswith("crash"):
        assert proc.trace.of("instance-resumed")


def test_a_missing_orchestrator_says_how_to_build_it(wf, monkeypatch):
    from engine import external

    monkeypatch.setitem(external.ORCHESTRATORS, "go", (["/nonexistent/orchestrator"], "make polyglot",
                                                       "apt-get install golang-go"))
    with pytest.raises(ValueError, match="make polyglot.*golang-go"):
        simulate(wf, orchestrator="go")
    with pytest.raises(ValueError, match="one of python, go, rust, typescript, go-seed"):
        simulate(wf, orchestrator="cobol")


def test_a_misbehaving_orchestrator_is_reported(wf, monkeypatch, tmp_path):
    from engine import external

    liar = tmp_path / "liar.py"
    liar.write_text("import sys\nfor line in sys.stdin:\n    print('not json', flush=True)\n")
    monkeypatch.setitem(external.ORCHESTRATORS, "python", ([sys.executable, str(liar)], None, None))
    with pytest.raises(ExternalOrchestratorError, match="not JSON"):
        simulate(wf, orchestrator="python")


@pytest.mark.parametrize("command,fragment", [
    ({"cmd": "finish", "instance": 99, "status": "completed"}, "instance 99, which was never started"),
    ({"cmd": "invoke", "instance": 0, "step": "charge-card", "phase": "do", "action": 0, "attempt": 1,
      "timeout_us": 1}, "which the workflow does not have"),
    ({"cmd": "timer", "instance": 0, "step": "charge-card", "phase": "do", "action": 1, "attempt": 1,
      "delay_us": 1}, "a timer for step 'charge-card', which the workflow does not have"),
    ({"cmd": "launch", "instance": 0}, "an unknown command"),
])
def test_a_command_the_world_cannot_carry_out_is_reported(wf, monkeypatch, tmp_path, command, fragment):
    from engine import external

    liar = tmp_path / "liar.py"
    liar.write_text("import json, sys\n"
                    "for line in sys.stdin:\n"
                    "    m = json.loads(line)\n"
                    "    if m['type'] == 'hello': print(json.dumps({'type': 'ready'}), flush=True)\n"
                    f"    else: print(json.dumps({{'type': 'commands', 'time_us': m['time_us'], "
                    f"'commands': [{command!r}]}}), flush=True)\n")
    monkeypatch.setitem(external.ORCHESTRATORS, "python", ([sys.executable, str(liar)], None, None))
    with pytest.raises(ExternalOrchestratorError, match=fragment):
        simulate(wf, orchestrator="python")
