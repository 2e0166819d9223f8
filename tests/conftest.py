import os
import pathlib

import pytest
from hypothesis import settings

settings.register_profile("default", max_examples=200)
settings.register_profile("deep", max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

import engine

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEED_YAML = ROOT / "notebooks" / "workflows" / "order-fulfillment.yaml"


def need_orchestrator(name: str) -> None:
    """Skip when orchestrator `name` is not built; with SDE_REQUIRE_POLYGLOT=1 (as CI sets), fail instead."""
    from engine.external import ORCHESTRATORS

    argv = ORCHESTRATORS[name.partition("+")[0]][0]
    program = pathlib.Path(argv[1] if argv[0] == "node" else argv[0])
    if not program.exists():
        why = f"the {name} orchestrator is not built ({program.name}): make polyglot"
        if os.environ.get("SDE_REQUIRE_POLYGLOT") == "1":
            pytest.fail(why)
        pytest.skip(why)


def vector(name: str) -> dict:
    """A conformance vector from polyglot/vectors/."""
    import json

    return json.loads((ROOT / "polyglot" / "vectors" / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def wf():
    """The outline's order-fulfillment workflow, loaded exactly as written."""
    return engine.load_workflow(SEED_YAML)


def pytest_terminal_summary(terminalreporter):
    """Say what the property tests exercised, so a pass is not a vacuous pass."""
    import sys

    for module in ("test_properties", "test_polyglot"):
        props = sys.modules.get(module)
        if props is not None and props.SEEN:
            terminalreporter.write_line(f"{module} saw: " + ", ".join(f"{k} {v}" for k, v in sorted(props.SEEN.items())))
