"""Trade-off analysis: quality-attribute scenarios, a weighted decision matrix, and which weights flip it.

    from engine import decision
    from engine.messaging import ADR_001, compare_messaging
    runs = compare_messaging(workload=ADR_001, broker_crash={"at": 1300, "restart_after": 60})
    s = decision.quality_scenario("availability", source="hardware", stimulus="broker-1 crashes",
                                  artifact="the messaging option", environment="the burst",
                                  response="orders keep flowing", measure="lost_orders == 0", records=runs)
    m = decision.DecisionMatrix(["queue", "log"], ["audit", "cost"], {"audit": 2, "cost": 1},
                                {"queue": {"audit": 0, "cost": 1}, "log": {"audit": 1, "cost": 0.5}})
    m.ranking()        # [('log', 0.833...), ('queue', 0.333...)]
    m.sensitivity()    # per criterion: the weight at which the winner changes, and to what

The parts, one concept each:

* **Scenarios** (Bass, Clements & Kazman, *Software Architecture in Practice*; ATAM, CMU/SEI-2000-TR-004):
  source, stimulus, artifact, environment, response, and a response measure — here a claim in the
  syntax of an ADR's evidence block (``p95_latency < 5s``), judged on every run given (the worst run
  decides), so a scenario's measure can be pasted into an ADR and rerun by ``adr check --evidence``.
* **Scores and weights**: `value` and `normalise` turn a measure into a score in [0, 1], either
  against anchors from the requirements (best, worst) or by min–max over the options; a
  `DecisionMatrix` holds options × criteria scores and one weight per criterion (normalised to sum
  to 1). The scores are measured; the weights are the stakeholders' judgement.
* **Sensitivity**: one weight at a time moves from 0 to 1 while the others keep their proportions
  (renormalised to fill the rest); every total is then a straight line in that weight, so the weight at
  which the winner changes is found exactly (rational arithmetic), not by scanning; `regions` gives
  who wins over the whole range, for a plot (engine.views.decision.plot_sensitivity).

And for choosing a consistency model per scenario, the stale-read measures of the Phase 1 register
(`engine.simulate_kv`): `stale_read_fraction` over runs, and `stale_by_age` — the fraction of reads
that are stale as a function of the time since the last acknowledged write, the measured counterpart of
Bailis et al.'s probabilistically bounded staleness (VLDB 2012).

Everything here is deterministic: no randomness, no clock, options and criteria kept in the order given.
Bad input raises ValueError saying what is wrong and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from .errors import did_you_mean

__all__ = ["QualityScenario", "quality_scenario", "scenario_table", "value", "normalise",
           "DecisionMatrix", "Flip", "Sensitivity", "stale_read_fraction", "stale_by_age"]

# -- quality-attribute scenarios -------------------------------------------------------------------------

_PARTS = ("source", "stimulus", "artifact", "environment", "response")


@dataclass(frozen=True)
class QualityScenario:
    """A quality-attribute scenario filled from runs.

    `results` maps each option to one ``(claim, measured, held)`` triple per claim of the response
    measure, where `measured` is the worst value over the option's runs (the largest for ``<``/``<=``,
    the smallest for ``>``/``>=``, a failing one for ``==``/``!=``) and `held` says whether the claim held
    on every run; `runs` maps each option to how many runs it had.
    """

    name: str
    source: str
    stimulus: str
    artifact: str
    environment: str
    response: str
    measure: tuple
    results: dict
    runs: dict
    model: str = "messaging"
    units: dict | None = None

    @property
    def options(self) -> list[str]:
        return list(self.results)

    @property
    def met(self) -> dict[str, bool]:
        """Option -> did every claim of the response measure hold on every run?"""
        return {o: all(held for _, _, held in r) for o, r in self.results.items()}

    def measured(self, option: str, metric: str | None = None):
        """The worst measured value of `metric` (default: the first claim's) for `option`."""
        if option not in self.results:
            raise ValueError(_unknown("option", option, self.results))
        for claim, value, _ in self.results[option]:
            if metric is None or claim.split()[0] == metric:
                return value
        raise ValueError(f"scenario {self.name!r} measures {', '.join(c.split()[0] for c in self.measure)}, "
                         f"not {metric!r}")

    def on(self, records) -> "QualityScenario":
        """The same scenario judged on other runs (another configuration, more seeds)."""
        return quality_scenario(self.name, **{p: getattr(self, p) for p in _PARTS}, measure=list(self.measure),
                                records=records, model=self.model, units=self.units)

    def __str__(self) -> str:
        lines = [f"Scenario: {self.name}"]
        lines += [f"  {part:<13}{getattr(self, part)}" for part in _PARTS]
        lines.append(f"  {'measure':<13}{' and '.join(self.measure)}")
        for option, rows in self.results.items():
            shown = " · ".join(f"{c.split()[0]} {_show(v)}" for c, v, _ in rows)
            runs = f" ({self.runs[option]} runs, worst shown)" if self.runs[option] > 1 else ""
            lines.append(f"  {option:<13}{'met    ' if self.met[option] else 'NOT met'}  {shown}{runs}")
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


def quality_scenario(name: str, *, source: str, stimulus: str, artifact: str, environment: str, response: str,
                     measure, records, model: str = "messaging", units: dict | None = None) -> QualityScenario:
    """A scenario whose response measure — a claim or a list of claims (``"lost_orders == 0"``) — is
    judged on `records`: dicts with an ``"option"`` and the metrics, as `engine.compare_messaging`
    returns them; several records per option (one per seed, say) are allowed, and the worst decides.
    Claims use the syntax and units of an ADR evidence block for `model` (engine.adr.MODELS); `units`
    adds metrics the model does not measure, e.g. ``{"max_delay": "s"}`` for a value put in the records."""
    from .adr.evidence import MODELS, EvidenceError, parse_claim

    texts = {"name": name, **{p: v for p, v in zip(_PARTS, (source, stimulus, artifact, environment, response))}}
    for part, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"a scenario's {part} is a sentence, got {text!r}")
    if model not in MODELS:
        raise ValueError(_unknown("model", model, MODELS))
    claims_in = [measure] if isinstance(measure, str) else list(measure) if isinstance(measure, (list, tuple)) else None
    if not claims_in:
        raise ValueError(f"scenario {name!r}: measure is a claim such as 'lost_orders == 0' or a list of them, "
                         f"got {measure!r}")
    extra = {} if units is None else units
    allowed = ("s", "%", "count", "1/s", "bool", "x", "GB", "GB/day")
    if not isinstance(extra, dict) or not all(isinstance(k, str) and v in allowed for k, v in extra.items()):
        raise ValueError(f"units maps a metric name to its unit, one of {', '.join(allowed)}; got {units!r}")
    try:
        claims = [parse_claim(c, {**MODELS[model][1], **extra}) for c in claims_in]
    except EvidenceError as err:
        raise ValueError(f"scenario {name!r}: {err}") from None
    by_option = _records_by_option(name, records, [c.metric for c in claims])
    results = {o: tuple(_judge(c, [r[c.metric] for r in rows]) for c in claims) for o, rows in by_option.items()}
    return QualityScenario(name.strip(), *(texts[p].strip() for p in _PARTS), tuple(c.text for c in claims),
                           results, {o: len(rows) for o, rows in by_option.items()}, model, units)


