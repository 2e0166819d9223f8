"""The course notebooks, as files: executed, short cells, no engine code, the shared skeleton.

nbval (run by `make test`) re-executes them and compares the marked outputs;
these checks cover what nbval cannot see.
"""

import json
import re

import pytest

from conftest import ROOT

NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
FIRST_CELL = ("import engine\n"
              "from engine import FaultPlan, simulate\n"
              "from engine.views import plot_dag, plot_timeline, plot_sequence, plot_latency_cdf, plot_sweep")
MAX_LINES = 15  # a cell a reader takes in at a glance
LOCAL_PATH = re.compile(r"/work/|/tmp/|/root/|/home/[^/\s]+/|/Users/|site-packages")


def cells(path):
    return json.loads(path.read_text())["cells"]


def code(path):
    return [c for c in cells(path) if c["cell_type"] == "code"]


def source(cell) -> str:
    return "".join(cell["source"])


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def test_there_are_notebooks():
    assert (ROOT / "notebooks" / "00_start_here.ipynb").exists() or not NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_first_code_cell_is_the_shared_import_cell(path):
    assert source(code(path)[0]).strip() == FIRST_CELL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_a_notebook_opens_with_its_title(path):
    first = cells(path)[0]
    assert first["cell_type"] == "markdown" and source(first).startswith("# "), "the first cell is the title"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_executed_once_top_to_bottom_without_errors(path):
    counts = [c["execution_count"] for c in code(path) if source(c).strip()]
    assert counts == list(range(1, len(counts) + 1)), "run it top to bottom in a fresh kernel (make notebooks)"
    for c in code(path):
        tags = c.get("metadata", {}).get("tags", [])
        for out in c.get("outputs", []):
            assert out["output_type"] != "error" or "raises-exception" in tags, source(c)[:80]
            assert not LOCAL_PATH.search(json.dumps(out)), f"a machine path in the output of: {source(c)[:80]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_cells_are_short_and_define_no_engine_code(path):
    for c in code(path):
        text = source(c)
        assert len(text.strip().splitlines()) <= MAX_LINES, f"cell too long ({MAX_LINES} lines max): {text[:80]}"
        assert not re.search(r"^\s*class\s", text, re.M), "engine code belongs in engine/, not a notebook"
        for body in re.findall(r"^def .*?(?=^\S|\Z)", text, re.M | re.S):
            assert len(body.strip().splitlines()) <= 6, "a long def in a notebook: move it into the engine"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_follows_the_course_skeleton(path):
    text = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    for heading in ("## Summary", "## Exercises", "## Sources"):
        assert heading in text, f"missing {heading!r}"
    if "phase1" in path.parts:
        assert "## Break it yourself" in text
    assert json.loads(path.read_text())["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_some_outputs_are_checked_by_nbval(path):
    marked = [c for c in code(path) if "NBVAL_CHECK_OUTPUT" in source(c)]
    assert marked, "mark the seeded, deterministic text outputs with # NBVAL_CHECK_OUTPUT"
    for c in marked:
        assert c.get("outputs"), f"a checked cell with no output: {source(c)[:80]}"
