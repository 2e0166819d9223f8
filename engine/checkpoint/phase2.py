"""Phase 2's checkpoint: the outline's three questions, checked against native-mode runs.

2.1  Goroutines vs async/await vs the event loop — predict, then compare with the recorded run.
2.2  Memory-safety trade-offs — when does each language catch each concurrency bug?
2.3  Choosing languages — one per component of the order system, justified by cited measurements.

Native mode measures real runtimes, so its numbers depend on the machine: the checks read the run
recorded in polyglot/results/native.json (engine.native.load_results), whose machine is stated.
"""

from __future__ import annotations

import math
import re

from .. import native
from .registry import Exercise, Wrong, call, register

RUNTIMES = ("python/asyncio", "go/goroutines", "rust/tokio-current-thread", "rust/tokio-multi-thread",
            "typescript/event-loop")
LANGUAGES = ("python", "go", "rust", "typescript")


def _recorded() -> dict:
    try:
        return native.load_results()
    except ValueError as exc:
        raise Wrong(f"{exc}; restore it with git checkout polyglot/results/") from None


def _table() -> list[dict]:
    return native.metrics(_recorded())


# -- 2.1 predictions -----------------------------------------------------------------------------------

def _scenario_2_1() -> dict:
    rec = _recorded()
    return {"instances": 250_000, "cpu_ms": 50, "every": 100, "runtimes": list(RUNTIMES),
            "predict": {"mib_in_flight": "MiB of memory held by 250,000 in-flight instances, beyond the idle process",
                        "p99_ms_cpu_step": "p99 latency (ms) of the other instances when one in 100 runs a 50 ms "
                                           "CPU-bound step inline (no fix)"},
            "baseline_ms": "each instance's own path is 30 ms of waits (5 + 10 ∥ 10 + 10 + 5)",
            "machine": rec["machine"]}


#: Why a runtime is where it is — what a learner who missed needs to hear (never the number).
_MEMORY_WHY = {
    "python": "an asyncio Task is a Python object holding a coroutine whose frame holds every awaiting frame "
              "beneath it, plus the timer handle each sleep schedules — several Python objects per instance",
    "go": "each goroutine starts with its own stack (2 KiB minimum, grown by copying) plus its timer and "
          "channel state",
    "rust": "a tokio task is a single allocation sized to its largest state: the future of the whole workflow, "
            "including each pending Sleep (hundreds of bytes in tokio's timer wheel)",
    "typescript": "a pending promise chain is a few small heap objects (promise, closure, timer) — V8 packs them "
                  "tightly, but every closure keeps its captured variables alive",
}
_CPU_WHY = {
    "python/asyncio": "one thread runs the event loop; a CPU-bound step in a coroutine holds it until it returns",
    "go/goroutines": "the Go scheduler runs goroutines on every core and preempts a long-running one",
    "rust/tokio-current-thread": "one thread polls every task; a task that never reaches an .await blocks all of them",
    "rust/tokio-multi-thread": "the other worker thread keeps polling (and steals work) while one is blocked — "
                               "with two cores, most instances never notice",
    "typescript/event-loop": "Node runs JavaScript on one thread; a synchronous loop blocks every callback",
}


