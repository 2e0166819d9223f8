"""Native mode (polyglot/NATIVE.md): run each language's runtime under load and collect the results.

    engine.native.run_native("go", "concurrency", n=10_000)   # one run: what the program measured
    engine.native.metrics()                                   # the recorded run, one row per metric

Unlike the protocol, native mode measures wall-clock time and memory: that is
its point, and why its numbers are machine-dependent. The programs time
themselves; the full benchmark (bench/bench_native.py) runs every experiment,
adds what only an outside clock sees (start-up from exec, build times) and
records the results in the repository with the machine, the versions and the
date. This module reads them (`load_results`, `metrics`) and keeps no clock of
its own, so a notebook built on a recording is the same on every machine.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
import sys

from .external import POLYGLOT

__all__ = ["PROGRAMS", "FLAVORS", "EXPERIMENTS", "available", "run_native", "variants", "memory_per_instance",
           "hold_ms", "held", "all_at_fork", "load_results", "safety_demo", "core_lines", "METRICS", "metrics", "lookup", "table",
           "NativeError"]

PROGRAMS = {
    "python": [sys.executable, str(POLYGLOT / "python" / "native.py")],
    "go": [str(POLYGLOT / "go" / "bin" / "native")],
    "rust": [str(POLYGLOT / "rust" / "target" / "release" / "native")],
    "typescript": ["node", str(POLYGLOT / "typescript" / "dist" / "native.js")],
}
FLAVORS = {"python": ("asyncio", "threads"), "go": ("goroutines",),
           "rust": ("tokio-current-thread", "tokio-multi-thread"), "typescript": ("event-loop",)}
EXPERIMENTS = ("concurrency", "cpu_step", "cancellation", "startup")
RESULTS = POLYGLOT / "results"


class NativeError(RuntimeError):
    """A native program could not run, or answered something that is not a result."""


def available(language: str) -> str | None:
    """None if the language's native program can run here, else why not."""
    argv = PROGRAMS[language]
    program = pathlib.Path(argv[-1])
    if argv[0] == "node" and shutil.which("node") is None:
        return "Node.js is not installed"
    return None if program.exists() else f"{program.relative_to(POLYGLOT.parent)} is not built: make polyglot"


