"""Native mode's harness works for every runtime (a benchmark, not a timed test: no speed is asserted)."""

import json

import pytest

from engine import native

from conftest import ROOT

LANGUAGES = list(native.PROGRAMS)


def need(language: str) -> None:
    import os

    why = native.available(language)
    if why and os.environ.get("SDE_REQUIRE_POLYGLOT") == "1":
        pytest.fail(why)
    if why:
        pytest.skip(why)


COMMON = {"language", "flavor", "experiment", "params"}
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


def bench_native():
    import importlib
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return importlib.import_module("bench_native")
    finally:
        sys.path.remove(str(ROOT / "bench"))


def test_the_benchmark_prints_the_tables_and_records_the_machine(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(native, "RESULTS", tmp_path)
    bench = bench_native()
    assert bench.main(["--languages", "python", "--sizes", "100,400", "--experiments",
                       "concurrency,cancellation,startup", "--record", "try"]) == 0
    out = capsys.readouterr().out
    assert "memory per in-flight instance: python/asyncio" in out and "effects 0 of" in out
    assert "ms (from exec)" in out
    data = json.loads((tmp_path / "try.json").read_text())
    assert data["machine"]["cores"] and data["results"]
    # two runs per size: the throughput run and the run held at the fork (memory), threads too
    held = [r for r in data["results"] if r["experiment"] == "concurrency" and native.held(r)]
    assert sorted(r["params"]["n"] for r in held) == [100, 100, 400, 400]
    assert {r["metric"] for r in native.metrics(data)} >= {"kib_per_instance", "duplicate_effects", "startup_ms"}


def test_the_benchmark_refuses_bad_arguments_with_a_message(capsys):
    bench = bench_native()
    assert bench.main(["--experiments", "warp-speed", "--languages", "cobol", "--sizes", "ten"]) == 2
    err = capsys.readouterr().err
    assert "warp-speed" in err and "cobol" in err and "'ten'" in err


def test_held_runs_wait_at_the_fork_long_enough_for_every_instance_to_start():
    assert native.hold_ms(1_000) == 1_000 and native.hold_ms(1_000_000) == 30_000
    runs = native.variants("concurrency", [1_000, 100_000], "asyncio")
    assert [native.held({"params": r}) for r in runs] == [False, True, False, True]
    threads = native.variants("concurrency", [1_000, 100_000], "threads")  # two threads each: ≤ 5,000
    assert [r["n"] for r in threads] == [1_000, 1_000, 2_000, 2_000, 5_000, 5_000]
    assert threads[5]["latency_ms"][1] == 5_000  # 1 ms per thread started
    assert native.variants("cpu_step", [1_000], "threads") == []


def test_metrics_are_read_from_a_recording_and_looked_up_by_runtime():
    rec = {"results": [
        {"language": "go", "flavor": "goroutines", "experiment": "concurrency", "params": {"n": n, **h},
         "rss_idle": 10, "rss_peak": 10 + 2048 * n, "spawn_seconds": n * 1e-6, "wall_seconds": 2.0,
         "completed": n, "failed": 0}
        for n in (1_000, 10_000) for h in ({}, {"latency_ms": [5, 1_000, 1_000, 10, 5]})] + [
        {"language": "go", "flavor": "goroutines", "experiment": "cpu_step", "params": {"fix": False},
         "p50": 0.031, "p99": 0.084, "max": 0.09, "wall_seconds": 1.0},
        {"language": "go", "flavor": "goroutines", "experiment": "startup", "params": {}, "exec_seconds": 0.0015,
         "seconds_to_ready": 0.0001},
        {"language": "go", "flavor": "goroutines", "experiment": "cancellation", "params": {}, "error": "boom"}],
        "developer_experience": [{"language": "go", "core_lines": 400, "artifact_bytes": 2048}]}
    rows = native.metrics(rec)
    assert native.lookup(rows, "go/goroutines", "kib_per_instance") == pytest.approx(2.0)
    assert native.lookup(rows, "go/goroutines", "max_instances") == 10_000
    assert native.lookup(rows, "go/goroutines", "workflows_per_second") == 5_000
    assert native.lookup(rows, "go/goroutines", "cpu_step_p99_ms") == pytest.approx(84)
    assert native.lookup(rows, "go/goroutines", "startup_ms") == pytest.approx(1.5)
    assert native.lookup(rows, "go", "artifact_kib") == 2 and native.lookup(rows, "go", "core_lines") == 400
    assert native.lookup(rows, "go/goroutines", "duplicate_effects") is None  # the failed run gives nothing
    assert all(r["unit"] == native.METRICS[r["metric"]][0] for r in rows)


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
