"""One decision, three readers: an ADR's evidence run once and told to engineers, executives and auditors.

    from engine.adr import report
    runs = report.run_evidence("docs/adr/0007-use-kafka.md")          # every evidence block, run once
    report.for_engineers("docs/adr/0007-use-kafka.md", runs=runs)      # the ADR, each claim with its verdict
    report.for_executives(runs[:3], decision="log", price_per_gb_month=0.10)   # decision, cost, risk
    report.for_auditors("docs/adr/0007-use-kafka.md", runs=runs)       # the evidence log

The three views read the same `BlockRun` records, so they cannot disagree; without `runs`, the two views
that take a path run the evidence themselves. Everything is deterministic: no clock, no randomness beyond
each block's seed. Money appears only when the caller passes a price, and the text says it was assumed.
The views are Markdown strings (a notebook shows them with ``IPython.display.Markdown``); the executive's
chart is `engine.views.communication.plot_cost_risk`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pathlib
from dataclasses import dataclass, field

from ..errors import WorkflowError
from ..yamlsafe import load_located
from .document import parse_adr
from .evidence import ClaimResult, EvidenceError, measure, spec_problems

__all__ = ["BlockRun", "run_evidence", "fingerprint", "verdict_table", "for_engineers", "for_executives",
           "for_auditors", "by_option", "NAMES", "FAULT_PARAMS"]

#: The options of the messaging model as a non-engineer would name them.
NAMES = {"queue": "a message queue (RabbitMQ/AWS SQS)", "log": "Apache Kafka (a replicated log)",
         "eventstore": "an event store (EventStoreDB)"}
#: Parameters of the messaging model that are faults, not settings, and how to say each in words.
FAULT_PARAMS = {"broker_crash": "a broker crash", "consumer_crash": "a consumer crash mid-batch",
                "consumer_bug": "a consumer bug repaired by replay", "slow_consumer": "a slow consumer"}


@dataclass(frozen=True)
class BlockRun:
    """One evidence block of one ADR, run once: what was run, every measured value, each claim's verdict.

    `number` counts the ADR's evidence blocks from 1; `line` is the block's first YAML line. `error` says
    why a block could not run (then `results` and `metrics` are empty)."""

    source: str
    number: int
    line: int
    about: str | None
    model: str | None
    params: dict
    seed: int
    faults: dict
    results: tuple[ClaimResult, ...]
    metrics: dict = field(repr=False)
    error: str | None = None

    @property
    def held(self) -> bool:
        """The block ran and every claim held."""
        return self.error is None and all(r.held for r in self.results)

    @property
    def fingerprint(self) -> str:
        """`fingerprint(metrics)`: a rerun that reproduces every measured value prints the same string."""
        return fingerprint(self.metrics)

    @property
    def record(self) -> dict:
        """The run as one plain record, for `for_executives` and the chart: option, scenario, metrics, verdicts."""
        return {"option": self.params.get("option", self.model), "scenario": _scenario(self),
                "days": self.params.get("days", 30) if self.model == "messaging" else None,
                "faulted": bool(self.faults), "claims_total": len(self.results),
                "claims_broken": [r.claim.text for r in self.results if not r.held], "error": self.error,
                **self.metrics}

    @property
    def call(self) -> str:
        """The model call the block makes, as Python a reader can paste."""
        p = {k: v for k, v in self.params.items() if k != "option"}
        faults = self.faults.get("faults")
        if self.model == "messaging":
            p.update({k: v for k, v in self.faults.items() if k != "faults"})
            args = [repr(self.params.get("option")), f"seed={self.seed}"] + ([f"faults={faults!r}"] if faults else [])
            return f"simulate_messaging({', '.join(args + [f'{k}={v!r}' for k, v in p.items()])}).metrics()"
        plan = f", faults=FaultPlan.from_yaml({json.dumps({'faults': faults})!r})" if faults else ""
        kw = "".join(f", {k}={v!r}" for k, v in p.items() if k != "workflow")
        if self.model == "kv":
            return f"simulate_kv(seed={self.seed}{plan}{kw})"
        return f"simulate(load_workflow({self.params.get('workflow')!r}), seed={self.seed}{plan}{kw})"


def fingerprint(metrics: dict) -> str:
    """16 hex digits of the SHA-256 of the metrics as sorted JSON: equal for equal values, in any process."""
    text = json.dumps(metrics, sort_keys=True, allow_nan=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- running ---------------------------------------------------------------------------------------------

def run_evidence(adr_path, *, blocks=None) -> tuple[BlockRun, ...]:
    """Run each evidence block of the ADR once (or only the `blocks` numbered, from 1); never raises for a
    block that cannot run: its `BlockRun.error` says why."""
    path = pathlib.Path(adr_path)
    doc = parse_adr(path.read_text(encoding="utf-8"), str(adr_path))
    wanted = None if blocks is None else {int(b) for b in blocks}
    return tuple(_run(block.text, block.line, k, str(adr_path), path.parent)
                 for k, block in enumerate(doc.evidence, 1) if wanted is None or k in wanted)


def _run(text: str, line: int, number: int, source: str, base: pathlib.Path) -> BlockRun:
    problems = spec_problems(text)
    spec = _spec(text)
    params = dict(spec.get("params") or {}) if isinstance(spec.get("params"), dict) else {}
    if spec.get("model") == "saga" and isinstance(spec.get("workflow"), str):
        params["workflow"] = os.path.normpath(pathlib.Path(source).parent / spec["workflow"])
    faults = {k: params[k] for k in FAULT_PARAMS if k in params} if spec.get("model") == "messaging" else {}
    if spec.get("faults"):
        faults["faults"] = spec["faults"]
    seed = spec.get("seed", 0)
    kept = {k: v for k, v in params.items() if k not in faults}
    head = dict(source=source, number=number, line=line, about=spec.get("about"), model=spec.get("model"),
                params=kept, seed=seed, faults=faults)
    if problems:
        return BlockRun(**head, results=(), metrics={}, error=str(problems[0]))
    try:
        measured, results = measure(text, base)
    except EvidenceError as err:
        return BlockRun(**head, results=(), metrics={}, error=str(err))
    return BlockRun(**head, results=tuple(results), metrics=measured)


def _spec(text: str) -> dict:
    """The block's YAML as far as it loads (a mapping), else {}: a block with problems still says what it is."""
    try:
        data, _ = load_located(text, source="evidence")
    except WorkflowError:
        return {}
    return data if isinstance(data, dict) else {}