def _records_by_option(name: str, records, metrics: list[str]) -> dict[str, list[dict]]:
    if isinstance(records, dict) or not hasattr(records, "__iter__"):
        raise ValueError(f"scenario {name!r}: records is a list of dicts with an 'option' and the metrics "
                         f"(what compare_messaging returns), got {type(records).__name__}")
    out: dict[str, list[dict]] = {}
    for i, r in enumerate(records):
        if not isinstance(r, dict) or not isinstance(r.get("option"), str):
            raise ValueError(f"scenario {name!r}: records[{i}] is not a dict with an 'option': {r!r}")
        for m in metrics:
            if m not in r:
                raise ValueError(f"scenario {name!r}: records[{i}] ({r['option']}) has no metric {m!r}")
        out.setdefault(r["option"], []).append(r)
    if not out:
        raise ValueError(f"scenario {name!r}: records is empty; give it the runs to judge")
    return out


def _judge(claim, values: list) -> tuple:
    """(claim text, worst measured, held on every run)."""
    held = [claim.holds(v) for v in values]
    if not all(held):
        worst = values[held.index(False)]
        if claim.op in ("<", "<=", ">", ">="):
            failing = [v for v, h in zip(values, held) if not h and not _isnan(v)]
            worst = (max if claim.op in ("<", "<=") else min)(failing) if failing else worst
    elif claim.op in ("<", "<="):
        worst = max(values)
    elif claim.op in (">", ">="):
        worst = min(values)
    else:
        worst = values[0]
    return claim.text, worst, all(held)


