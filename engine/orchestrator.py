"""The orchestrator's state as a fold of its history, for reading a run after the fact.

The orchestrator is event-sourced: everything it decides is first appended to
a per-instance history (durable: it survives a crash), and its working state
is nothing but that history folded. The trace records those events with
``node == "orchestrator"``; `InstanceState.replay` folds them back into what
the orchestrator knew at any instant — which is what a restarted orchestrator
rebuilds. The decisions themselves are made by engine/decider.py (the same
rules in Python, Go, Rust and TypeScript: polyglot/PROTOCOL.md); the node that
runs them in the simulated world is engine/external.py.

Saga semantics (Garcia-Molina & Salem, "Sagas", SIGMOD 1987): when a step
fails for good the instance aborts — pending steps are skipped, in-flight
attempts are allowed to finish — and then every compensable step that
completed, or whose outcome is unknown because an attempt timed out, is
compensated in reverse dependency order. A compensation is retried with the
workflow's `compensation_retry`; if it still fails the instance ends
`needs_intervention`, never silently `failed`.
"""

from __future__ import annotations


__all__ = ["InstanceState"]


class _Task:
    """One step's progress, or one step's compensation's progress."""

    __slots__ = ("status", "attempt", "indefinite", "started", "retry_at", "delay", "action")

    def __init__(self) -> None:
        self.status = "pending"  # pending running waiting done failed skipped exhausted
        self.attempt = 0
        self.indefinite = False  # some attempt timed out: the work may have happened
        self.started = 0.0
        self.retry_at = 0.0
        self.delay: float | None = None  # the last retry delay (decorrelated jitter needs it)
        self.action = 0  # compensation: index of the action under way


class InstanceState:
    """What the orchestrator knows of one instance: a fold of its history."""

    def __init__(self, step_names) -> None:
        self.steps = {name: _Task() for name in step_names}
        self.comps = {name: _Task() for name in step_names}
        self.aborted = False
        self.ended: str | None = None
        self.done = 0  # steps completed

    @classmethod
    def replay(cls, step_names, history) -> "InstanceState":
        state = cls(step_names)
        for event in history:
            state.apply(*event)
        return state

    def apply(self, time, kind, step, attempt, info) -> None:
        # The two commonest events first: this runs for every event the orchestrator logs.
        if kind == "attempt-started":
            task = self.steps[step]
            task.status, task.attempt, task.started = "running", attempt, time
            return
        if kind == "step-completed":
            self.steps[step].status = "done"
            self.done += 1
            return
        if kind.startswith("compensation-") or kind == "step-compensated":
            task = self.comps[step]
        elif step is not None:
            task = self.steps[step]
        if kind == "compensation-started":
            task.status, task.attempt, task.started = "running", attempt, time
        elif kind in ("attempt-failed", "compensation-failed"):
            task.status = "between"
        elif kind in ("attempt-timeout", "compensation-timeout"):
            task.status, task.indefinite = "between", True
        elif kind in ("retry-scheduled", "compensation-retry-scheduled"):
            # `attempt` is the number of the attempt the retry will start
            task.status, task.attempt, task.retry_at, task.delay = "waiting", attempt, time + info, info
        elif kind == "compensation-ok":
            task.status, task.action, task.attempt, task.delay = "between", task.action + 1, 0, None
        elif kind == "step-compensated":
            task.status = "done"
        elif kind == "step-failed":
            task.status, self.aborted = "failed", True
        elif kind == "step-skipped":
            task.status = "skipped"
        elif kind == "compensation-exhausted":
            task.status = "exhausted"
        elif kind == "instance-ended":
            self.ended = info

    def needs_compensation(self, wf, name: str) -> bool:
        step = self.steps[name]
        return wf[name].compensable and (step.status == "done" or step.indefinite)