# -- engineers: the ADR itself, each claim with its verdict ------------------------------------------------

def _shown(r: ClaimResult) -> str:
    return r.shown


def verdict_table(run: BlockRun) -> str:
    """A block's rerun as Markdown: a line saying what ran, then claim | measured | verdict."""
    if run.error:
        return f"**Block {run.number} could not run:** {run.error}"
    held = sum(r.held for r in run.results)
    rows = [f"| `{r.claim.text}` | {_shown(r)} | {'held' if r.held else '**BROKEN**'} |" for r in run.results]
    return "\n".join([f"**Rerun of block {run.number}** (line {run.line}, seed {run.seed}): {held} of "
                      f"{len(run.results)} claims held; fingerprint `{run.fingerprint}`.", "",
                      "| claim | measured | verdict |", "|---|---:|---|", *rows])


def _tally(runs) -> str:
    claims = sum(len(r.results) for r in runs)
    broken = sum(not c.held for r in runs for c in r.results)
    failed = sum(r.error is not None for r in runs)
    verdict = "all held" if not broken else f"{broken} BROKEN"
    return (f"{len(runs)} evidence block(s), {claims} claim(s): {verdict}"
            + (f"; {failed} block(s) could not run" if failed else ""))


def for_engineers(adr_path, *, runs=None) -> str:
    """The ADR as written, with a summary under its title and each evidence block followed by its verdicts."""
    text = pathlib.Path(adr_path).read_text(encoding="utf-8")
    doc = parse_adr(text, str(adr_path))
    runs = {r.number: r for r in (run_evidence(adr_path) if runs is None else runs)}
    lines = text.splitlines()
    after: dict[int, str] = {}  # 0-based line index -> Markdown to insert after it
    for k, block in enumerate(doc.evidence, 1):
        if k in runs:
            after[_fence_end(lines, block.line - 1)] = "\n" + _quote(verdict_table(runs[k]))
    if doc.title_line:
        first = min((s.line for s in doc.sections), default=len(lines) + 1)
        at = max([doc.title_line] + [n for _, n in doc.dates if n < first])
        after[at - 1] = "\n" + _quote(f"**Evidence rerun:** {_tally(list(runs.values()))}. "
                                                  f"Rerun it: `python -m engine adr check --evidence {adr_path}`")
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if i in after:
            out.append(after[i])
    return "\n".join(out) + "\n"


