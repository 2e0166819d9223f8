"""Conformance: every orchestrator writes the same trace on every vector, and on random workflows.

Languages whose orchestrator is not built are skipped with the reason, unless
SDE_REQUIRE_POLYGLOT=1 (as .ci/run sets where the toolchains are installed),
which turns a skip into a failure.
"""

import json
import os
import pathlib
import sys
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import simulate

from conftest import ROOT, need_orchestrator
from test_properties import fault_plans, workflows

sys.path.insert(0, str(ROOT / "polyglot" / "vectors"))
import generate  # noqa: E402

VECTORS = sorted((ROOT / "polyglot" / "vectors").glob("*.json"))
REQUIRED = os.environ.get("SDE_REQUIRE_POLYGLOT") == "1"
SEEN: Counter = Counter()


def need(language: str) -> None:
    need_orchestrator(language)


def load(path: pathlib.Path) -> dict:
    return json.loads(path.read_text())


def test_there_are_vectors_for_every_case_the_course_names():
    names = {p.stem for p in VECTORS}
    for needed in ("no-faults", "retries-exhausted", "timeout-but-charged", "compensation-keeps-failing",
                   "partition-orchestrator-payment", "duplicated-deliveries", "fire-and-forget-under-failure"):
        assert needed in names
    for step in generate.STEPS:
        assert f"{step}-fails" in names and f"crash-after-{step}" in names


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vectors_are_current(path):
    vector = load(path)
    assert generate.expected(vector) == vector["expected"], "run python polyglot/vectors/generate.py"


from engine.external import LANGUAGES  # noqa: E402


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_every_language_writes_the_reference_trace(path, language):
    need(language)
    vector = load(path)
    got = generate.expected(vector, orchestrator=language)
    assert got == vector["expected"], f"{language} differs from the reference on {path.stem}"


@pytest.mark.parametrize("path", [p for p in VECTORS if "jitter" not in p.stem], ids=lambda p: p.stem)
def test_the_built_in_runner_reaches_the_same_statuses(path):
    vector = load(path)
    run = generate.run(vector, orchestrator=None)
    assert {str(i.id): i.status for i in run.instances} == vector["expected"]["statuses"]


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("language", LANGUAGES)
def test_random_workflows_and_faults_give_identical_traces(language):
    need(language)

    @SETTINGS
    @given(st.data(), workflows(), st.integers(0, 2**32 - 1))
    def same(data, wf, seed):
        plan = data.draw(fault_plans(wf, "orchestration"))
        kw = dict(seed=seed, orders=4, arrival_rate=4, faults=plan)
        reference = simulate(wf, orchestrator="decider", **kw)
        run = simulate(wf, orchestrator=language, **kw)
        assert run.trace.digest() == reference.trace.digest()
        assert run.check().ok, run.check()
        SEEN[f"{language} compensated"] += sum(i.status == "compensated" for i in run.instances)
        SEEN[f"{language} instances"] += len(run.instances)

    same()
    assert SEEN[f"{language} compensated"] >= 20, SEEN