def _reference_2_1() -> dict[str, dict[str, float]]:
    table, out = _table(), {}
    for rt in RUNTIMES:
        kib, p99 = native.lookup(table, rt, "kib_per_instance"), native.lookup(table, rt, "cpu_step_p99_ms")
        if kib is not None and p99 is not None:
            out[rt] = {"mib_in_flight": kib * 250_000 / 1024, "p99_ms_cpu_step": p99}
    if not out:
        raise Wrong("the recorded run has no concurrency or cpu_step results; restore polyglot/results/native.json")
    return out


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _run_2_1(predict) -> str:
    answer = call(predict)
    if not isinstance(answer, dict):
        raise Wrong(f"predict() returns a dict keyed by runtime, not {type(answer).__name__}")
    want = _reference_2_1()
    missing = [rt for rt in want if rt not in answer]
    if missing:
        raise Wrong(f"predict() has no prediction for {', '.join(missing)} (keys are scenario('2.1')['runtimes'])")
    off = []
    for rt, ref in want.items():
        guess = answer[rt]
        if not isinstance(guess, dict) or not all(_number(guess.get(k)) for k in ref):
            raise Wrong(f"predict()[{rt!r}] must be a dict of positive numbers: mib_in_flight, p99_ms_cpu_step")
        memory = guess["mib_in_flight"] / ref["mib_in_flight"]
        if not 0.5 <= memory <= 2.0:  # within a factor of two: the right mechanism, not the right digits
            way = "high" if memory > 1 else "low"
            off.append(f"{rt} memory: {'more than double' if memory > 2 else 'less than half'} the recorded run "
                       f"(too {way}) — {_MEMORY_WHY[rt.split('/')[0]]}")
        latency = guess["p99_ms_cpu_step"] / ref["p99_ms_cpu_step"]
        if not 1 / 1.4 <= latency <= 1.4:  # ±40% separates "blocked" (≈ 30 + 50 ms) from "not" (≈ 30 ms)
            way = "high" if latency > 1 else "low"
            off.append(f"{rt} p99 with a CPU step: too {way} — {_CPU_WHY[rt]}")
    if off:
        raise Wrong(f"{len(off)} of {2 * len(want)} predictions are off:\n   • " + "\n   • ".join(off))
    rows = ", ".join(f"{rt} {ref['mib_in_flight']:.0f} MiB / {ref['p99_ms_cpu_step']:.0f} ms"
                     for rt, ref in want.items())
    return f"every prediction within range of the recorded run ({rows})"


register(Exercise(
    "2.1", "runtimes: predict memory and tail latency", _run_2_1,
    ("Memory: what is the unit of concurrency in each runtime (a stack? a heap object? a state machine?), and how "
     "big is it? Latency: in which runtimes can one CPU-bound step stop every other instance from running?",
     "Memory = bytes per in-flight instance × 250,000 (a few KiB each: which runtimes are nearer 1, which nearer "
     "10?). Latency: an instance that is not blocked takes ≈ its 30 ms path; one stuck behind a 50 ms step, "
     "≈ 30 + 50 ms."),
    _scenario_2_1))


# -- 2.2 when is each bug caught? ----------------------------------------------------------------------

BUGS = {
    "data-race": "two threads read and write one shared map with no synchronisation at all",
    "check-then-act": "every access is synchronised (or there is one thread), but a balance is read, the code "
                      "waits (a call, an await, a lock released), then writes what it read minus 10",
    "uncancelled-attempt": "an attempt times out, the caller retries, but the timed-out attempt keeps running and "
                           "takes effect",
}
WHEN = {
    "compile time": "the program is refused before it runs",
    "test time": "it builds and runs; a detector run with the tests (a race detector) reports it, if the run "
                 "exercised it",
    "never": "it builds, runs and gives a wrong answer; no tool reports it",
    "cannot happen": "the language and runtime give no way to write it",
}


def _sections(output: str) -> dict[str, str]:
    """A demo's output split by the commands it ran ("$ go run -race ./safety" → what it printed)."""
    parts, current = {}, None
    for line in output.splitlines():
        if line.startswith("$ "):
            current = line[2:].strip()
            parts[current] = ""
        elif current is not None:
            parts[current] += line + "\n"
    return parts


def _lost_update(text: str) -> bool:
    m = re.search(r"leave (-?\d+) \(expected (-?\d+)\)", text)
    return bool(m) and m.group(1) != m.group(2)