def _fence_end(lines: list[str], start: int) -> int:
    """The index of the line closing the fence whose first content line is `start` (the last line if open)."""
    for i in range(start, len(lines)):
        s = lines[i].strip()
        if s[:3] in ("```", "~~~") and s.strip(s[0]) == "":
            return i
    return len(lines) - 1


def _quote(md: str) -> str:
    return "\n".join(("> " + line).rstrip() for line in md.splitlines())


# -- executives: one paragraph of decision, risk and cost ---------------------------------------------------

def for_executives(records, *, decision: str, names: dict | None = None, because: str | None = None,
                   growth=None, price_per_gb_month: float | None = None, currency: str = "$") -> str:
    """A paragraph for a reader who decides on cost and risk: the decision, what went wrong (or did not) in
    the runs, how the alternatives compare, what storage costs, and what the runs do not measure.

    `records`: one per option under the same workload and faults — `BlockRun`s or plain dicts with an
    `option` and the messaging metrics (what `compare_messaging` returns). `because` is the reason, in the
    caller's words, for the decision over an alternative that did as well; `growth` is a run (or record) of
    the decided option at the planned load, told in one more sentence. Money appears only with
    `price_per_gb_month`, and the text says it is an assumed price."""
    by = by_option(records, decision)
    names = {**NAMES, **(names or {})}
    d, others = by[decision], [r for o, r in by.items() if o != decision]
    if price_per_gb_month is not None and (isinstance(price_per_gb_month, bool) or price_per_gb_month < 0):
        raise ValueError(f"price_per_gb_month must be a number ≥ 0, got {price_per_gb_month!r}")
    parts = [f"**Decision:** use {names.get(decision, decision)} for order events.",
             f"**Risk:** {_risk(d)}", *(_compared(r, d, names) for r in others)]
    if because:
        parts.append(because.strip())
    if growth is not None:
        parts.append(_growth(growth, decision))
    parts += [f"**Cost:** {_cost(d, price_per_gb_month, currency)}", _caveat(d)]
    return " ".join(p for p in parts if p) + "\n"


def by_option(records, decision: str) -> dict:
    """option → record (a `BlockRun`'s `.record`, or a plain dict), checked: one record per option, the
    decision among them, with the metrics the executive's paragraph and chart need; ValueError otherwise."""
    recs = [r.record if isinstance(r, BlockRun) else dict(r) for r in records]
    by: dict[str, dict] = {}
    for r in recs:
        if "option" not in r:
            raise ValueError(f"each record needs an 'option' (queue, log, eventstore), got keys {sorted(r)}")
        if r["option"] in by:
            raise ValueError(f"two records for option {r['option']!r}: pass one run per option, all under the "
                             "same workload and faults")
        by[r["option"]] = r
    if decision not in by:
        raise ValueError(f"decision {decision!r} is not among the records' options: {', '.join(by)}")
    missing = [m for m in _NEEDED if m not in by[decision]]
    if missing:
        raise ValueError(f"the {decision!r} record lacks {', '.join(missing)}: pass messaging runs")
    return by


_NEEDED = ("orders", "lost_orders", "duplicated_orders", "wrong_state_orders", "rebuilt",
           "max_consumer_lag_time", "audit_completeness_pct", "storage_gb", "storage_growth_gb_per_day")


def _risk(d: dict) -> str:
    n = d["orders"]
    lost = "no order was lost" if not d["lost_orders"] else f"{_of(d['lost_orders'], n)} were lost"
    twice = "none was processed twice" if not d["duplicated_orders"] else \
        f"{_of(d['duplicated_orders'], n)} were processed twice"
    if d["rebuilt"] is True:
        bug = "every order the bug damaged was repaired by replaying its history"
    elif d["wrong_state_orders"]:
        bug = f"{_of(d['wrong_state_orders'], n)} were left showing the wrong status"
    else:
        bug = "every order ended with the right status"
    where = d.get("scenario") or "the simulated run"
    during = ", during the faults," if d.get("faulted") else ""
    return (f"in {where} ({n:,} orders), {lost}, {twice}, and {bug}. The longest any order event waited"
            f"{during} was {_wait(d['max_consumer_lag_time'])}. {_audit(d)}")


