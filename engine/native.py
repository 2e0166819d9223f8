"""Native mode (polyglot/NATIVE.md): run each language's runtime under load and collect the results.

    rows = engine.native.bench(["concurrency"], sizes=[1_000, 10_000], languages=["go", "rust"])
    engine.native.memory_per_instance(rows)   # bytes per in-flight instance, the slope over sizes

Unlike the protocol, native mode measures wall-clock time and memory: that is
its point, and why its numbers are machine-dependent. A run's results can be
recorded in the repository (`record`), with the machine, the versions and the
date, so a learner without a toolchain still sees them, labelled as recorded.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import time

from .external import POLYGLOT

__all__ = ["PROGRAMS", "FLAVORS", "run_native", "bench", "memory_per_instance", "machine", "record",
           "load_results", "safety_demo", "NativeError"]

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
    """One run of one experiment; the result as a plain dict, with `exec_seconds` measured from exec."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment is one of {', '.join(EXPERIMENTS)}, got {experiment!r}")
    why = available(language)
    if why:
        raise NativeError(f"the {language} native program cannot run: {why}")
    t = time.perf_counter()
    out = subprocess.run([*PROGRAMS[language], experiment, json.dumps(params)], capture_output=True, text=True,
                         timeout=timeout)
    elapsed = time.perf_counter() - t
    try:
        result = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise NativeError(f"the {language} native program wrote no result (status {out.returncode}): "
                          f"{(out.stderr or out.stdout)[-500:]}") from None
    result["exec_seconds"] = elapsed
    return result


def bench(experiments=EXPERIMENTS, *, languages=None, sizes=(1_000, 10_000, 100_000), progress=None,
          **params) -> list[dict]:
    """Every experiment × language × flavour (× size for `concurrency`, × fix/cancel where they apply)."""
    rows = []
    for language in languages or [lang for lang in PROGRAMS if available(lang) is None]:
        for flavor in FLAVORS[language]:
            for experiment in experiments:
                for extra in _variants(experiment, sizes, flavor):
                    if progress:
                        progress(f"{language}/{flavor} {experiment} {extra}")
                    try:
                        rows.append(run_native(language, experiment, flavor=flavor, **params, **extra))
                    except (NativeError, subprocess.TimeoutExpired) as exc:
                        rows.append({"language": language, "flavor": flavor, "experiment": experiment,
                                     "params": extra, "error": str(exc)})
    return rows


def _variants(experiment: str, sizes, flavor: str) -> list[dict]:
    if experiment == "concurrency":
        limit = 10_000 if flavor == "threads" else None  # one OS thread per instance: a few thousand at most
        return [{"n": n} for n in sizes if limit is None or n <= limit]
    if experiment == "cpu_step":
        return [] if flavor == "threads" else [{"fix": False}, {"fix": True}]
    if experiment == "cancellation":
        return [] if flavor == "threads" else [{"cancel": False}, {"cancel": True}]
    return [{}]


def memory_per_instance(rows) -> dict[tuple[str, str], float]:
    """Bytes per in-flight instance: the least-squares slope of (rss_peak − rss_idle) over n."""
    points: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for r in rows:
        if r.get("experiment") == "concurrency" and r.get("rss_peak") and r.get("rss_idle") is not None \
                and "error" not in r:
            points.setdefault((r["language"], r["flavor"]), []).append((r["params"]["n"], r["rss_peak"] - r["rss_idle"]))
    out = {}
    for key, pts in points.items():
        if len(pts) < 2:
            continue
        mx = sum(n for n, _ in pts) / len(pts)
        my = sum(m for _, m in pts) / len(pts)
        var = sum((n - mx) ** 2 for n, _ in pts)
        out[key] = sum((n - mx) * (m - my) for n, m in pts) / var if var else float("nan")
    return out


def _version(argv) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return None


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = None
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = None
    try:
        memory = next(int(line.split()[1]) * 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass
    return {"date": datetime.date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(), "memory_bytes": memory,
            "os": platform.platform(), "python": platform.python_version(),
            "go": _version(["go", "version"]), "rustc": _version(["rustc", "--version"]),
            "node": _version(["node", "--version"])}


def record(rows, name: str = "native") -> pathlib.Path:
    """Write a run's results, with the machine they came from, to polyglot/results/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "results": rows}, indent=1, sort_keys=True) + "\n")
    return path


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
    t = time.perf_counter()
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=timeout,
                         cwd=POLYGLOT.parent)
    return {"language": language, "status": out.returncode, "seconds": time.perf_counter() - t,
            "output": (out.stdout + out.stderr).replace(str(POLYGLOT.parent) + "/", "")}


# -- developer experience, measured ------------------------------------------------------------------

#: What builds and tests each language's projects (the conforming orchestrator, the port, native mode).
BUILDS = {"go": "polyglot/go/build.sh", "rust": "polyglot/rust/build.sh", "typescript": "polyglot/typescript/build.sh"}
TESTS = {"go": "polyglot/go/test.sh", "rust": "polyglot/rust/test.sh", "typescript": "polyglot/typescript/test.sh"}
ARTIFACTS = {"go": ["polyglot/go/bin/orchestrator"], "rust": ["polyglot/rust/target/release/orchestrator"],
             "typescript": ["polyglot/typescript/dist"], "python": ["polyglot/python/orchestrator.py",
                                                                   "engine/decider.py"]}


def _size(path: pathlib.Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _timed(argv, cwd) -> float | None:
    t = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, cwd=cwd)
    return time.perf_counter() - t if done.returncode == 0 else None


def developer_experience(languages=("python", "go", "rust", "typescript")) -> list[dict]:
    """Per language: core lines, incremental build, artifact size, protocol start-up, native start-up,
    test-suite time. (Cold builds: bench/bench_polyglot.py --cold, which builds in a temporary copy.)"""
    import importlib.util

    root = POLYGLOT.parent
    spec = importlib.util.spec_from_file_location("bench_polyglot", root / "bench" / "bench_polyglot.py")
    bench_polyglot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_polyglot)
    rows = []
    for lang in languages:
        row = {"language": lang, "core_lines": bench_polyglot.core_lines(lang)}
        row["incremental_build_seconds"] = 0.0 if lang == "python" else _timed(["bash", BUILDS[lang]], root)
        row["artifact_bytes"] = sum(_size(root / p) for p in ARTIFACTS[lang] if (root / p).exists())
        row["test_suite_seconds"] = (_timed([sys.executable, "-m", "pytest", "-q", "tests/test_protocol.py"], root)
                                     if lang == "python" else _timed(["bash", TESTS[lang]], root))
        try:
            row["native_startup_seconds"] = run_native(lang, "startup")["exec_seconds"]
        except NativeError as exc:
            row["native_startup_seconds"], row["note"] = None, str(exc)
        rows.append(row)
    return rows