def scenario_table(scenarios) -> str:
    """Scenarios as rows and options as columns: each cell the worst measured value and met / NOT met."""
    scenarios = list(scenarios)
    if not scenarios or not all(isinstance(s, QualityScenario) for s in scenarios):
        raise ValueError("scenario_table takes a non-empty list of QualityScenario (from quality_scenario)")
    options = list(dict.fromkeys(o for s in scenarios for o in s.options))
    width = max(len(s.name) for s in scenarios) + 2
    lines = [f"{'scenario':<{width}}" + "".join(f"{o:>22}" for o in options)]
    for s in scenarios:
        cells = [f"{_show(s.measured(o))} {'ok' if s.met[o] else 'NOT met'}" if o in s.results else "—"
                 for o in options]
        lines.append(f"{s.name:<{width}}" + "".join(f"{c:>22}" for c in cells))
    return "\n".join(lines)


def _show(v) -> str:
    if isinstance(v, bool) or v is None:
        return str(v).lower()
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _isnan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


# -- from a measure to a score ----------------------------------------------------------------------------

def value(x, *, best, worst) -> float:
    """A measure as a score in [0, 1]: 1 at `best`, 0 at `worst`, linear between, clipped outside.

    `best` may be above or below `worst` (lower is better for latency and cost). True counts as 1,
    False as 0.
    """
    x, best, worst = (_real(n, v) for n, v in (("the measure", x), ("best", best), ("worst", worst)))
    if best == worst:
        raise ValueError(f"best and worst must differ (both {best:g}): they anchor the score's 1 and 0")
    return min(max((x - worst) / (best - worst), 0.0), 1.0)


def normalise(values, *, better: str | None = None, best=None, worst=None) -> dict[str, float]:
    """Option -> score in [0, 1], from option -> measure.

    Either anchored — `best` and `worst` from the requirements (``best=0, worst=5`` for a p95 latency
    target of 5 s): a score says how good the option is against what was asked — or min–max over the
    options, with `better` ``"higher"`` or ``"lower"``: the best option scores 1 and the worst 0 however
    close they are (all equal: all 1).
    """
    if not isinstance(values, dict) or not values:
        raise ValueError(f"normalise takes a non-empty dict of option -> measure, got {values!r}")
    anchored = best is not None or worst is not None
    if anchored and better is not None:
        raise ValueError("give either better= (min–max over the options) or best= and worst= (anchors), not both")
    if anchored:
        if best is None or worst is None:
            raise ValueError("anchored scores need both best= and worst=")
        return {o: value(x, best=best, worst=worst) for o, x in values.items()}
    if better not in ("higher", "lower"):
        raise ValueError(f"better is 'higher' or 'lower' (or give best= and worst=), got {better!r}")
    xs = {o: _real(f"the measure of {o!r}", x) for o, x in values.items()}
    lo, hi = min(xs.values()), max(xs.values())
    if hi == lo:
        return {o: 1.0 for o in xs}
    return {o: (x - lo) / (hi - lo) if better == "higher" else (hi - x) / (hi - lo) for o, x in xs.items()}


def _real(name: str, v) -> float:
    if isinstance(v, bool):
        return float(v)
    if not isinstance(v, (int, float, Fraction)) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v!r}")
    return float(v)


# -- the weighted decision matrix ------------------------------------------------------------------------

@dataclass(frozen=True)
class Flip:
    """The winner changes to `winner` when the criterion's weight reaches `at` (`change` = at − current)."""

    at: float
    winner: str
    change: float


@dataclass(frozen=True)
class Sensitivity:
    """For one criterion: its weight now, the winner now, and the nearest flip below and above that weight
    (None: no flip). A flip is a weight past which another option's total is strictly higher: strictly
    between 0 and 1, or the current weight itself when two options tie now. At the flip's exact weight the
    two tie; a tie reached only at 0 or 1 is no flip."""

    criterion: str
    weight: float
    winner: str
    lower: Flip | None
    higher: Flip | None

    @property
    def nearest(self) -> Flip | None:
        """The flip that needs the smallest change of this weight, or None."""
        flips = [f for f in (self.lower, self.higher) if f is not None]
        return min(flips, key=lambda f: abs(f.change)) if flips else None

    def __str__(self) -> str:
        parts = [f"{f.winner} wins {'below' if f is self.lower else 'above'} {f.at:.3f} ({f.change:+.3f})"
                 for f in (self.lower, self.higher) if f is not None]
        return f"{self.criterion:<14}weight {self.weight:.3f}: " + ("; ".join(parts) or
                                                                 f"{self.winner} wins at every weight from 0 to 1")