def _evidence() -> dict[tuple[str, str], tuple[str, str]]:
    """(bug, language) → (when, the evidence in the recorded demos and runs)."""
    rec = _recorded()
    demos = {d["language"]: _sections(d["output"]) for d in rec.get("safety", [])}
    out: dict[tuple[str, str], tuple[str, str]] = {}

    def section(lang, *words):
        return next((text for cmd, text in demos.get(lang, {}).items() if all(w in cmd for w in words)), None)

    go_race = section("go", "-race", "./safety") or ""
    if "WARNING: DATA RACE" in go_race:
        out["data-race", "go"] = ("test time", "`go run -race` printed WARNING: DATA RACE; plain `go vet` and "
                                               "`go run` said nothing")
    rust_naive = section("rust", "build", "naive") or ""
    if re.search(r"error\[E0(373|499|502)\]", rust_naive):
        out["data-race", "rust"] = ("compile time", "cargo build refused it (E0373/E0499/E0502)")
    out["data-race", "typescript"] = ("cannot happen", "JavaScript shares no memory between threads: a worker "
                                                      "gets copies (short of SharedArrayBuffer)")
    out["data-race", "python"] = ("cannot happen", "CPython serialises every dict operation (the GIL; per-object "
                                                  "locks in free-threaded builds): the map is never corrupted")
    for lang, words in (("go", ("locked-twice",)), ("rust", ("locked-twice",)), ("typescript", ("naive",)),
                        ("python", ("naive",))):
        text = section(lang, *words)
        if text is not None and _lost_update(text) and "DATA RACE" not in text and "error[" not in text:
            out["check-then-act", lang] = ("never", f"`{lang}` {words[0]} built, ran and lost updates; "
                                                    "nothing reported it")
    table = native.metrics(rec)
    for lang in LANGUAGES:
        dupes = [r["value"] for r in table if r["metric"] == "duplicate_effects" and r["runtime"].startswith(lang)]
        if dupes and min(dupes) > 0:
            out["uncancelled-attempt", lang] = ("never", f"the cancellation run left {min(dupes):.0f} duplicate "
                                                         "effects, and built and ran without a warning")
    return out


def _run_2_2(classify) -> str:
    answer = call(classify)
    if not isinstance(answer, dict):
        raise Wrong("classify() returns a dict {(bug, language): when}")
    evidence = _evidence()
    wrong, unknown = [], []
    for (bug, lang), (when, _) in sorted(evidence.items()):
        got = answer.get((bug, lang))
        if got is None:
            raise Wrong(f"classify() has no answer for ({bug!r}, {lang!r}); bugs are {', '.join(BUGS)}, "
                        f"languages {', '.join(LANGUAGES)}")
        if got not in WHEN:
            unknown.append(f"({bug!r}, {lang!r}): {got!r}")
        elif got != when:
            wrong.append((bug, lang, got))
    if unknown:
        raise Wrong(f"each answer is one of {', '.join(map(repr, WHEN))}; not {'; '.join(unknown)}")
    if wrong:
        lines = [f"{bug} in {lang}: the demos do not show it caught at {got!r}" if got in ("compile time", "test time")
                 else f"{bug} in {lang}: not {got!r} — run polyglot/{lang}/safety/run.sh and read what it says"
                 for bug, lang, got in wrong]
        raise Wrong(f"{len(wrong)} of {len(evidence)} classifications disagree with the recorded demos:\n   • "
                    + "\n   • ".join(lines))
    return (f"all {len(evidence)} classifications agree with the recorded demos — the compiler stops the data race "
            "in Rust, the detector in Go, and nothing stops the logic races anywhere")


register(Exercise(
    "2.2", "memory safety: when is each bug caught?", _run_2_2,
    ("A data race needs two threads touching the same memory at once; which languages let you write that at all, "
     "and which tool notices? A logic race needs no data race.",
     "Go's race detector and Rust's borrow checker see unsynchronised memory access, not the order of "
     "synchronised operations; and no compiler knows that a timed-out attempt should stop."),
    lambda: {"bugs": dict(BUGS), "when": dict(WHEN), "languages": list(LANGUAGES)}))


# -- 2.3 choose a language per component ---------------------------------------------------------------

