"""The world's side of polyglot/PROTOCOL.md: an orchestrator node whose decisions come from a process.

The node owns everything the protocol gives the world: the network calls and
broker commands behind each `invoke`, the attempt deadlines, the timers, the
durable history, crash and restart. Its brain — the process speaking the
protocol, or the in-process decision core — owns every decision. Events that
reach the node at one simulated instant go to the brain as one activation.
"""

from __future__ import annotations

import json
import os
import pathlib
import select
import shutil
import subprocess
import sys

from .decider import Decider, canonical_json, canonical_workflow
from .service import Work
from .sim import Deadlines, Node

__all__ = ["ProtocolOrchestrator", "ProcessBrain", "InProcessBrain", "ExternalOrchestratorError", "brain_for",
           "ORCHESTRATORS"]

ORCHESTRATOR = "orchestrator"
REPLIES = "orchestrator.replies"
POLYGLOT = pathlib.Path(__file__).resolve().parents[1] / "polyglot"
US = 1_000_000
SILENCE = 10.0  # wall-clock seconds an orchestrator may take to answer one line

#: name -> (command line, what builds it, what installs the toolchain)
ORCHESTRATORS = {
    "python": ([sys.executable, str(POLYGLOT / "python" / "orchestrator.py")], None, None),
    "go": ([str(POLYGLOT / "go" / "bin" / "orchestrator")], "make polyglot", "apt-get install golang-go"),
    "rust": ([str(POLYGLOT / "rust" / "target" / "release" / "orchestrator")], "make polyglot",
             "rustup (https://rustup.rs) or apt-get install cargo; offline, Debian's "
             "librust-serde-dev librust-serde-derive-dev librust-serde-json-dev"),
    "typescript": (["node", str(POLYGLOT / "typescript" / "dist" / "orchestrator.js")], "make polyglot",
                   "apt-get install nodejs npm"),
    # The outline's listings, ported onto the protocol with their control flow, bugs and all.
    "go-seed": ([str(POLYGLOT / "go" / "bin" / "seed-orchestrator")], "make polyglot", "apt-get install golang-go"),
    "rust-seed": ([str(POLYGLOT / "rust" / "target" / "release" / "seed-orchestrator")], "make polyglot",
                  "rustup (https://rustup.rs) or apt-get install cargo"),
    "typescript-seed": (["node", str(POLYGLOT / "typescript" / "dist" / "seed.js")], "make polyglot",
                        "apt-get install nodejs npm"),
}
LANGUAGES = ("python", "go", "rust", "typescript")


class ExternalOrchestratorError(RuntimeError):
    """An orchestrator process misbehaved: it said so, crashed, fell silent, or broke the protocol."""


class InProcessBrain:
    """The decision core in this process: the protocol without the pipes (fast, for tests)."""

    name = "decider"

    def __init__(self, workflow: dict, seed: int) -> None:
        self.workflow, self.seed = workflow, seed
        self.decider = Decider(workflow, seed)

    def activate(self, time_us: int, events: list, replay: bool = False) -> list:
        return self.decider.activate(events)  # the Python process (tests/test_protocol.py) proves it serialises

    def restart(self) -> "InProcessBrain":
        return InProcessBrain(self.workflow, self.seed)

    def close(self) -> None:
        pass