class DecisionMatrix:
    """Options scored on criteria, one weight per criterion; the weighted sum ranks the options.

    `options` and `criteria` are lists of distinct names; `weights` maps each criterion to a number ≥ 0
    (or is a list in criteria order) and is normalised to sum to 1; `scores` maps each option to its
    score on each criterion (a dict, or a list in criteria order). Ties rank in the order of `options`.
    """

    def __init__(self, options, criteria, weights, scores) -> None:
        self.options = _names("options", options, at_least=2)
        self.criteria = _names("criteria", criteria, at_least=1)
        raw = _row("weights", weights, self.criteria)
        for c, w in raw.items():
            if w < 0:
                raise ValueError(f"weights: {c!r} has weight {w:g}; a weight is a number >= 0")
        total = sum(raw.values())
        if total == 0:
            raise ValueError("weights: every weight is 0; give at least one criterion a weight > 0")
        exact = {c: _exact(w) for c, w in raw.items()}
        self._w = {c: w / sum(exact.values()) for c, w in exact.items()}
        if not isinstance(scores, dict):
            raise ValueError(f"scores maps each option to its scores, got {type(scores).__name__}")
        _exact_keys("scores", scores, self.options, "option")
        self._s = {o: {c: _exact(v) for c, v in _row(f"scores[{o!r}]", scores[o], self.criteria).items()}
                   for o in self.options}

    @property
    def weights(self) -> dict[str, float]:
        """Criterion -> weight, normalised to sum to 1."""
        return {c: float(w) for c, w in self._w.items()}

    @property
    def scores(self) -> dict[str, dict[str, float]]:
        return {o: {c: float(v) for c, v in row.items()} for o, row in self._s.items()}

    def totals(self) -> dict[str, float]:
        """Option -> weighted sum of its scores."""
        return {o: float(t) for o, t in self._totals(self._w).items()}

    def ranking(self) -> list[tuple[str, float]]:
        """(option, total), best first; ties keep the order of `options`."""
        t = self._totals(self._w)
        return [(o, float(t[o])) for o in sorted(self.options, key=lambda o: (-t[o], self.options.index(o)))]

    @property
    def winner(self) -> str:
        return self.ranking()[0][0]

    def reweighted(self, criterion: str, weight) -> "DecisionMatrix":
        """The same matrix with `criterion` at `weight` (0..1) and the other weights rescaled to fill the rest."""
        self._criterion(criterion)
        t = _real("weight", weight)
        if not 0 <= t <= 1:
            raise ValueError(f"weight is between 0 and 1 (the others are rescaled to fill the rest), got {weight!r}")
        return DecisionMatrix(self.options, self.criteria, self._moved(criterion, Fraction(t)), self.scores)

    def lines(self, criterion: str) -> dict[str, tuple[float, float]]:
        """Option -> (intercept, slope): its total as `criterion`'s weight t goes from 0 to 1, the other
        weights keeping their proportions — total(t) = intercept + slope·t."""
        self._criterion(criterion)
        return {o: (float(a), float(b)) for o, (a, b) in self._lines(criterion).items()}

    def regions(self, criterion: str) -> list[tuple[float, float, str]]:
        """(from, to, winner) over `criterion`'s weight from 0 to 1, the others keeping their proportions:
        the winner in each stretch between two crossings (computed exactly; ties keep the options' order)."""
        self._criterion(criterion)
        lines, names = self._lines(criterion), self.options
        cuts = {Fraction(0), Fraction(1)}
        for i, p in enumerate(names):
            for q in names[i + 1:]:
                (a1, b1), (a2, b2) = lines[p], lines[q]
                if b1 != b2 and 0 < (a2 - a1) / (b1 - b2) < 1:
                    cuts.add((a2 - a1) / (b1 - b2))
        cuts = sorted(cuts)
        out: list = []
        for lo, hi in zip(cuts, cuts[1:]):
            mid = (lo + hi) / 2
            who = min(names, key=lambda o: (-(lines[o][0] + lines[o][1] * mid), names.index(o)))
            if out and out[-1][2] == who:
                out[-1] = (out[-1][0], hi, who)
            else:
                out.append((lo, hi, who))
        return [(float(lo), float(hi), who) for lo, hi, who in out]

    def sensitivity(self) -> dict[str, Sensitivity]:
        """Criterion -> the nearest weights, below and above its current one, at which the winner changes
        (each with the new winner), the other weights keeping their proportions."""
        return {c: self._sensitivity(c) for c in self.criteria}

    def table(self) -> str:
        """Scores, weights and totals as text, options as columns."""
        width = max(len(c) for c in (*self.criteria, "weighted total")) + 2
        col = max(10, *(len(o) + 2 for o in self.options))
        lines = [f"{'criterion':<{width}}{'weight':>8}" + "".join(f"{o:>{col}}" for o in self.options)]
        for c in self.criteria:
            lines.append(f"{c:<{width}}{float(self._w[c]):>8.2f}"
                         + "".join(f"{float(self._s[o][c]):>{col}.2f}" for o in self.options))
        totals = self.totals()
        lines.append(f"{'weighted total':<{width}}{'':>8}" + "".join(f"{totals[o]:>{col}.3f}" for o in self.options))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"DecisionMatrix(options={list(self.options)}, criteria={list(self.criteria)}, winner={self.winner!r})"

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))

    # -- internals (exact arithmetic) ---------------------------------------------------------------------
    def _totals(self, w: dict) -> dict:
        return {o: sum(w[c] * self._s[o][c] for c in self.criteria) for o in self.options}

    def _criterion(self, criterion) -> None:
        if criterion not in self._w:
            raise ValueError(_unknown("criterion", criterion, self.criteria))

    def _moved(self, criterion: str, t: Fraction) -> dict:
        """Weights with `criterion` at t and the others in their proportions (equal shares if they were all 0)."""
        rest = 1 - self._w[criterion]
        others = [c for c in self.criteria if c != criterion]
        return {c: t if c == criterion else
                (1 - t) * (self._w[c] / rest if rest else Fraction(1, len(others))) for c in self.criteria}

    def _lines(self, criterion: str) -> dict:
        at0, at1 = self._totals(self._moved(criterion, Fraction(0))), self._totals(self._moved(criterion, Fraction(1)))
        return {o: (at0[o], at1[o] - at0[o]) for o in self.options}

    def _sensitivity(self, criterion: str) -> Sensitivity:
        w0, lines, order = self._w[criterion], self._lines(criterion), self.options.index
        top = min(self.options, key=lambda o: (-(lines[o][0] + lines[o][1] * w0), order(o)))
        flips = {}
        for up in (False, True):
            best = None
            for o in self.options:
                da, db = lines[o][0] - lines[top][0], lines[o][1] - lines[top][1]
                if db == 0 or (db > 0) != up:
                    continue  # parallel, or it falls further behind in this direction
                t = -da / db
                room = t < 1 if up else t > 0  # some weight left past t, in this direction
                inside = 0 < t < 1 or t == w0  # a tie reached only at 0 or 1 is no flip; a tie now is one
                if room and inside and (best is None or abs(t - w0) < abs(best - w0)):
                    best = t  # past it, `o` is strictly ahead
            if best is not None:
                tied = [o for o in self.options if o != top
                        and lines[o][0] + lines[o][1] * best == lines[top][0] + lines[top][1] * best]
                # just past the crossing, the steepest line in this direction leads
                new = sorted(tied, key=lambda o: ((-1 if up else 1) * lines[o][1], order(o)))[0]
                flips[up] = Flip(float(best), new, float(best - w0))
        return Sensitivity(criterion, float(w0), top, flips.get(False), flips.get(True))


