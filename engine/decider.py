"""The orchestrator's decision core, as polyglot/PROTOCOL.md specifies it: events in, commands out.

Pure: no clock, no I/O, no randomness but the protocol's keyed draws. The
Python protocol orchestrator (polyglot/python/) wraps it in a stdin/stdout
loop; the Go, Rust and TypeScript orchestrators implement the same rules and
must answer every activation with the same commands.
"""

from __future__ import annotations

import json

__all__ = ["Decider", "canonical_workflow", "delay_us", "rand", "fnv1a64", "splitmix64", "MASK"]

MASK = (1 << 64) - 1
US = 1_000_000
MAX_US = (1 << 32) - 1


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def splitmix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def rand(seed: int, instance: int, step: str, phase: str, action: int, k: int) -> int:
    """The protocol's keyed draw: 64 random bits for one wait, the same in every language."""
    return splitmix64(seed ^ fnv1a64(f"{instance}/{step}/{phase}/{action}/{k}".encode()))


def delay_us(policy: dict, k: int, last: int | None, u32: int) -> int:
    """The wait before attempt k + 1 (PROTOCOL.md, delay(k)); u32 is the draw's top 32 bits."""
    i, b, m = policy["initial_us"], policy["coefficient_milli"], policy["max_us"]
    if policy["backoff"] == "exponential":
        d = i
        for _ in range(k - 1):
            d = min(m, d * b // 1000)
    elif policy["backoff"] == "linear":
        d = min(m, i * k)
    else:
        d = min(m, i)
    jitter = policy["jitter"]

    def f(x: int) -> int:
        return (u32 * x) >> 32

    if jitter == "none":
        return d
    if jitter == "full":
        return f(d)
    if jitter == "equal":
        return d // 2 + f(d - d // 2)
    p = last if last is not None else i
    hi = max(i, 3 * p)
    return min(m, i + f(hi - i))


def _us(seconds: float) -> int:
    us = round(seconds * US)
    if not 0 <= us <= MAX_US:
        raise ValueError(f"the protocol carries durations up to {MAX_US} µs (about 71 minutes); got {seconds} s")
    return us


def _policy(p) -> dict:
    cap = p.cap if p.cap != float("inf") else MAX_US / US
    return {"max_attempts": p.max_attempts, "backoff": p.backoff, "initial_us": _us(p.initial_interval),
            "coefficient_milli": round(p.backoff_coefficient * 1000), "max_us": _us(min(cap, MAX_US / US)),
            "jitter": p.jitter, "non_retryable": list(p.non_retryable_errors)}


def canonical_workflow(wf) -> dict:
    """The workflow as the protocol carries it (json.dumps with sort_keys for the canonical text)."""
    return {
        "name": wf.name, "version": wf.version,
        "steps": [{"name": s.name, "type": s.type, "service": s.service, "endpoint": s.endpoint, "topic": s.topic,
                   "depends_on": list(s.depends_on), "timeout_us": _us(s.timeout), "retry": _policy(s.retry),
                   "compensation": [{"service": a.service, "topic": a.topic, "endpoint": a.endpoint}
                                    for a in s.compensation]}
                  for s in wf.steps],
        "compensation_retry": _policy(wf.compensation_retry),
    }


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class _Task:
    __slots__ = ("status", "attempt", "indefinite", "last_delay", "action")

    def __init__(self) -> None:
        self.status, self.attempt, self.indefinite, self.last_delay, self.action = "pending", 0, False, None, 0


class _Instance:
    def __init__(self, names) -> None:
        self.steps = {n: _Task() for n in names}
        self.comps = {n: _Task() for n in names}
        self.aborted = False
        self.ended = False


class DeciderError(ValueError):
    """Input the protocol does not allow; the message says what and where."""


class Decider:
    """One orchestrator's state: feed it activations' events, collect its commands."""

    def __init__(self, workflow: dict, seed: int) -> None:
        self.wf = workflow
        self.seed = seed
        self.steps = {s["name"]: s for s in workflow["steps"]}
        self.order = _topological(workflow["steps"])
        self.deps = tuple((n, tuple(self.steps[n]["depends_on"])) for n in self.order)
        self.descendants = {n: [d for d in self.order if n in _ancestors(self.steps, d)] for n in self.order}
        self.instances: dict[int, _Instance] = {}
        self.out: list[dict] = []

    # -- the entry point -------------------------------------------------------------
    def activate(self, events: list[dict]) -> list[dict]:
        self.out = []
        for event in events:
            kind = event.get("kind")
            if kind == "start":
                i = _field(event, "instance")
                if i in self.instances:
                    raise DeciderError(f"instance {i} started twice")
                self.instances[i] = _Instance(self.order)
                self.advance(i)
            elif kind == "result":
                self.result(*self._name(event), event["outcome"], event.get("error"))
            elif kind == "timer":
                self.timer(*self._name(event))
            else:
                raise DeciderError(f"unknown event kind {kind!r}")
        return self.out

    def _name(self, event) -> tuple:
        try:
            i, step = event["instance"], event["step"]
            named = (i, step, event["phase"], event["action"], event["attempt"])
        except KeyError as missing:
            raise DeciderError(f"event {event.get('kind')!r} lacks {missing}") from None
        if i not in self.instances:
            raise DeciderError(f"an event for instance {i}, which was never started")
        if step not in self.steps:
            raise DeciderError(f"an event for step {step!r}, which the workflow does not have")
        return named

    def emit(self, **command) -> None:
        self.out.append(command)

    # -- rules ---------------------------------------------------------------------------
    def owed(self, s: _Instance, name: str) -> bool:
        t = s.steps[name]
        return bool(self.steps[name]["compensation"]) and (t.status == "done" or t.indefinite)

    def advance(self, i: int) -> None:
        s = self.instances[i]
        if s.ended:
            return
        if not s.aborted:
            steps = s.steps
            for name, deps in self.deps:
                if steps[name].status != "pending":
                    continue
                for d in deps:
                    if steps[d].status != "done":
                        break
                else:
                    self.start_attempt(i, name, 1)
            for t in steps.values():
                if t.status != "done":
                    return
            self.finish(i, "completed")
            return
        if any(t.status == "running" for t in s.steps.values()):
            return
        busy = False
        for name in reversed(self.order):
            comp = s.comps[name]
            if not self.owed(s, name) or comp.status in ("done", "exhausted"):
                continue
            if comp.status in ("running", "waiting"):
                busy = True
            elif all(not self.owed(s, d) or s.comps[d].status == "done" for d in self.descendants[name]):
                self.start_compensation(i, name, 1)
                busy = True
        if not busy and not any(c.status in ("running", "waiting") for c in s.comps.values()):
            owed = [n for n in self.order if self.owed(s, n)]
            if any(s.comps[n].status != "done" for n in owed):
                self.finish(i, "needs_intervention")
            else:
                self.finish(i, "compensated" if owed else "failed")

    def finish(self, i: int, status: str) -> None:
        self.instances[i].ended = True
        self.emit(cmd="finish", instance=i, status=status)

    def start_attempt(self, i: int, name: str, k: int) -> None:
        step, task = self.steps[name], self.instances[i].steps[name]
        task.status, task.attempt = "running", k
        awaited = step["type"] != "fire-and-forget"
        self.emit(cmd="invoke", instance=i, step=name, phase="do", action=0, attempt=k,
                  timeout_us=step["timeout_us"] if awaited else None)
        if not awaited:
            task.status = "done"
            self.emit(cmd="step", instance=i, step=name, status="completed", attempt=k, info="published")

    def start_compensation(self, i: int, name: str, k: int) -> None:
        comp = self.instances[i].comps[name]
        comp.status, comp.attempt = "running", k
        self.emit(cmd="invoke", instance=i, step=name, phase="undo", action=comp.action, attempt=k,
                  timeout_us=self.steps[name]["timeout_us"])

    def result(self, i, name, phase, action, attempt, outcome, error) -> None:
        s = self.instances[i]
        if outcome not in ("ok", "error", "timeout"):
            raise DeciderError(f"unknown outcome {outcome!r}")
        if s.ended:
            return
        task = (s.steps if phase == "do" else s.comps)[name]
        if task.status != "running" or task.attempt != attempt or (phase == "undo" and task.action != action):
            return
        if phase == "do":
            if outcome == "ok":
                task.status = "done"
                self.emit(cmd="step", instance=i, step=name, status="completed", attempt=attempt, info=None)
                self.advance(i)
                return
            task.indefinite = task.indefinite or outcome == "timeout"
            task.status = "between"
            self.after_failure(i, name, attempt, "Timeout" if outcome == "timeout" else error)
            return
        if outcome == "ok":
            task.action, task.attempt, task.last_delay = task.action + 1, 0, None
            if task.action >= len(self.steps[name]["compensation"]):
                task.status = "done"
                self.emit(cmd="step", instance=i, step=name, status="compensated", attempt=None, info=None)
                self.advance(i)
            else:
                self.start_compensation(i, name, 1)
            return
        task.status = "between"
        self.after_compensation_failure(i, name, attempt, "Timeout" if outcome == "timeout" else error)

    def after_failure(self, i: int, name: str, k: int, error) -> None:
        s, step = self.instances[i], self.steps[name]
        task, policy = s.steps[name], step["retry"]
        if not s.aborted and error not in policy["non_retryable"] and k < policy["max_attempts"]:
            self.wait(i, name, "do", 0, k, task, policy)
            return
        task.status = "failed"
        self.emit(cmd="step", instance=i, step=name, status="failed", attempt=k,
                  info="indefinite" if task.indefinite else "definite")
        self.abort(i)
        self.advance(i)

    def after_compensation_failure(self, i: int, name: str, k: int, error) -> None:
        comp, policy = self.instances[i].comps[name], self.wf["compensation_retry"]
        if k < policy["max_attempts"]:
            self.wait(i, name, "undo", comp.action, k, comp, policy)
            return
        comp.status = "exhausted"
        self.emit(cmd="step", instance=i, step=name, status="exhausted", attempt=k, info=error)
        self.advance(i)

    def wait(self, i, name, phase, action, k, task, policy) -> None:
        u32 = rand(self.seed, i, name, phase, action, k) >> 32
        d = delay_us(policy, k, task.last_delay, u32)
        task.status, task.last_delay, task.attempt = "waiting", d, k + 1
        self.emit(cmd="timer", instance=i, step=name, phase=phase, action=action, attempt=k + 1, delay_us=d)

    def abort(self, i: int) -> None:
        s = self.instances[i]
        s.aborted = True
        for name in self.order:
            task = s.steps[name]
            if task.status == "pending":
                task.status = "skipped"
                self.emit(cmd="step", instance=i, step=name, status="skipped", attempt=None, info=None)
            elif task.status == "waiting":
                task.status = "failed"
                self.emit(cmd="step", instance=i, step=name, status="failed", attempt=task.attempt,
                          info="indefinite" if task.indefinite else "definite")

    def timer(self, i, name, phase, action, attempt) -> None:
        s = self.instances[i]
        if s.ended:
            return
        task = (s.steps if phase == "do" else s.comps)[name]
        if task.status != "waiting" or task.attempt != attempt:
            return
        if phase == "do":
            if not s.aborted:
                self.start_attempt(i, name, attempt)
        elif task.action == action:
            self.start_compensation(i, name, attempt)


def _field(event: dict, key: str):
    if key not in event:
        raise DeciderError(f"event {event.get('kind')!r} lacks {key!r}")
    return event[key]


def _topological(steps: list[dict]) -> list[str]:
    indegree = {s["name"]: len(s["depends_on"]) for s in steps}
    dependents: dict[str, list[str]] = {s["name"]: [] for s in steps}
    for s in steps:
        for d in s["depends_on"]:
            dependents[d].append(s["name"])
    ready = [s["name"] for s in steps if not s["depends_on"]]
    order = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for d in dependents[name]:
            indegree[d] -= 1
            if indegree[d] == 0:
                ready.append(d)
    return order


def _ancestors(steps: dict, name: str) -> set:
    seen: set = set()
    stack = list(steps[name]["depends_on"])
    while stack:
        d = stack.pop()
        if d not in seen:
            seen.add(d)
            stack.extend(steps[d]["depends_on"])
    return seen
