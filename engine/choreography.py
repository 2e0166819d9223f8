"""Choreography: the same workflow, with no one in charge.

Each service runs a participant for the steps it owns. Participants react to
events on the broker and publish their own:

* ``order.placed`` starts the steps with no dependencies;
* ``<step>.completed`` lets the step's dependents start once all their
  dependencies have completed (each participant remembers what it has seen);
* ``<step>.failed`` tells every participant the saga is aborting: steps not
  yet started are skipped;
* ``<step>.unwound`` says a step has been compensated (or had nothing to
  undo); a step unwinds only after every step that depends on it has, which
  gives reverse dependency order without a coordinator.

A participant retries its own work with the step's retry policy. There is no
caller waiting, so a step's `timeout` does not apply, and nothing but the
trace knows an instance's status: `Run` derives it. A trigger event is acked
only after the work it started is done and its outcome published, so a crash
mid-step means the broker redelivers and the step runs again — harmless only
if the service is idempotent.
"""

from __future__ import annotations

from .service import Work

__all__ = ["Participant", "CLIENT", "start_choreography"]

CLIENT = "client"
PLACED = "order.placed"


class _Saga:
    """One participant's durable knowledge of one instance."""

    __slots__ = ("seen", "unwound", "aborted", "status", "acks", "comp_action")

    def __init__(self) -> None:
        self.seen: dict[str, None] = {}      # steps known to have completed
        self.unwound: dict[str, None] = {}   # steps known to have unwound
        self.aborted = False
        self.status: dict[str, str] = {}     # own step -> running done failed skipped unwinding unwound
        self.acks: dict[str, list] = {}  # own step -> acks of its triggers, held until it finishes
        self.comp_action: dict[str, int] = {}