def run_native(language: str, experiment: str, timeout: float = 900.0, **params) -> dict:
    """One run of one experiment; the result as a plain dict (the program's own measurements)."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment is one of {', '.join(EXPERIMENTS)}, got {experiment!r}")
    why = available(language)
    if why:
        raise NativeError(f"the {language} native program cannot run: {why}")
    out = subprocess.run([*PROGRAMS[language], experiment, json.dumps(params)], capture_output=True, text=True,
                         timeout=timeout)
    try:
        result = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise NativeError(f"the {language} native program wrote no result (status {out.returncode}): "
                          f"{(out.stderr or out.stdout)[-500:]}") from None
    return result


#: Start-up cost per instance the hold allows for, in µs: measured up to ~7 for tasks, goroutines and
#: promises, and 400-700 for an OS thread (Python threads: thread creation plus the GIL hand-over).
START_US = {"threads": 1_000}
#: The most instances the benchmark runs on threads (see variants).
THREADS_MAX = 5_000


def hold_ms(n: int, flavor: str = "") -> int:
    """How long the fork step (reserve ∥ pay) waits in a memory run: long enough that all `n` instances
    are at the fork at once, however long starting them takes (30 µs each allowed; 1 ms for a thread)."""
    return max(1_000, START_US.get(flavor, 30) * n // 1_000)


def variants(experiment: str, sizes, flavor: str) -> list[dict]:
    """The runs the benchmark makes of one experiment with one flavour: their parameters."""
    if experiment == "concurrency":
        # Two runs per size: at the default latencies (throughput, start-up cost), and held at the fork
        # (memory): with 30 ms workflows, the first instances finish before the last have started.
        if flavor == "threads":
            # Two OS threads per instance at the fork. Held there, 10⁴ instances (2×10⁴ threads) did not
            # finish in 14 minutes on the 2-core recording machine: threads get points of their own, ≤ 5,000.
            sizes = [n for n in sorted(set(sizes) | {2_000, 5_000}) if n <= min(THREADS_MAX, max(sizes))]
        return [v for n in sizes
                for v in ({"n": n}, {"n": n, "latency_ms": [5, hold_ms(n, flavor), hold_ms(n, flavor), 10, 5]})]
    if experiment == "cpu_step":
        return [] if flavor == "threads" else [{"fix": False}, {"fix": True}]
    if experiment == "cancellation":
        return [] if flavor == "threads" else [{"cancel": False}, {"cancel": True}]
    return [{}]


def held(row: dict) -> bool:
    """A concurrency run held at the fork (see hold_ms): the one that measures memory in flight."""
    latency = row.get("params", {}).get("latency_ms")
    return bool(latency) and latency[1] >= 1_000


def all_at_fork(row: dict) -> bool:
    """Did every instance of a held run start before the first left the fork? (If starting them took
    longer than the hold, they were never all in flight together, and the run measures less.)"""
    return row.get("spawn_seconds", 0.0) <= row["params"]["latency_ms"][1] / 1000


def memory_per_instance(rows) -> dict[tuple[str, str], float]:
    """Bytes per in-flight instance: the least-squares slope of (rss_peak − rss_idle) over n, from the
    held runs whose instances were all at the fork at once (`all_at_fork`) where there are any, else
    from every concurrency run."""
    points: dict[tuple[str, str], list[tuple[int, int, bool]]] = {}
    for r in rows:
        if r.get("experiment") == "concurrency" and r.get("rss_peak") and r.get("rss_idle") is not None \
                and "error" not in r:
            points.setdefault((r["language"], r["flavor"]), []).append(
                (r["params"]["n"], r["rss_peak"] - r["rss_idle"], held(r) and all_at_fork(r)))
    out = {}
    for key, pts in points.items():
        pts = [(n, m) for n, m, h in pts if h] or [(n, m) for n, m, _ in pts]
        if len(pts) < 2:
            continue
        mx = sum(n for n, _ in pts) / len(pts)
        my = sum(m for _, m in pts) / len(pts)
        var = sum((n - mx) ** 2 for n, _ in pts)
        out[key] = sum((n - mx) * (m - my) for n, m in pts) / var if var else float("nan")
    return out


def load_results(name: str = "native") -> dict:
    """A recorded run: {"machine": ..., "results": [...]}."""
    path = RESULTS / f"{name}.json"
    if not path.exists():
        raise ValueError(f"no recorded results named {name!r} in polyglot/results/ "
                         f"(there are: {', '.join(p.stem for p in RESULTS.glob('*.json')) or 'none'})")
    return json.loads(path.read_text())


def safety_demo(language: str, timeout: float = 300.0) -> dict:
    """Run polyglot/<language>/safety/run.sh; return what the toolchain said."""
    script = POLYGLOT / language / "safety" / "run.sh"
    if not script.exists():
        raise NativeError(f"no safety demo for {language} ({script.relative_to(POLYGLOT.parent)})")
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=timeout,
                         cwd=POLYGLOT.parent)
    return {"language": language, "status": out.returncode, "output": (out.stdout + out.stderr).replace(str(POLYGLOT.parent) + "/", "")}


# -- developer experience ---------------------------------------------------------------------------

CORES = {
    "python": ["engine/decider.py"],
    "go": ["polyglot/go/saga/decider.go", "polyglot/go/saga/delay.go", "polyglot/go/saga/workflow.go",
           "polyglot/go/saga/events.go"],
    "rust": ["polyglot/rust/src/core.rs"],
    "typescript": ["polyglot/typescript/src/core.ts", "polyglot/typescript/src/backoff.ts"],
}
COMMENT = {"python": "#", "go": "//", "rust": "//", "typescript": "//"}


def core_lines(language: str) -> int:
    """Non-blank, non-comment lines of the decision core, tests left out (Rust's #[cfg(test)] module)."""
    count = 0
    for path in CORES[language]:
        text = (POLYGLOT.parent / path).read_text()
        text = re.split(r"\n#\[cfg\(test\)\]", text)[0]
        text = re.sub(r'"""[\s\S]*?"""', "", text) if language == "python" else text
        count += sum(1 for line in text.splitlines()
                     if line.strip() and not line.strip().startswith((COMMENT[language], "*", "/*")))
    return count


def table(rows) -> str:
    """The experiment tables, one line per run."""
    lines = []
    for r in rows:
        params = {k: v for k, v in r.get("params", {}).items() if k != "flavor"}
        head = f"{r['language']:<11}{r['flavor']:<22}{r['experiment']:<13}{json.dumps(params):<19} "
        if "error" in r:
            lines.append(head + f"error: {r['error'][:80]}")
        elif r["experiment"] == "concurrency":
            grew = (r["rss_peak"] - r["rss_idle"]) / 1e6 if r.get("rss_peak") else float("nan")
            lines.append(head + f"+{grew:8.1f} MB  spawn {r['spawn_seconds']:.3f}s  wall {r['wall_seconds']:.2f}s  "
                                f"completed {r['completed']}")
        elif r["experiment"] == "cpu_step":
            lines.append(head + f"p50 {r['p50'] * 1000:7.1f} ms  p99 {r['p99'] * 1000:7.1f} ms")
        elif r["experiment"] == "cancellation":
            lines.append(head + f"effects {r['effects']} of {r['attempts_made']} attempts")
        else:
            lines.append(head + (f"ready in {r['exec_seconds'] * 1000:.1f} ms (from exec)" if "exec_seconds" in r
                                 else "ran (start-up is timed from outside: bench/bench_native.py)"))
    for (lang, flavor), slope in sorted(memory_per_instance(rows).items()):
        lines.append(f"memory per in-flight instance: {lang}/{flavor} {slope:,.0f} bytes")
    return "\n".join(lines)


# -- one table of metrics from a recorded run ------------------------------------------------------------

#: metric → (unit, what it is); the names a learner cites in the Phase 2 checkpoint.
METRICS = {
    "kib_per_instance": ("KiB", "memory per in-flight instance: slope of peak RSS over the sizes run"),
    "max_instances": ("instances", "the largest size run that completed (the benchmark stops threads at 5,000)"),
    "workflows_per_second": ("1/s", "completed instances / wall time of a burst, at the largest size that "
                                    "completed: start-up and bookkeeping under a burst, not steady throughput"),
    "spawn_us_per_instance": ("µs", "time to start one instance, at the largest size that completed"),
    "cpu_step_p50_ms": ("ms", "p50 latency of the other instances, one 50 ms CPU step in every 100"),
    "cpu_step_p99_ms": ("ms", "p99 latency of the other instances, one 50 ms CPU step in every 100"),
    "cpu_step_p99_ms_fixed": ("ms", "the same p99 with the runtime's idiomatic fix"),
    "duplicate_effects": ("effects", "work that took effect after its attempt timed out, no cancellation"),
    "duplicate_effects_cancelled": ("effects", "the same with the runtime's idiomatic cancellation"),
    "startup_ms": ("ms", "exec to first result of the native program"),
    "core_lines": ("lines", "the decision core, comments and tests left out"),
    "incremental_build_s": ("s", "rebuild with nothing changed"),
    "cold_build_s": ("s", "clean build of a fresh copy"),
    "artifact_kib": ("KiB", "what the build produces and a deployment ships (Python: the sources)"),
    "test_suite_s": ("s", "the language's own test suite"),
}


def metrics(recorded: dict | None = None) -> list[dict]:
    """Every metric of a recorded run (default: polyglot/results/native.json) as rows
    {runtime, metric, value, unit}; runtime is "language/flavour", or the language alone for
    developer-experience metrics, which belong to the toolchain rather than a runtime."""
    recorded = recorded if recorded is not None else load_results()
    rows: list[dict] = []

    def add(runtime, metric, value):
        if value is not None:
            rows.append({"runtime": runtime, "metric": metric, "value": float(value), "unit": METRICS[metric][0]})

    results = [r for r in recorded.get("results", []) if "error" not in r]
    for (lang, flavor), slope in sorted(memory_per_instance(results).items()):
        add(f"{lang}/{flavor}", "kib_per_instance", slope / 1024)
    for r in results:
        rt, e, p = f"{r['language']}/{r['flavor']}", r["experiment"], r.get("params", {})
        if e == "cpu_step":
            if p.get("fix"):
                add(rt, "cpu_step_p99_ms_fixed", r["p99"] * 1000)
            else:
                add(rt, "cpu_step_p50_ms", r["p50"] * 1000)
                add(rt, "cpu_step_p99_ms", r["p99"] * 1000)
        elif e == "cancellation":
            add(rt, "duplicate_effects_cancelled" if p.get("cancel") else "duplicate_effects", r["effects"])
        elif e == "startup":
            add(rt, "startup_ms", r["exec_seconds"] * 1000)
    largest: dict[str, dict] = {}
    for r in results:
        if r["experiment"] == "concurrency" and not held(r) and \
                r.get("completed", 0) + r.get("failed", 0) == r["params"]["n"]:
            rt = f"{r['language']}/{r['flavor']}"
            if rt not in largest or r["params"]["n"] > largest[rt]["params"]["n"]:
                largest[rt] = r
    for rt, r in sorted(largest.items()):
        n = r["params"]["n"]
        add(rt, "max_instances", n)
        add(rt, "workflows_per_second", r["completed"] / r["wall_seconds"] if r["wall_seconds"] else None)
        add(rt, "spawn_us_per_instance", r["spawn_seconds"] / n * 1e6)
    for d in recorded.get("developer_experience", []):
        for metric, key, scale in (("core_lines", "core_lines", 1), ("cold_build_s", "cold_build_seconds", 1),
                                   ("incremental_build_s", "incremental_build_seconds", 1),
                                   ("artifact_kib", "artifact_bytes", 1 / 1024), ("test_suite_s", "test_suite_seconds", 1)):
            if d.get(key) is not None:
                add(d["language"], metric, d[key] * scale)
    return rows


def lookup(rows, runtime: str, metric: str) -> float | None:
    """The value of one metric for one runtime, or None."""
    return next((r["value"] for r in rows if r["runtime"] == runtime and r["metric"] == metric), None)