COMPONENTS = {
    "orchestrator": "runs the order saga: many long-lived instances waiting on services, timers and retries; "
                    "its correctness is the business",
    "edge-api": "takes HTTP requests from browsers and partners, validates, calls the orchestrator; short-lived, "
                "spiky, shares types with the web front end",
    "high-volume-consumer": "drains shipping and inventory events from the broker, 10⁵ per second at peak, with "
                            "some CPU work (parsing, checksums) per event",
}


def _cite(table, cite) -> tuple[str, str, float]:
    if not (isinstance(cite, tuple) and len(cite) == 3 and isinstance(cite[0], str) and isinstance(cite[1], str)
            and isinstance(cite[2], (int, float)) and not isinstance(cite[2], bool) and math.isfinite(cite[2])):
        raise Wrong(f"a citation is a tuple (runtime, metric, value), e.g. ('go/goroutines', 'kib_per_instance', "
                    f"2.6); not {cite!r}")
    runtime, metric, value = cite
    if metric not in native.METRICS:
        raise Wrong(f"{metric!r} is not a recorded metric; they are {', '.join(native.METRICS)}")
    recorded = native.lookup(table, runtime, metric)
    if recorded is None:
        have = sorted({r["runtime"] for r in table if r["metric"] == metric})
        raise Wrong(f"the recorded run has no {metric} for {runtime!r} (it has it for {', '.join(have)})")
    if not math.isclose(value, recorded, rel_tol=0.05, abs_tol=0.05):
        raise Wrong(f"you cite {metric} = {value:g} for {runtime}; the recorded run does not say that — read it "
                    "again from engine.native.metrics()")
    return runtime, metric, value


def _run_2_3(choose) -> str:
    answer = call(choose)
    if not isinstance(answer, dict):
        raise Wrong("choose() returns a dict {component: {'language': ..., 'cites': [...], 'why': ...}}")
    missing = [c for c in COMPONENTS if c not in answer]
    if missing:
        raise Wrong(f"choose() has no choice for {', '.join(missing)}; the components are {', '.join(COMPONENTS)}")
    table, cited = _table(), 0
    for component in COMPONENTS:
        choice = answer[component]
        if not isinstance(choice, dict) or choice.get("language") not in LANGUAGES:
            raise Wrong(f"choose()[{component!r}] needs 'language', one of {', '.join(LANGUAGES)}")
        lang = choice["language"]
        why = choice.get("why")
        if not isinstance(why, str) or len(why.split()) < 15:
            raise Wrong(f"choose()[{component!r}]['why'] needs a justification of a sentence or two (15 words or "
                        "more): what the component needs, and what the runs say")
        cites = [_cite(table, c) for c in (choice.get("cites") or [])]
        own = {m for rt, m, _ in cites if rt.split("/")[0] == lang}
        if not own:
            raise Wrong(f"for {component}, cite at least one measurement of {lang} itself")
        if not any(m in own and rt.split("/")[0] != lang for rt, m, _ in cites):
            raise Wrong(f"for {component}, compare: cite the same metric for {lang} and for another language")
        cited += len(cites)
    return f"all three components chosen, with {cited} cited measurements, each found in the recorded run"


register(Exercise(
    "2.3", "choosing languages, with numbers", _run_2_3,
    ("Each component needs something different: long-lived concurrency and correctness, request latency and "
     "shared types, or throughput with CPU work. Which metric in engine.native.metrics() speaks to each?",
     "Cite as (runtime, metric, value) with the value as the table has it (rounding is fine); runtime is "
     "'language/flavour', or the language alone for build and code metrics. Compare like with like: the same "
     "metric for two languages."),
    lambda: {"components": dict(COMPONENTS), "languages": list(LANGUAGES),
             "metrics": {k: f"{v[1]} ({v[0]})" for k, v in native.METRICS.items()}}))

__all__ = ["BUGS", "WHEN", "COMPONENTS", "RUNTIMES"]