class ProcessBrain:
    """An orchestrator process: JSON lines in, JSON lines out, a deadline on every answer."""

    def __init__(self, name: str, argv: list[str], workflow: dict, seed: int, env: dict | None = None) -> None:
        self.name, self.argv, self.workflow, self.seed, self.extra_env = name, argv, workflow, seed, env
        env = dict(os.environ, PYTHONPATH=str(POLYGLOT.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   **(env or {}))
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, bufsize=1, env=env)
        except OSError as exc:
            raise ExternalOrchestratorError(f"could not start the {name} orchestrator ({argv[0]}): {exc}") from None
        answer = self._ask({"type": "hello", "protocol": 1, "seed": seed, "workflow": workflow})
        if answer.get("type") != "ready":
            raise ExternalOrchestratorError(f"the {name} orchestrator answered hello with {answer!r}")

    def _ask(self, message: dict) -> dict:
        line = json.dumps(message, separators=(",", ":"))
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died() from None
        ready, _, _ = select.select([self.proc.stdout], [], [], SILENCE)
        if not ready:
            self.close()
            raise ExternalOrchestratorError(f"the {self.name} orchestrator said nothing for {SILENCE:g} s after: "
                                            f"{line[:200]}")
        reply = self.proc.stdout.readline()
        if not reply:
            raise self._died()
        try:
            answer = json.loads(reply)
        except ValueError:
            raise ExternalOrchestratorError(f"the {self.name} orchestrator wrote a line that is not JSON: "
                                            f"{reply[:200]!r}") from None
        if answer.get("type") == "error":
            raise ExternalOrchestratorError(f"the {self.name} orchestrator refused its input: {answer.get('message')}")
        return answer

    def _died(self) -> ExternalOrchestratorError:
        self.proc.wait(timeout=SILENCE)
        err = (self.proc.stderr.read() or "").strip().splitlines()[-5:]
        return ExternalOrchestratorError(f"the {self.name} orchestrator exited with status {self.proc.returncode}"
                                         + (": " + " / ".join(err) if err else ""))

    def activate(self, time_us: int, events: list, replay: bool = False) -> list:
        answer = self._ask({"type": "activation", "time_us": time_us, "replay": replay, "events": events})
        if answer.get("type") != "commands" or answer.get("time_us") != time_us:
            raise ExternalOrchestratorError(f"the {self.name} orchestrator answered an activation at {time_us} µs "
                                            f"with {json.dumps(answer)[:200]}")
        return answer["commands"]

    def restart(self) -> "ProcessBrain":
        self.close()
        return ProcessBrain(self.name, self.argv, self.workflow, self.seed, self.extra_env)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"type":"shutdown"}\n')
                self.proc.stdin.flush()
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()


def brain_for(name: str, wf, seed: int):
    """The brain called `name` for workflow `wf`; a clear message if it is not built or installed.

    A listing's port takes the bugs to fix after a `+`: ``"go-seed+1,3"`` runs the Go listing with
    bugs 1 and 3 fixed (the process reads them from $SEED_FIXES).
    """
    workflow = canonical_workflow(wf)
    if name == "decider":
        return InProcessBrain(workflow, seed)
    name, _, fixes = name.partition("+")
    if name not in ORCHESTRATORS:
        choices = ", ".join(ORCHESTRATORS)
        raise ValueError(f"orchestrator must be one of {choices} (or None for the built-in runner); got {name!r}")
    argv, build, install = ORCHESTRATORS[name]
    program = argv[1] if argv[0] == "node" else argv[0]
    if argv[0] == "node" and shutil.which("node") is None:
        raise ValueError(f"the TypeScript orchestrator needs Node.js: {install}")
    if not pathlib.Path(program).exists() and shutil.which(program) is None:
        raise ValueError(f"the {name} orchestrator is not built ({program} is missing): run `{build}`"
                         + (f" — it needs its toolchain: {install}" if install else ""))
    return ProcessBrain(name, argv, workflow, seed, env={"SEED_FIXES": fixes} if fixes else None)


_OUTCOME_KIND = {("do", "error"): "attempt-failed", ("do", "timeout"): "attempt-timeout",
                 ("undo", "ok"): "compensation-ok", ("undo", "error"): "compensation-failed",
                 ("undo", "timeout"): "compensation-timeout"}
_STEP_KIND = {"completed": "step-completed", "failed": "step-failed", "skipped": "step-skipped",
              "compensated": "step-compensated", "exhausted": "compensation-exhausted"}


