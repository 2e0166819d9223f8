"""Saga invariants, checked over the trace after a run.

A checker that never fails proves nothing, so each invariant names what it
caught: the instance, the step and what happened, like a Jepsen checker's
``:valid? false`` with the anomaly beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["INVARIANTS", "EFFECT_INVARIANTS", "Violation", "Report", "check_run"]

INVARIANTS: dict[str, str] = {
    "deps-before-start": "no step starts before its dependencies completed",
    "compensated-once": "in every instance that did not complete, each completed or indefinite "
                        "compensable step is compensated exactly once",
    "compensation-order": "compensations run in reverse dependency order",
    "nothing-to-undo": "no compensation runs in an instance that completed, or for a step that never took effect",
    "fire-and-forget-uncompensated": "fire-and-forget steps are never compensated",
    "terminates": "every instance terminates",
    "idempotent-effects": "an idempotent service applies each piece of work at most once",
}

#: Stronger, business-level invariants, checked with `run.check(effects=True)`. A saga does not
#: promise them by itself: they hold only when retries meet idempotency and compensation is complete.
EFFECT_INVARIANTS: dict[str, str] = {
    "effect-once": "each step's work takes effect at most once per instance (no double charge)",
    "all-or-nothing": "in an instance that did not complete, every effect of a compensable step is undone; "
                      "in one that completed, nothing is undone",
    "completed-means-done": "in an instance that completed, every awaited step's work took effect",
}


@dataclass(frozen=True)
class Violation:
    invariant: str
    instance: int | None
    step: str | None
    message: str

    def __str__(self) -> str:
        where = f"instance {self.instance}" + (f", step {self.step}" if self.step else "")
        return f"[{self.invariant}] {where}: {self.message}"


@dataclass
class Report:
    ok: bool
    violations: list[Violation]
    instances: int
    statuses: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        head = f"valid? {'true' if self.ok else 'false'} — {self.instances} instance(s) checked, " \
               f"{len(self.violations)} violation(s)"
        body = [f"  {v}" for v in self.violations[:20]]
        if len(self.violations) > 20:
            body.append(f"  … and {len(self.violations) - 20} more")
        return "\n".join([head, *body])

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))

    def by_invariant(self) -> dict[str, int]:
        out = {k: 0 for k in INVARIANTS | EFFECT_INVARIANTS}
        for v in self.violations:
            out[v.invariant] += 1
        return out


def check_run(run, effects: bool = False) -> Report:
    wf = run.workflow
    events: dict[int, list] = {}
    for e in run.trace.events:
        if e.instance is not None:
            events.setdefault(e.instance, []).append(e)
    descendants = {n: [d for d in wf.topological_order if n in wf.ancestors(d)] for n in wf.step_names}
    violations: list[Violation] = []
    for inst in run.instances:
        violations += _check_instance(wf, inst, events.get(inst.id, []), descendants)
    violations += _check_effects(run)
    if effects:
        violations += _check_business(run)
    violations.sort(key=lambda v: (-1 if v.instance is None else v.instance))  # stable: keeps kinds in order
    statuses: dict[str, int] = {}
    for inst in run.instances:
        statuses[inst.status] = statuses.get(inst.status, 0) + 1
    return Report(not violations, violations, len(run.instances), statuses)


def _check_instance(wf, inst, evs, descendants) -> list[Violation]:
    out: list[Violation] = []
    i = inst.id
    completed_at: dict[str, float] = {}
    comp_started: dict[str, float] = {}
    compensated: dict[str, list[float]] = {}
    for e in evs:
        if e.kind == "step-completed":
            completed_at.setdefault(e.step, e.time)
        elif e.kind == "attempt-started":
            for d in wf[e.step].depends_on:
                if d not in completed_at:
                    out.append(Violation("deps-before-start", i, e.step,
                                         f"attempt {e.attempt} started at {e.time:.3f}s before {d} completed"))
        elif e.kind == "compensation-started":
            comp_started.setdefault(e.step, e.time)
            if not wf[e.step].awaited:
                out.append(Violation("fire-and-forget-uncompensated", i, e.step,
                                     "a fire-and-forget step was compensated"))
        elif e.kind == "step-compensated":
            compensated.setdefault(e.step, []).append(e.time)
    if inst.status == "running":
        out.append(Violation("terminates", i, None, "the instance never reached a final status"))
        return out
    if inst.status == "completed":
        for name in comp_started:
            out.append(Violation("nothing-to-undo", i, name, "compensated in an instance that completed"))
        return out
    for name in wf.step_names:
        step, outcome = wf[name], inst.steps[name]
        owed = step.compensable and (outcome.outcome == "completed" or outcome.indefinite)
        times = compensated.get(name, [])
        if len(times) > 1:
            out.append(Violation("compensated-once", i, name, f"compensated {len(times)} times"))
        elif owed and not times and inst.status != "needs_intervention":
            out.append(Violation("compensated-once", i, name,
                                 f"{'completed' if outcome.outcome == 'completed' else 'indefinite'} "
                                 f"but never compensated (instance {inst.status})"))
        elif not owed and name in comp_started:
            out.append(Violation("nothing-to-undo", i, name, "compensated a step that never took effect"))
    for name, started in comp_started.items():
        for d in descendants[name]:
            for t in compensated.get(d, []):
                if t > started:
                    out.append(Violation("compensation-order", i, name,
                                         f"compensation began at {started:.3f}s before its dependent {d} "
                                         f"was compensated at {t:.3f}s"))
    return out


def _check_effects(run) -> list[Violation]:
    counts: dict[tuple, int] = {}
    for e in run.trace.events:
        if e.kind == "effect":
            key = (e.instance, e.step, e.node, e.info)
            counts[key] = counts.get(key, 0) + 1
    out = []
    for (i, step, node, what), n in counts.items():
        profile = run.profiles.get(node)
        if n > 1 and profile is not None and profile.idempotent:
            out.append(Violation("idempotent-effects", i, step,
                                 f"{node} applied {what} {n} times despite idempotency keys"))
    return out


def _check_business(run) -> list[Violation]:
    """effect-once and all-or-nothing, from the services' `effect` events."""
    wf = run.workflow
    applied: dict[tuple, int] = {}
    for e in run.trace.events:
        if e.kind == "effect":
            applied[(e.instance, e.step, e.info)] = applied.get((e.instance, e.step, e.info), 0) + 1
    out = []
    for (i, step, what), n in applied.items():
        if n > 1 and what == "do":
            out.append(Violation("effect-once", i, step, f"{wf[step].service} did the work {n} times"))
    for inst in run.instances:
        for name in wf.step_names:
            if not wf[name].compensable:
                continue
            done = applied.get((inst.id, name, "do"), 0)
            undone = applied.get((inst.id, name, "undo"), 0)  # the first compensation action stands for all
            if inst.status == "completed" and undone:
                out.append(Violation("all-or-nothing", inst.id, name, f"undone {undone} time(s) in a completed instance"))
            elif inst.status != "completed" and done != undone:
                out.append(Violation("all-or-nothing", inst.id, name,
                                     f"took effect {done} time(s) but was undone {undone} time(s) "
                                     f"(instance {inst.status})"))
    for inst in run.instances:
        if inst.status != "completed":
            continue
        for name in wf.step_names:
            if wf[name].awaited and not applied.get((inst.id, name, "do")):
                out.append(Violation("completed-means-done", inst.id, name,
                                     f"the instance completed, but {wf[name].service} never did this step's work"))
    return out
