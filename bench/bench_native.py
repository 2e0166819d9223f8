"""Phase 2, native mode (polyglot/NATIVE.md): every runtime under load, measured and optionally recorded.

    python bench/bench_native.py                                    # small sizes, a table
    python bench/bench_native.py --sizes 1000,10000,100000,1000000 --all --record native

The programs time themselves; this harness adds what only an outside clock
sees: start-up from exec, build and test-suite times. `--all` also measures the
developer experience (incremental and cold builds, artifacts, core lines) and
runs each language's safety demo. `--record NAME` writes it all, with the
machine and versions, to polyglot/results/NAME.json, which the notebooks and
the Phase 2 checkpoint read (engine.native.load_results / metrics).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from engine import native  # noqa: E402

LANGUAGES = tuple(native.PROGRAMS)
#: What builds and tests each language's projects (the conforming orchestrator, the port, native mode).
BUILDS = {"go": "polyglot/go/build.sh", "rust": "polyglot/rust/build.sh", "typescript": "polyglot/typescript/build.sh"}
#: Each language's own suite; Go's with -count=1, or `go test` replays its cached results instead of running.
TESTS = {"go": ["polyglot/go/test.sh", "-count=1"], "rust": ["polyglot/rust/test.sh"],
         "typescript": ["polyglot/typescript/test.sh"]}
#: What the orchestrator's deployment ships: one static binary (Go, Rust), the compiled JavaScript without the
#: tests (TypeScript: plus Node), the sources (Python: plus the interpreter and the engine package).
ARTIFACTS = {"go": ["polyglot/go/bin/orchestrator"], "rust": ["polyglot/rust/target/release/orchestrator"],
             "typescript": ["polyglot/typescript/dist"],
             "python": ["polyglot/python/orchestrator.py", "engine/decider.py"]}


def timed_run(language: str, experiment: str, **params) -> dict:
    """engine.native.run_native, plus `exec_seconds`: exec to exit, as an outside clock sees it."""
    t = time.perf_counter()
    result = native.run_native(language, experiment, **params)
    result["exec_seconds"] = time.perf_counter() - t
    return result


def bench(experiments=native.EXPERIMENTS, *, languages=None, sizes=(1_000, 10_000, 100_000), progress=None,
          **params) -> list[dict]:
    """Every experiment × language × flavour (× size for `concurrency`, × fix/cancel where they apply)."""
    rows = []
    for language in languages or [lang for lang in LANGUAGES if native.available(lang) is None]:
        for flavor in native.FLAVORS[language]:
            for experiment in experiments:
                for extra in native.variants(experiment, sizes, flavor):
                    if progress:
                        progress(f"{language}/{flavor} {experiment} {extra}")
                    try:
                        rows.append(timed_run(language, experiment, flavor=flavor, **params, **extra))
                    except (native.NativeError, subprocess.TimeoutExpired) as exc:
                        rows.append({"language": language, "flavor": flavor, "experiment": experiment,
                                     "params": extra, "error": str(exc)})
    return rows


def _version(argv) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return None


def machine() -> dict:
    """What the numbers were measured on."""
    def first(path, prefix, parse):
        try:
            return next(parse(line) for line in open(path) if line.startswith(prefix))
        except (OSError, StopIteration):
            return None
    return {"date": datetime.date.today().isoformat(),
            "cpu": first("/proc/cpuinfo", "model name", lambda line: line.split(":", 1)[1].strip()),
            "cores": os.cpu_count(),
            "memory_bytes": first("/proc/meminfo", "MemTotal", lambda line: int(line.split()[1]) * 1024),
            "os": platform.platform(), "python": platform.python_version(),
            "go": _version(["go", "version"]), "rustc": _version(["rustc", "--version"]),
            "node": _version(["node", "--version"])}


def record(rows, name: str = "native", **more) -> pathlib.Path:
    """Write a run's results, with the machine they came from, to polyglot/results/<name>.json
    (`more`: other sections, e.g. developer_experience=[...], safety=[...])."""
    native.RESULTS.mkdir(parents=True, exist_ok=True)
    path = native.RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "results": rows, **more}, indent=1, sort_keys=True) + "\n")
    return path


def _size(path: pathlib.Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and ".test." not in p.name)


def _timed(argv, cwd) -> float | None:
    t = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, cwd=cwd)
    return time.perf_counter() - t if done.returncode == 0 else None


def _median(values):
    return None if None in values else sorted(values)[len(values) // 2]


def developer_experience(languages=LANGUAGES, cold: bool = True) -> list[dict]:
    """Per language: core lines, incremental (and cold) build, artifact size, test-suite time."""
    from bench_polyglot import cold_build

    rows = []
    for lang in languages:
        row = {"language": lang, "core_lines": native.core_lines(lang)}
        if lang != "python":
            _timed(["bash", BUILDS[lang]], ROOT)  # warm-up: whatever the last build left, nothing is to do now
        # the median of three no-op rebuilds: one run says more about the page cache than about the toolchain
        row["incremental_build_seconds"] = 0.0 if lang == "python" else _median(
            [_timed(["bash", BUILDS[lang]], ROOT) for _ in range(3)])
        if cold:
            row["cold_build_seconds"] = 0.0 if lang == "python" else cold_build(lang)
        row["artifact_bytes"] = sum(_size(ROOT / p) for p in ARTIFACTS[lang] if (ROOT / p).exists())
        row["test_suite_seconds"] = (_timed([sys.executable, "-m", "pytest", "-q", "tests/test_protocol.py"], ROOT)
                                     if lang == "python" else _timed(["bash", *TESTS[lang]], ROOT))
        rows.append(row)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bench_native.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--experiments", default=",".join(native.EXPERIMENTS),
                   help=f"comma-separated: {', '.join(native.EXPERIMENTS)}")
    p.add_argument("--languages", default=None, help="comma-separated (default: every one that is built)")
    p.add_argument("--sizes", default="1000,10000,100000", help="instances for concurrency, comma-separated")
    p.add_argument("--all", action="store_true", help="also developer experience and the safety demos")
    p.add_argument("--record", metavar="NAME", help="also write polyglot/results/NAME.json")
    p.add_argument("--json", action="store_true", help="print the records as JSON")
    args = p.parse_args(argv)
    experiments = [e.strip() for e in args.experiments.split(",") if e.strip()]
    languages = [lang.strip() for lang in args.languages.split(",")] if args.languages else None
    bad = [f"--experiments: {e!r} is not one of {', '.join(native.EXPERIMENTS)}"
           for e in experiments if e not in native.EXPERIMENTS]
    bad += [f"--languages: {lang!r} is not one of {', '.join(LANGUAGES)}"
            for lang in languages or () if lang not in LANGUAGES]
    try:
        sizes = [int(n) for n in args.sizes.split(",")]
    except ValueError:
        bad.append(f"--sizes: {args.sizes!r} is not a comma-separated list of whole numbers, e.g. 1000,10000")
    if bad:
        print("error: " + "\nerror: ".join(bad), file=sys.stderr)
        return 2
    rows = bench(experiments, languages=languages, sizes=sizes,
                 progress=lambda what: print(f"… {what}", file=sys.stderr, flush=True))
    more = {}
    if args.all:
        langs = languages or LANGUAGES
        more["developer_experience"] = developer_experience(langs)
        more["safety"] = [native.safety_demo(lang) for lang in langs]
    if args.record:
        path = record(rows, args.record, **more)
        print(f"recorded: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}", file=sys.stderr)
    print(json.dumps({"results": rows, **more}, indent=1) if args.json else native.table(rows) + "\n" + ratios(rows))
    return 0


BASELINE = "python/asyncio"


def ratios(rows) -> str:
    """Each runtime against the baseline measured in the same run: the numbers that travel between machines."""
    table = native.metrics({"results": rows})
    lines = [f"ratios to {BASELINE} (same run):   memory/instance   workflows/s   p99 CPU step   p99 fixed"]
    for rt in sorted({r["runtime"] for r in table}):
        cells = []
        for metric in ("kib_per_instance", "workflows_per_second", "cpu_step_p99_ms", "cpu_step_p99_ms_fixed"):
            mine, base = native.lookup(table, rt, metric), native.lookup(table, BASELINE, metric)
            cells.append(f"{mine / base:8.2f}×" if mine is not None and base else "        –")
        lines.append(f"  {rt:34}" + "      ".join(cells))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
