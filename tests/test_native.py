"""Native mode's harness works for every runtime (a benchmark, not a timed test: no speed is asserted)."""

import json

import pytest

from engine import native
from engine.cli import main

from conftest import ROOT

LANGUAGES = list(native.PROGRAMS)


def need(language: str) -> None:
    import os

    why = native.available(language)
    if why and os.environ.get("SDE_REQUIRE_POLYGLOT") == "1":
        pytest.fail(why)
    if why:
        pytest.skip(why)


COMMON = {"language", "flavor", "experiment", "params", "exec_seconds"}
FIELDS = {
    "concurrency": {"rss_idle", "rss_peak", "spawn_seconds", "wall_seconds", "completed", "failed"},
    "cpu_step": {"p50", "p99", "max", "wall_seconds"},
    "cancellation": {"calls", "attempts_made", "effects"},
    "startup": {"seconds_to_ready"},
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_runtime_completes_a_small_run_with_the_documented_schema(language):
    need(language)
    for flavor in native.FLAVORS[language]:
        r = native.run_native(language, "concurrency", n=200, flavor=flavor, failure_rate=0.1, seed=3)
        assert COMMON | FIELDS["concurrency"] <= set(r), r
        assert r["completed"] + r["failed"] == 200 and 100 < r["completed"] < 200
        assert r["rss_peak"] >= r["rss_idle"] > 0
        if flavor == "threads":
            continue
        cancel = [native.run_native(language, "cancellation", n=20, cancel=c, flavor=flavor) for c in (False, True)]
        assert FIELDS["cancellation"] <= set(cancel[0])
        assert cancel[0]["effects"] == cancel[0]["attempts_made"] > 0 and cancel[1]["effects"] == 0
        cpu = native.run_native(language, "cpu_step", n=100, every=10, cpu_ms=10, flavor=flavor)
        assert FIELDS["cpu_step"] <= set(cpu) and cpu["p50"] <= cpu["p99"]
        assert FIELDS["startup"] <= set(native.run_native(language, "startup", flavor=flavor))


@pytest.mark.parametrize("language", LANGUAGES)
def test_bad_input_is_refused_with_a_message(language):
    need(language)
    r = native.run_native(language, "concurrency", n=10, flavor="green-threads")
    assert "error" in r and "flavor" in r["error"]


def test_memory_per_instance_is_a_slope_not_a_point():
    rows = [{"experiment": "concurrency", "language": "x", "flavor": "y", "params": {"n": n}, "rss_idle": 1000,
             "rss_peak": 1000 + 500 * n + 7} for n in (10, 100, 1000)]
    assert native.memory_per_instance(rows)[("x", "y")] == pytest.approx(500)


def test_the_command_line_prints_the_tables(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(native, "RESULTS", tmp_path)
    assert main(["polyglot", "bench", "--languages", "python", "--sizes", "100,400",
                 "--experiments", "concurrency,cancellation", "--record", "try"]) == 0
    out = capsys.readouterr().out
    assert "memory per in-flight instance: python/asyncio" in out and "effects 0 of" in out
    data = json.loads((tmp_path / "try.json").read_text())
    assert data["machine"]["cores"] and data["results"]
    assert main(["polyglot", "bench", "--experiments", "warp-speed"]) == 2


@pytest.mark.parametrize("language", ["python", "go", "rust", "typescript"])
def test_the_safety_demo_shows_what_its_toolchain_says(language):
    if not (ROOT / "polyglot" / language / "safety" / "run.sh").exists():
        pytest.skip(f"no {language} safety demo yet")
    need(language)
    out = native.safety_demo(language)
    assert out["status"] == 0 and out["output"].strip()


RECORDED = sorted((ROOT / "polyglot" / "results").glob("*.json"))


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_recorded_results_load_and_say_where_they_came_from(path):
    data = native.load_results(path.stem)
    assert {"date", "cpu", "cores", "memory_bytes"} <= set(data["machine"])
    for r in data["results"]:
        assert "error" in r or FIELDS[r["experiment"]] <= set(r)
