"""Phase 2's orchestrators side by side: protocol-mode time per 1,000 workflows, core size, cold build.

Each language's orchestrator runs the outline's order-fulfillment workflow for
1,000 orders over the protocol (one process, one JSON round trip per
activation); the baseline is the same decision core in process. Times are
medians of interleaved runs; the ratio to the in-process core is what to
compare across machines. `--cold` also measures a clean build of each
language in a temporary copy (slow: it compiles Go's standard library and the
Rust crates from scratch).

Run: ``python bench/bench_polyglot.py [--cold]``.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from engine.external import ORCHESTRATORS  # noqa: E402
from engine.native import core_lines  # noqa: E402

def runnable(language: str) -> bool:
    argv = ORCHESTRATORS[language][0]
    return pathlib.Path(argv[1] if argv[0] == "node" else argv[0]).exists()


def cold_build(language: str) -> float | None:
    """Seconds for a clean build of a temporary copy (None if the toolchain is missing)."""
    if language == "python":
        return 0.0
    with tempfile.TemporaryDirectory() as tmp:
        copy = pathlib.Path(tmp) / language
        ignore = shutil.ignore_patterns("bin", "target", "dist", ".gocache")
        shutil.copytree(ROOT / "polyglot" / language, copy, ignore=ignore, symlinks=True)
        env = dict(os.environ, GOCACHE=str(pathlib.Path(tmp) / "gocache"))
        t = time.perf_counter()
        done = subprocess.run(["bash", str(copy / "build.sh")], capture_output=True, env=env)
        return time.perf_counter() - t if done.returncode == 0 else None


def main(cold: bool = False, repeats: int = 3, orders: int = 1000) -> None:
    wf = engine.load_workflow(ROOT / "notebooks" / "workflows" / "order-fulfillment.yaml")
    languages = [lang for lang in ("python", "go", "rust", "typescript") if runnable(lang)]
    times: dict[str, list[float]] = {"in-process core": [], **{lang: [] for lang in languages}}
    digests = set()
    for r in range(repeats):
        for name in times:
            t = time.perf_counter()
            run = engine.simulate(wf, seed=1, orders=orders, arrival_rate=50.0,
                                  orchestrator=None if name == "in-process core" else name)
            times[name].append(time.perf_counter() - t)
            digests.add(run.trace.digest())
    base = statistics.median(times["in-process core"])
    print(f"order-fulfillment, {orders} orders, median of {repeats}; one trace for all: {len(digests) == 1}")
    print(f"  {'orchestrator':<16}{'s per 1,000':>12}{'× in-process':>14}{'core lines':>12}"
          + (f"{'cold build':>12}" if cold else ""))
    for name, xs in times.items():
        med = statistics.median(xs) * 1000 / orders
        lang = "python" if name == "in-process core" else name
        line = f"  {name:<16}{med:>12.2f}{med / (base * 1000 / orders):>14.2f}{core_lines(lang):>12}"
        if cold and name != "in-process core":
            built = cold_build(name)
            line += f"{built:>11.1f}s" if built is not None else f"{'—':>12}"
        print(line)


if __name__ == "__main__":
    main(cold="--cold" in sys.argv)