def _exact(v) -> Fraction:
    """The number as written: 0.1 is 1/10, not the binary float nearest to it (so ties are ties)."""
    return Fraction(v) if isinstance(v, (int, Fraction)) else Fraction(repr(float(v)))


def _names(what: str, names, at_least: int) -> tuple:
    if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple)):
        raise ValueError(f"{what} is a list of names, got {names!r}")
    if len(names) < at_least:
        raise ValueError(f"{what} needs at least {at_least} name(s), got {len(names)}"
                         + ("; a decision compares two options or more" if what == "options" else ""))
    for n in names:
        if not isinstance(n, str) or not n.strip():
            raise ValueError(f"{what}: every name is a non-empty string, got {n!r}")
    dup = [n for i, n in enumerate(names) if n in names[:i]]
    if dup:
        raise ValueError(f"{what}: {dup[0]!r} appears twice")
    return tuple(names)


def _row(what: str, row, criteria: tuple) -> dict:
    """A dict criterion -> finite number, from a dict or a list in criteria order."""
    if isinstance(row, dict):
        _exact_keys(what, row, criteria, "criterion")
        items = [(c, row[c]) for c in criteria]
    elif isinstance(row, (list, tuple)):
        if len(row) != len(criteria):
            raise ValueError(f"{what} has {len(row)} value(s) for {len(criteria)} criteria ({', '.join(criteria)})")
        items = list(zip(criteria, row))
    else:
        raise ValueError(f"{what} is a dict criterion -> number or a list in criteria order, got {row!r}")
    out = {}
    for c, v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float, Fraction)) or not math.isfinite(v):
            raise ValueError(f"{what}: {c!r} must be a finite number, got {v!r}")
        out[c] = v
    return out