class ProtocolOrchestrator(Node):
    """The orchestrator node of the world, driven by a protocol brain."""

    def __init__(self, sim, wf, brain) -> None:
        super().__init__(sim, ORCHESTRATOR)
        self.wf, self.brain = wf, brain
        self.histories: dict[int, list] = {}   # durable: (time_us, events, commands) per activation
        self.inbox: list[dict] = []            # durable: events not yet delivered
        self.inflight: dict[tuple, str] = {}   # call key -> "request" or "broker"
        self.ended: dict[int, None] = {}
        self._flush_armed = False
        self.deadlines: dict[int, Deadlines] = {}  # one queue per distinct timeout (µs) asked for
        # How each call travels, worked out once: (phase, action) of a step → request?, service, target.
        self.routes: dict[tuple, tuple] = {}
        for step in wf.steps:
            self.routes[(step.name, "do", 0)] = (step.type == "sync-task", step.service,
                                                 step.endpoint or step.topic, "attempt-started", None)
            for n, act in enumerate(step.compensation):
                self.routes[(step.name, "undo", n)] = (act.is_request, act.service, act.target,
                                                       "compensation-started", act.target)
        sim.broker.subscribe(REPLIES, ORCHESTRATOR, self._on_event)

    # -- the inbox -------------------------------------------------------------------------
    def start_instance(self, i: int) -> None:
        self.sim.trace.add(self.sim.now, "instance-started", i, node=ORCHESTRATOR)
        self.histories[i] = []
        self.deliver({"kind": "start", "instance": i})

    def deliver(self, event: dict) -> None:
        if event["instance"] in self.ended:
            return  # a late result or a stale timer: after a restart, no orchestrator would know the instance
        self.inbox.append(event)
        if self.up and not self._flush_armed:
            self._flush()  # an activation per event as it happens; what waits for a restart goes as one

    def _flush(self) -> None:
        self._flush_armed = False
        if not self.up or not self.inbox:
            return
        self._flush_armed = True  # while this activation runs, new events wait for the next
        try:
            self._activate()
        finally:
            self._flush_armed = False
        if self.inbox and self.up:
            self._flush()

    def _activate(self) -> None:
        events, self.inbox = self.inbox, []
        time_us = round(self.sim.now * US)
        commands = self.brain.activate(time_us, events)
        if self.sim.crashes_after_steps:
            for c in commands:
                if c["cmd"] == "step" and c["status"] == "completed" and \
                        self.sim.crash_planned_after(ORCHESTRATOR, c["instance"], c["step"]):
                    # A crash planned right after this step completes: the orchestrator has the news but
                    # dies before its answer is committed. The events stay in the inbox; the restarted
                    # orchestrator receives them again and acts then (a workflow task is atomic in Temporal).
                    self.inbox = events + self.inbox
                    self.sim.step_completed(ORCHESTRATOR, c["instance"], c["step"])
                    return
        if not isinstance(self.brain, InProcessBrain):  # the core in this process is the reference itself
            self._check(commands)
        self._record(time_us, events, commands)
        execute = self.execute
        for command in commands:
            execute(command)

    def _check(self, commands) -> None:
        """Refuse, with the reason, a command the world cannot carry out (the orchestrator broke the protocol)."""
        for c in commands:
            problem = None
            if not isinstance(c, dict) or c.get("cmd") not in ("invoke", "timer", "step", "finish"):
                problem = "an unknown command"
            elif c.get("instance") not in self.histories:
                problem = f"a command for instance {c.get('instance')!r}, which was never started"
            elif c["cmd"] == "invoke" and (c.get("step"), c.get("phase"), c.get("action")) not in self.routes:
                problem = f"a call to {c.get('step')!r} ({c.get('phase')!r}, action {c.get('action')!r}), " \
                          "which the workflow does not have"
            elif c["cmd"] in ("step", "timer") and (c.get("step"), "do", 0) not in self.routes:
                # a timer needs only a step to name in the trace: its action is the orchestrator's own key
                # (the outline's TypeScript listing polls on a timer of its own)
                problem = f"a {c['cmd']} for step {c.get('step')!r}, which the workflow does not have"
            elif c["cmd"] == "step" and c.get("status") not in _STEP_KIND:
                problem = f"a step status {c.get('status')!r}"
            if problem:
                raise ExternalOrchestratorError(f"the {self.brain.name} orchestrator sent {problem}: "
                                                f"{json.dumps(c)[:200]}")

    def _record(self, time_us: int, events: list, commands: list) -> None:
        """Append the activation to each instance's durable history (its own events and commands)."""
        first = events[0]["instance"]
        if all(e["instance"] == first for e in events) and all(c["instance"] == first for c in commands):
            self.histories[first].append((time_us, events, commands))  # the common case: one instance
            return
        by_instance: dict[int, tuple[list, list]] = {}
        for e in events:
            by_instance.setdefault(e["instance"], ([], []))[0].append(e)
        for c in commands:
            by_instance.setdefault(c["instance"], ([], []))[1].append(c)
        for i, (evs, cmds) in by_instance.items():
            self.histories[i].append((time_us, evs, cmds))

    # -- commands ----------------------------------------------------------------------------
    def execute(self, c: dict) -> None:
        kind = c["cmd"]
        if kind == "invoke":  # the commonest command first
            self.invoke(c)
            return
        i, trace, now = c["instance"], self.sim.trace, self.sim.env.now
        if kind == "timer":
            key = (i, c["step"], c["phase"], c["action"], c["attempt"])
            delay = c["delay_us"] / US
            what = "retry-scheduled" if c["phase"] == "do" else "compensation-retry-scheduled"
            trace.add(now, what, i, c["step"], c["attempt"], ORCHESTRATOR, None, delay)
            self.sim.at(delay, self.deliver, {"kind": "timer", "instance": i, "step": key[1], "phase": key[2],
                                              "action": key[3], "attempt": key[4]})
        elif kind == "step":
            service = self.routes[(c["step"], "do", 0)][1]
            trace.add(now, _STEP_KIND[c["status"]], i, c["step"], c["attempt"], ORCHESTRATOR, service, c.get("info"))
        elif kind == "finish":
            trace.add(now, "instance-ended", i, None, None, ORCHESTRATOR, None, c["status"])
            self.ended[i] = None
        else:
            raise ExternalOrchestratorError(f"the {self.brain.name} orchestrator sent an unknown command "
                                            f"{json.dumps(c)[:200]}")

    def invoke(self, c: dict) -> None:
        i, name, phase, action, k = c["instance"], c["step"], c["phase"], c["action"], c["attempt"]
        request, service, target, started, info = self.routes[(name, phase, action)]
        sim = self.sim
        sim.trace.add(sim.env.now, started, i, name, k, ORCHESTRATOR, service, info)
        work = Work(i, name, phase, k, action)
        timeout = c["timeout_us"]
        if request:
            svc = sim.nodes[service]
            sim.network.send(ORCHESTRATOR, service, target, svc.serve_request,
                             (ORCHESTRATOR, target + " reply", work, self._on_reply), (i, name, k))
        else:
            sim.broker.publish(ORCHESTRATOR, target, (work, None if timeout is None else REPLIES), (i, name, k))
        if timeout is not None:  # awaited, with the deadline the orchestrator asked for
            key = (i, name, phase, action, k)
            self.inflight[key] = "request" if request else "broker"
            deadlines = self.deadlines.get(timeout)
            if deadlines is None:
                deadlines = self.deadlines[timeout] = Deadlines(sim, timeout / US, self._expire,
                                                                self.inflight.__contains__)
            deadlines.add(key)

    # -- outcomes ---------------------------------------------------------------------------------
    def _on_event(self, payload, ack) -> None:
        work, error = payload
        self._on_reply(work, error)
        ack()

    def _on_reply(self, work: Work, error) -> None:
        key = (work.instance, work.step, work.phase, work.action, work.attempt)
        if self.inflight.pop(key, None) is None:
            return  # late, or a duplicate: that call is settled
        self._outcome(key, "ok" if error is None else "error", error)

    def _expire(self, key) -> None:
        if self.inflight.pop(key, None) is not None:
            self._outcome(key, "timeout", "Timeout")

    def _outcome(self, key, outcome: str, error) -> None:
        i, name, phase, action, k = key
        kind = _OUTCOME_KIND.get((phase, outcome))
        if kind:
            self.sim.trace.add(self.sim.env.now, kind, i, name, k, ORCHESTRATOR, self.routes[(name, "do", 0)][1],
                               error)
        self.deliver({"kind": "result", "instance": i, "step": name, "phase": phase, "action": action,
                      "attempt": k, "outcome": outcome, "error": None if outcome == "ok" else error})

    # -- crash and recovery ---------------------------------------------------------------------------
    def on_crash(self) -> None:
        self.brain.close()
        self._flush_armed = False

    def on_restart(self) -> None:
        self.brain = self.brain.restart()
        for i in sorted(self.histories):
            if i in self.ended:
                continue
            self.sim.trace.add(self.sim.now, "instance-resumed", i, node=ORCHESTRATOR)
            for time_us, events, recorded in self.histories[i]:
                if not events:
                    continue
                answered = self.brain.activate(time_us, events, replay=True)
                if canonical_json(answered) != canonical_json(recorded):
                    raise ExternalOrchestratorError(
                        f"non-determinism: replaying instance {i}'s activation at {time_us} µs, the "
                        f"{self.brain.name} orchestrator answered {canonical_json(answered)[:300]} but had answered "
                        f"{canonical_json(recorded)[:300]}")
        lost = [key for key, via in self.inflight.items() if via == "request"]
        for key in lost:  # the replies of these calls died with the connection
            del self.inflight[key]
            self._outcome(key, "timeout", "Timeout")
        self._flush()

    def close(self) -> None:
        self.brain.close()
