"""Orchestration: one durable orchestrator drives every instance of a workflow.

The orchestrator is event-sourced. Everything it decides is first appended
to a per-instance **history** (durable: it survives a crash), and its working
state is nothing but that history folded by `InstanceState.apply`. After a
crash it restarts, folds each unfinished history again and carries on:
completed steps are not redone; a request whose reply was lost in the crash
counts as an attempt that timed out; an async step goes on waiting for its
completion event, which the broker redelivers.

Saga semantics (Garcia-Molina & Salem, "Sagas", SIGMOD 1987): when a step
fails for good the instance aborts — pending steps are skipped, in-flight
attempts are allowed to finish — and then every compensable step that
completed, or whose outcome is unknown because an attempt timed out, is
compensated in reverse dependency order. A compensation is retried with the
workflow's `compensation_retry`; if it still fails the instance ends
`needs_intervention`, never silently `failed`.
"""

from __future__ import annotations

from .service import Work
from .sim import Deadlines, Node

__all__ = ["Orchestrator", "InstanceState", "ORCHESTRATOR"]

ORCHESTRATOR = "orchestrator"
REPLIES = "orchestrator.replies"


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


class Orchestrator(Node):
    def __init__(self, sim, wf) -> None:
        super().__init__(sim, ORCHESTRATOR)
        self.wf = wf
        self.order = wf.topological_order
        self.deps = tuple((n, wf[n].depends_on) for n in self.order)
        self.descendants = {n: tuple(d for d in self.order if n in wf.ancestors(d)) for n in self.order}
        # one timer queue per distinct timeout: attempts of equal timeout expire in order
        self.timers = {t: Deadlines(sim, t, self._expire, self._waiting)
                       for t in dict.fromkeys(s.timeout for s in wf.steps)}
        self.histories: dict[int, list] = {}  # durable
        self.state: dict[int, InstanceState] = {}  # volatile: rebuilt from histories
        sim.broker.subscribe(REPLIES, ORCHESTRATOR, self._on_event)

    # -- the durable log ---------------------------------------------------------
    def log(self, i: int, kind: str, step=None, attempt=None, info=None, peer=None) -> None:
        now = self.sim.env.now
        self.histories[i].append((now, kind, step, attempt, info))
        self.state[i].apply(now, kind, step, attempt, info)
        self.sim.trace.add(now, kind, i, step, attempt, ORCHESTRATOR, peer, info)

    def start_instance(self, i: int) -> None:
        """Accept an order. Acceptance is durable, so it works even while the orchestrator is down."""
        self.histories[i] = []
        self.state[i] = InstanceState(self.order)
        self.log(i, "instance-started")
        if self.up:
            self.advance(i)

    # -- decisions ----------------------------------------------------------------
    def advance(self, i: int) -> None:
        """Start whatever can start; end the instance when nothing is left to do."""
        s = self.state[i]
        if s.ended is not None:
            return
        wf = self.wf
        if not s.aborted:
            steps = s.steps
            for name, deps in self.deps:
                if steps[name].status != "pending":
                    continue
                for d in deps:
                    if steps[d].status != "done":
                        break
                else:
                    self.attempt(i, name, 1)
                    if not self.up:  # a planned crash right after a fire-and-forget step
                        return
            if s.done == len(steps):
                self.log(i, "instance-ended", info="completed")
            if not s.aborted:
                return
        if any(t.status == "running" for t in s.steps.values()):
            return  # let in-flight attempts settle before unwinding
        busy = False
        for name in reversed(self.order):
            comp = s.comps[name]
            if not s.needs_compensation(wf, name) or comp.status in ("done", "exhausted"):
                continue
            if comp.status in ("running", "waiting"):
                busy = True
            elif all(not s.needs_compensation(wf, d) or s.comps[d].status == "done" for d in self.descendants[name]):
                self.compensate(i, name, 1)
                busy = busy or s.comps[name].status in ("running", "waiting")
        if not busy and not any(c.status in ("running", "waiting") for c in s.comps.values()):
            self.log(i, "instance-ended", info=self._outcome(s))

    def _outcome(self, s: InstanceState) -> str:
        wf = self.wf
        owed = [n for n in self.order if s.needs_compensation(wf, n)]
        if any(s.comps[n].status != "done" for n in owed):
            return "needs_intervention"
        return "compensated" if owed else "failed"

    def abort(self, i: int) -> None:
        s = self.state[i]
        for name in self.order:
            task = s.steps[name]
            if task.status == "pending":
                self.log(i, "step-skipped", name)
            elif task.status == "waiting":  # a retry that will not happen now
                self.log(i, "step-failed", name, task.attempt, "indefinite" if task.indefinite else "definite")

    # -- attempts -------------------------------------------------------------------
    def attempt(self, i: int, name: str, k: int) -> None:
        step = self.wf[name]
        self.log(i, "attempt-started", name, k, peer=step.service)
        work = Work(i, name, "do", k)
        if step.type == "sync-task":
            self._request(step.service, step.endpoint, work)
        else:
            reply = REPLIES if step.awaited else None
            self.sim.broker.publish(ORCHESTRATOR, step.topic, (work, reply), (i, name, k))
        if not step.awaited:  # fire-and-forget: done once published
            self.log(i, "step-completed", name, k, "published", peer=step.service)
            self.sim.step_completed(ORCHESTRATOR, i, name)
            return
        self.timers[step.timeout].add((work, self.epoch))

    def compensate(self, i: int, name: str, k: int) -> None:
        step = self.wf[name]
        comp = self.state[i].comps[name]
        action = step.compensation[comp.action]
        self.log(i, "compensation-started", name, k, action.target, peer=action.service)
        work = Work(i, name, "undo", k, comp.action)
        if action.is_request:
            self._request(action.service, action.endpoint, work)
        else:
            self.sim.broker.publish(ORCHESTRATOR, action.topic, (work, REPLIES), (i, name, k))
        self.timers[step.timeout].add((work, self.epoch))

    def _request(self, service: str, endpoint: str, work: Work) -> None:
        svc = self.sim.nodes[service]
        self.sim.network.send(ORCHESTRATOR, service, endpoint, svc.serve_request,
                              (ORCHESTRATOR, endpoint + " reply", work, self._on_reply),
                              (work.instance, work.step, work.attempt))

    def _task(self, work: Work):
        s = self.state.get(work.instance)
        if s is None or s.ended is not None:
            return None
        return (s.steps if work.phase == "do" else s.comps)[work.step]

    def _current(self, work: Work) -> bool:
        task = self._task(work)
        return task is not None and task.status == "running" and task.attempt == work.attempt and (
            work.phase == "do" or task.action == work.action)

    # -- outcomes -------------------------------------------------------------------
    def _on_event(self, payload, ack) -> None:
        work, error = payload
        self._on_reply(work, error)
        ack()

    def _on_reply(self, work: Work, error) -> None:
        if not self._current(work):
            return  # a late or duplicate reply: that attempt is already settled
        i, name, k = work.instance, work.step, work.attempt
        service = self.wf[name].service
        if work.phase == "do":
            if error is None:
                self.log(i, "step-completed", name, k, peer=service)
                self.sim.step_completed(ORCHESTRATOR, i, name)
                if self.up:
                    self.advance(i)
                return
            self.log(i, "attempt-failed", name, k, error, peer=service)
        else:
            if error is None:
                self.log(i, "compensation-ok", name, k, peer=service)
                self._next_action(i, name)
                return
            self.log(i, "compensation-failed", name, k, error, peer=service)
        self._after_failure(work, error)

    def _waiting(self, item) -> bool:
        work, epoch = item
        return epoch == self.epoch and self._current(work)

    def _expire(self, item) -> None:
        self._deadline(*item)

    def _deadline(self, work: Work, epoch: int) -> None:
        if epoch != self.epoch or not self._current(work):
            return
        kind = "attempt-timeout" if work.phase == "do" else "compensation-timeout"
        self.log(work.instance, kind, work.step, work.attempt, "Timeout", peer=self.wf[work.step].service)
        self._after_failure(work, "Timeout")

    def _after_failure(self, work: Work, error: str) -> None:
        i, name, k = work.instance, work.step, work.attempt
        s = self.state[i]
        if work.phase == "do":
            policy, task = self.wf[name].retry, s.steps[name]
            if not s.aborted and policy.retryable(error) and k < policy.max_attempts:
                delay = policy.delay(k, self.sim.rng, task.delay)
                self.log(i, "retry-scheduled", name, k + 1, delay)
                self.sim.at(delay, self._retry, work._replace(attempt=k + 1), self.epoch)
                return
            self.log(i, "step-failed", name, k, "indefinite" if task.indefinite else "definite")
            self.abort(i)
            self.advance(i)
            return
        policy = self.wf.compensation_retry
        if k < policy.max_attempts:
            delay = policy.delay(k, self.sim.rng, s.comps[name].delay)
            self.log(i, "compensation-retry-scheduled", name, k + 1, delay)
            self.sim.at(delay, self._retry, work._replace(attempt=k + 1), self.epoch)
            return
        self.log(i, "compensation-exhausted", name, k, error)
        self.advance(i)

    def _retry(self, work: Work, epoch: int) -> None:
        task = self._task(work)
        if epoch != self.epoch or task is None or task.status != "waiting":
            return
        if work.phase == "do":
            self.attempt(work.instance, work.step, work.attempt)
        else:
            self.compensate(work.instance, work.step, work.attempt)

    def _next_action(self, i: int, name: str) -> None:
        if self.state[i].comps[name].action >= len(self.wf[name].compensation):
            self.log(i, "step-compensated", name)
            self.advance(i)
        else:
            self.compensate(i, name, 1)

    # -- crash and recovery -------------------------------------------------------------
    def on_crash(self) -> None:
        self.state.clear()

    def on_restart(self) -> None:
        for i, history in self.histories.items():
            state = InstanceState.replay(self.order, history)
            self.state[i] = state
            if state.ended is None:
                self.sim.trace.add(self.sim.now, "instance-resumed", i, node=ORCHESTRATOR)
                self._recover(i, state)

    def _recover(self, i: int, s: InstanceState) -> None:
        now = self.sim.env.now
        lost = []
        for phase, tasks in (("do", s.steps), ("undo", s.comps)):
            for name, task in tasks.items():
                work = Work(i, name, phase, task.attempt, task.action)
                if task.status == "waiting":
                    self.sim.at(max(0.0, task.retry_at - now), self._retry, work, self.epoch)
                elif task.status == "running":
                    step = self.wf[name]
                    via_request = (step.type == "sync-task" if phase == "do"
                                   else step.compensation[task.action].is_request)
                    if via_request:  # the connection died with the process: its reply is lost
                        lost.append(work)
                    else:  # the completion event waits in the broker
                        left = task.started + step.timeout - now
                        self.sim.at(max(0.0, left), self._deadline, work, self.epoch)
        for work in lost:  # after the scan: each may start new attempts
            self._deadline(work, self.epoch)
        self.advance(i)