def _growth(run, decision: str) -> str:
    g = run.record if isinstance(run, BlockRun) else dict(run)
    if g.get("option") != decision:
        raise ValueError(f"growth is a run of the decided option {decision!r}, got {g.get('option')!r}")
    lost = "no order was lost" if not g["lost_orders"] else f"{_of(g['lost_orders'], g['orders'])} were lost"
    return (f"**Growth:** in {g.get('scenario') or 'the growth run'} ({g['orders']:,} orders), the longest any "
            f"order event waited was {_wait(g['max_consumer_lag_time'])}, and {lost}.")


def _audit(d: dict) -> str:
    span = f"the {d['days']:g} days simulated" if d.get("days") else "the period simulated"
    pct = d["audit_completeness_pct"]
    if pct >= 99.95:
        return f"It keeps every order event of {span} for audits."
    kept = "none" if pct < 0.05 else f"only {_pct(pct)}"
    return f"It keeps {kept} of the order events of {span} for audits; the rest must be archived elsewhere or " \
           "is gone."


#: How an alternative's harms read, by metric: (with some, with none).
_HARMS = {"lost_orders": ("lost {}", "lost no order"),
          "wrong_state_orders": ("left {} showing the wrong status", "left no order showing the wrong status"),
          "duplicated_orders": ("processed {} twice", "processed no order twice")}


def _compared(r: dict, d: dict, names: dict) -> str:
    """How an alternative did against the decision: only where it differs, in the same terms."""
    n, name = r["orders"], names.get(r["option"], r["option"])
    diff = []
    for metric, (some, none) in _HARMS.items():
        if r[metric] != d[metric]:
            why = " (it cannot replay)" if metric == "wrong_state_orders" and r["rebuilt"] is False else ""
            diff.append((some.format(_of(r[metric], n)) if r[metric] else none) + why)
    a = r["audit_completeness_pct"]
    if abs(a - d["audit_completeness_pct"]) >= 0.05:
        share = "all" if a >= 99.95 else "none" if a < 0.05 else _pct(a)
        diff.append(f"kept {share} of the history for audits")
    store = _storage_vs(r["storage_gb"], d["storage_gb"])
    if diff:
        return f"In the same runs, {name} {_join(diff)}; it {store}."
    return f"{name[0].upper() + name[1:]} did as well in the same runs, and {store}."


def _storage_vs(gb: float, ref: float) -> str:
    if abs(gb - ref) <= 0.05 * max(ref, 1e-9):
        return "needs the same storage"
    if ref < 0.05:
        return f"needs about {gb:,.0f} GB where the decision needs almost none"
    if gb < 0.01 * ref:
        return "needs almost no storage"
    return f"needs {gb / ref:.1f}× the storage" if gb > ref else f"needs {gb / ref:.0%} of the storage"


def _cost(d: dict, price, currency: str) -> str:
    gb, growth = d["storage_gb"], d["storage_growth_gb_per_day"]
    span = f"after {d['days']:g} days" if d.get("days") else "at the end of the period simulated"
    tail = " These runs price storage only: running the platform (people, operations, support) is not in " \
           "these numbers."
    if gb < 0.05:
        return f"it keeps almost no history, so it needs almost no storage {span}." + tail
    text = (f"the history takes about {gb:,.0f} GB across all replicas {span}, growing by about "
            f"{growth * 30:,.0f} GB a month.")
    if price is not None:
        text += (f" At {currency}{price:.2f} per GB-month (a price assumed for this summary, not a quote), "
                 f"that is about {_money(gb * price, currency)} a month, rising by about "
                 f"{_money(growth * 30 * price, currency)} each month.")
    return text + tail


def _caveat(d: dict) -> str:
    if d.get("error"):
        return f"**Warning:** the evidence for this option could not run ({d['error']}); see the engineers' ADR."
    broken = d.get("claims_broken") or []
    if broken:
        return (f"**Warning:** {len(broken)} of {d['claims_total']} claims the engineers made for this option "
                "did not hold when rerun; see the ADR before approving.")
    if d.get("claims_total"):
        return f"All {d['claims_total']} claims the engineers made for this option held when rerun."
    return ""


def _of(k: int, n: int) -> str:
    return f"{k:,} of {n:,} orders ({_pct(100 * k / n)})" if n else f"{k:,} orders"