class Participant:
    def __init__(self, sim, wf, service) -> None:
        self.sim, self.wf, self.svc = sim, wf, service
        self.name = service.name
        self.owned = [s for s in wf.topological_order if wf[s].service == self.name]
        self.sagas: dict[int, _Saga] = {}
        service.crash_hooks.append(self._on_crash)
        service.restart_hooks.append(self._on_restart)
        broker = sim.broker
        topics: dict[str, None] = {}
        for name in self.owned:
            step = wf[name]
            if not step.depends_on:
                topics[PLACED] = None
            for d in step.depends_on:
                topics[f"{d}.completed"] = None
            for d in wf.dependents[name]:
                topics[f"{d}.unwound"] = None
        for name in wf.topological_order:
            topics[f"{name}.failed"] = None
        for topic in topics:
            broker.subscribe(topic, self.name, self._on_event)

    # -- helpers -----------------------------------------------------------------
    def _saga(self, i: int) -> _Saga:
        saga = self.sagas.get(i)
        if saga is None:
            saga = self.sagas[i] = _Saga()
        return saga

    def _log(self, i, kind, step=None, attempt=None, info=None) -> None:
        self.sim.trace.add(self.sim.env.now, kind, i, step, attempt, self.name, self.name, info)

    def _publish(self, topic: str, i: int, step: str) -> None:
        self.sim.broker.publish(self.name, topic, (topic, i), (i, step, None))

    # -- events ------------------------------------------------------------------
    def _on_event(self, payload, ack) -> None:
        topic, i = payload
        saga = self._saga(i)
        # One event may start several steps: ack it only when all of them are done.
        ack = _HeldAck(ack)
        if topic == PLACED:
            for name in self.owned:
                if not self.wf[name].depends_on:
                    self._maybe_start(i, saga, name, ack)
        else:
            subject, what = topic.rsplit(".", 1)
            if what == "completed":
                saga.seen[subject] = None
                for name in self.wf.dependents[subject]:
                    if self.wf[name].service != self.name:
                        continue
                    self._maybe_start(i, saga, name, ack)
            elif what == "failed":
                saga.aborted = True
                self._unwind_ready(i, saga)
            elif what == "unwound":
                saga.unwound[subject] = None
                self._unwind_ready(i, saga)
        ack.release()

    def _maybe_start(self, i: int, saga: _Saga, name: str, ack: "_HeldAck") -> None:
        """Start `name` if all its dependencies are seen, holding `ack` until it is done."""
        if saga.status.get(name) == "running":  # a redelivered trigger: ack it when the work is done
            saga.acks[name].append(ack.hold())
            return
        if saga.aborted or name in saga.status:
            return
        seen = saga.seen
        for d in self.wf[name].depends_on:
            if d not in seen:
                return
        if not self.wf[name].awaited:  # fire-and-forget: announced at once, nobody waits for the work
            saga.status[name] = "done"
            self._log(i, "attempt-started", name, 1)
            self._log(i, "step-completed", name, 1, "published")
            self._publish(f"{name}.completed", i, name)
            self.svc.submit(Work(i, name, "do", 1), lambda error: None)
            return
        saga.status[name] = "running"
        saga.acks[name] = [ack.hold()]
        self._attempt(i, name, 1, self.svc.epoch)

    # -- doing a step --------------------------------------------------------------
    def _attempt(self, i: int, name: str, k: int, epoch: int) -> None:
        if epoch != self.svc.epoch or self.sagas[i].status.get(name) != "running":
            return
        self._log(i, "attempt-started", name, k)
        self.svc.submit(Work(i, name, "do", k), lambda error: self._done(i, name, k, error, epoch))

    def _done(self, i: int, name: str, k: int, error, epoch: int) -> None:
        if epoch != self.svc.epoch:
            return
        saga = self.sagas[i]
        policy = self.wf[name].retry
        if error is None:
            self._log(i, "step-completed", name, k)
            saga.status[name] = "done"
            self._publish(f"{name}.completed", i, name)
        else:
            self._log(i, "attempt-failed", name, k, error)
            if policy.retryable(error) and k < policy.max_attempts and not saga.aborted:
                delay = policy.delay(k, self.sim.rng)
                self._log(i, "retry-scheduled", name, k + 1, delay)
                self.sim.at(delay, self._attempt, i, name, k + 1, epoch)
                return
            self._log(i, "step-failed", name, k, "definite")
            saga.status[name] = "failed"
            self._publish(f"{name}.failed", i, name)
        for held in saga.acks.pop(name, ()):
            held.release()
        if saga.aborted:
            self._unwind_ready(i, saga)

    # -- unwinding -------------------------------------------------------------------
    def _unwind_ready(self, i: int, saga: _Saga) -> None:
        for name in self.owned:
            if name not in saga.status:  # never started, or lost in a crash while running
                if self.svc.profile.idempotent and (i, name, "do", 0) in self.svc.applied:
                    # its idempotency table says the work took effect before the crash
                    saga.status[name] = "done"
                    self._log(i, "step-completed", name, None, "found after a crash")
                else:
                    saga.status[name] = "skipped"
                    self._log(i, "step-skipped", name)
        for name in reversed(self.owned):
            if saga.status.get(name) not in ("done", "failed", "skipped"):
                continue
            if all(d in saga.unwound for d in self.wf.dependents[name]):
                # Only a completed step took effect: a participant knows its own outcome.
                ran = saga.status[name] == "done"
                saga.status[name] = "unwinding"
                if ran and self.wf[name].compensable:
                    saga.comp_action[name] = 0
                    self._compensate(i, name, 1, self.svc.epoch)
                else:
                    self._unwound(i, name, "nothing to undo")

    def _compensate(self, i: int, name: str, k: int, epoch: int) -> None:
        if epoch != self.svc.epoch:
            return
        step = self.wf[name]
        index = self.sagas[i].comp_action[name]
        action = step.compensation[index]
        self._log(i, "compensation-started", name, k, action.target)
        work = Work(i, name, "undo", k, index)
        done = _Once(lambda error: self._compensated(i, name, k, error, epoch))
        target = self.sim.nodes[action.service]
        if target is self.svc:
            target.submit(work, done)
        else:  # another service's undo: a request over the network, with the step's timeout
            net = self.sim.network
            net.send(self.name, action.service, action.target, target.serve_request,
                     (self.name, action.target + " reply", work, lambda w, error: done(error)), (i, name, k))
            self.sim.at(step.timeout, done, "Timeout")

    def _compensated(self, i: int, name: str, k: int, error, epoch: int) -> None:
        if epoch != self.svc.epoch:
            return
        saga = self.sagas[i]
        if error is None:
            self._log(i, "compensation-ok", name, k)
            saga.comp_action[name] += 1
            if saga.comp_action[name] < len(self.wf[name].compensation):
                self._compensate(i, name, 1, epoch)
            else:
                self._log(i, "step-compensated", name)
                self._unwound(i, name, "compensated")
            return
        self._log(i, "compensation-failed", name, k, error)
        policy = self.wf.compensation_retry
        if k < policy.max_attempts:
            delay = policy.delay(k, self.sim.rng)
            self._log(i, "compensation-retry-scheduled", name, k + 1, delay)
            self.sim.at(delay, self._compensate, i, name, k + 1, epoch)
        else:
            self._log(i, "compensation-exhausted", name, k, error)
            self._unwound(i, name, "compensation exhausted")

    def _unwound(self, i: int, name: str, what: str) -> None:
        self.sagas[i].status[name] = "unwound"
        self._log(i, "step-unwound", name, None, what)
        self._publish(f"{name}.unwound", i, name)

    # -- crashes ---------------------------------------------------------------------
    def _on_crash(self) -> None:
        # Work in progress is lost; its trigger was not acked, so the broker redelivers it.
        for saga in self.sagas.values():
            for name, status in list(saga.status.items()):
                if status == "running":
                    del saga.status[name]
                elif status == "unwinding":
                    saga.status[name] = "done"
            saga.acks.clear()

    def _on_restart(self) -> None:
        # Unwinding that was under way starts again (compensations must be idempotent).
        for i, saga in self.sagas.items():
            if saga.aborted:
                self._unwind_ready(i, saga)


class _HeldAck:
    """An ack shared by everything one delivery started; sent when the last holder releases it."""

    __slots__ = ("ack", "holders")

    def __init__(self, ack) -> None:
        self.ack, self.holders = ack, 1  # the handler itself holds it until it returns

    def hold(self) -> "_HeldAck":
        self.holders += 1
        return self

    def release(self) -> None:
        self.holders -= 1
        if self.holders == 0:
            self.ack()


class _Once:
    """A callback that runs only the first time (a reply or its timeout, whichever is first)."""

    __slots__ = ("fn", "called")

    def __init__(self, fn) -> None:
        self.fn, self.called = fn, False

    def __call__(self, *args) -> None:
        if not self.called:
            self.called = True
            self.fn(*args)


def start_choreography(sim, wf, i: int) -> None:
    """An order arrives: the client publishes ``order.placed``."""
    sim.trace.add(sim.env.now, "instance-started", i, node=CLIENT)
    sim.broker.publish(CLIENT, PLACED, (PLACED, i), (i, None, None))