def _exact_keys(what: str, given: dict, expected: tuple, kind: str) -> None:
    for k in given:
        if k not in expected:
            raise ValueError(f"{what}: {_unknown(kind, k, expected)}")
    missing = [k for k in expected if k not in given]
    if missing:
        raise ValueError(f"{what}: no value for {kind} {', '.join(map(repr, missing))}")


def _unknown(kind: str, name, choices) -> str:
    hint = did_you_mean(name, choices)
    return f"unknown {kind} {name!r}" + (f" ({hint})" if hint else "") + f"; the {kind}s are " + \
        ", ".join(map(str, choices))


# -- consistency: stale reads of the replicated register ---------------------------------------------------

def stale_read_fraction(runs) -> float:
    """Stale reads / ok reads over `runs` (KVRun from engine.simulate_kv): KVRun.stale_reads's definition."""
    stale = reads = 0
    for run in _kv_runs(runs):
        stale += len(run.stale_reads())
        reads += sum(1 for e in run.history if e["type"] == "ok" and e["f"] == "read")
    if reads == 0:
        raise ValueError("the runs have no successful read to judge; raise ops_per_client or read_fraction")
    return stale / reads


def stale_by_age(runs, edges) -> list[dict]:
    """The stale-read fraction by the time since the write, the measured counterpart of PBS t-visibility.

    Each ok read's age is the time from the end of the last write acknowledged before the read began to
    the read's start; reads with no acknowledged write before them are left out. `edges` (seconds,
    increasing) bound the bins [edges[i], edges[i+1]); each row is {"from", "to", "reads", "stale",
    "fraction"} (fraction NaN for an empty bin). Concurrent writes make this an approximation of PBS's
    definition, which asks about one write and the reads after it.
    """
    from bisect import bisect_left, bisect_right

    from .linearizability import pair

    edges = [_real("edges", e) for e in (edges if isinstance(edges, (list, tuple)) else [None])]
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])) or edges[0] < 0:
        raise ValueError("edges is a list of two or more increasing times >= 0, in seconds (bins between them)")
    counts = [[0, 0] for _ in edges[1:]]
    for run in _kv_runs(runs):
        ops = pair(run.history)
        stale = {o.index for o in run.stale_reads()}
        acked = sorted(o.end for o in ops if o.f == "write" and o.type == "ok")
        for o in ops:
            i = bisect_left(acked, o.start)
            if o.f != "read" or o.type != "ok" or i == 0:
                continue
            b = bisect_right(edges, o.start - acked[i - 1]) - 1
            if 0 <= b < len(counts):
                counts[b][0] += 1
                counts[b][1] += o.index in stale
    return [{"from": lo, "to": hi, "reads": n, "stale": k, "fraction": k / n if n else math.nan}
            for (lo, hi), (n, k) in zip(zip(edges, edges[1:]), counts)]


def _kv_runs(runs) -> list:
    runs = [runs] if hasattr(runs, "stale_reads") else list(runs) if isinstance(runs, (list, tuple)) else None
    if not runs or not all(hasattr(r, "stale_reads") and hasattr(r, "history") for r in runs):
        raise ValueError("runs is a KVRun or a non-empty list of them (from engine.simulate_kv)")
    return runs