def _pct(p: float) -> str:
    return f"{p:.0f}%" if p >= 10 or p == 0 else f"{p:.1f}%"


def _wait(s: float) -> str:
    if math.isinf(s):
        return "for ever (some events were never applied)"
    if s < 1:
        return "under a second"
    if s < 90:
        return f"about {s:.0f} seconds"
    return f"about {s / 60:.0f} minutes" if s < 5400 else f"about {s / 3600:.0f} hours"


def _money(x: float, currency: str) -> str:
    return f"{currency}{x:,.0f}" if x >= 100 else f"{currency}{x:,.2f}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _scenario(run: BlockRun) -> str:
    """The conditions of a run in words: the window, the load, the faults."""
    if run.model != "messaging":
        return "the simulated run"
    wl = run.params.get("workload") or {}
    window = float(wl.get("window", 3600))
    span = "one simulated hour" if window == 3600 else f"{window / 60:g} simulated minutes"
    load = f" at {wl.get('orders_per_day', 10_000):,.0f} orders a day"
    burst = wl.get("burst")
    if burst:
        load += f" with a {burst.get('factor', 10):g}× burst"
    faults = [FAULT_PARAMS[k] for k in FAULT_PARAMS if k in run.faults]
    if run.faults.get("faults"):
        faults.append(f"{len(run.faults['faults'])} more crash(es)")
    return span + load + (", " + _join(faults) if faults else ", with no faults")


# -- auditors: the evidence log -------------------------------------------------------------------------------

def for_auditors(adr_path, *, runs=None) -> str:
    """The evidence log: the ADR's identity, then each block's model, parameters, seed, faults, claims,
    verdicts, measured values (as a fingerprint) and the commands that rerun it; then what was stated
    without evidence."""
    text = pathlib.Path(adr_path).read_text(encoding="utf-8")
    doc = parse_adr(text, str(adr_path))
    runs = list(run_evidence(adr_path) if runs is None else runs)
    import engine

    status, _ = doc.status
    dates = "dated " + ", ".join(d for d, _ in doc.dates) if doc.dates else "undated"
    out = [f"# Evidence log: {doc.title or '(no title)'}", "",
           "| | |", "|---|---|",
           f"| ADR | `{adr_path}` (status {status or 'none'}, {dates}) |",
           f"| ADR text | SHA-256 `{hashlib.sha256(text.encode()).hexdigest()[:16]}` (first 16 hex digits) |",
           f"| engine | {engine.__version__} |",
           f"| rerun everything | `python -m engine adr check --evidence {adr_path}` |",
           f"| result | {_tally(runs) if runs else 'no evidence blocks: nothing in this ADR can be rerun'} |", ""]
    for run in runs:
        out += _block_log(run, adr_path)
    out += _unchecked(doc)
    return "\n".join(out).rstrip() + "\n"


def _block_log(run: BlockRun, adr_path) -> list[str]:
    flat = lambda d: ", ".join(f"`{k}: {json.dumps(v, ensure_ascii=False)}`" for k, v in d.items())  # noqa: E731
    rerun = (f"python -c \"from engine.adr import report; "
             f"print(report.run_evidence('{adr_path}', blocks=[{run.number}])[0].fingerprint)\"")
    lines = [f"## Block {run.number} (line {run.line}){': ' + run.about if run.about else ''}", "",
             f"- model: `{run.model}`; seed: `{run.seed}`",
             f"- parameters: {flat(run.params) or 'none'}",
             f"- faults: {flat(run.faults) or 'none'}"]
    if run.error:
        return lines + [f"- **could not run:** {run.error}", ""]
    return lines + [f"- measured: {len(run.metrics)} values, fingerprint `{run.fingerprint}`",
                    f"- the run: `{run.call}`",
                    f"- rerun it (prints the fingerprint): `{rerun}`", "", verdict_table(run), ""]


def _unchecked(doc) -> list[str]:
    s = doc.section("metrics")
    items = [line.strip()[2:].strip() for line in (s.body.splitlines() if s else [])
             if line.strip()[:2] in ("- ", "* ", "+ ")]
    if not items:
        return []
    return ["## Stated without evidence", "",
            "Targets in the ADR's success metrics. No block above measures them in production; each needs "
            "its own record (a dashboard, a reconciliation report):", ""] + [f"- {i}" for i in items] + [""]

