// The decision core: the workflow rules of polyglot/PROTOCOL.md, events in, commands out.
//
// Pure and deterministic: no clock, no I/O, no randomness but the protocol's keyed draws. State is
// per instance; a step's task and its compensation task are small state machines whose states are
// discriminated unions, so an attempt number exists exactly when a call is running or waiting.

import { retryDelayUs } from "./backoff.js";
import { ProtocolError } from "./protocol.js";
import type {
  CallRef, Command, Event, InstanceFate, Phase, ResultEvent, RetryPolicy, StepFate, StepSpec, TimerEvent, Workflow,
} from "./protocol.js";

export type TaskState =
  | { readonly status: "pending" }
  | { readonly status: "running"; readonly attempt: number }
  | { readonly status: "waiting"; readonly attempt: number }
  | { readonly status: "done" }
  | { readonly status: "failed" }
  | { readonly status: "skipped" };

export type CompensationState =
  | { readonly status: "pending" }
  | { readonly status: "running"; readonly attempt: number }
  | { readonly status: "waiting"; readonly attempt: number }
  | { readonly status: "done" }
  | { readonly status: "exhausted" };

/** A step's own calls: `indefinite` once an attempt timed out (the work may have happened). */
interface Task {
  state: TaskState;
  indefinite: boolean;
  lastDelay: number | null;
}

/** A step's compensation: `action` is the index of the compensation action under way. */
interface Compensation {
  state: CompensationState;
  action: number;
  lastDelay: number | null;
}

interface Instance {
  readonly id: number;
  readonly tasks: Task[]; // indexed like Plan.steps
  readonly compensations: Compensation[];
  aborted: boolean;
  ended: boolean;
}

const PENDING = { status: "pending" } as const;
const DONE = { status: "done" } as const;

/** The workflow compiled once: steps by index, the topological order and each step's descendants. */
export class Plan {
  readonly steps: readonly StepSpec[];
  readonly order: readonly number[];
  readonly reverse: readonly number[];
  readonly dependencies: readonly (readonly number[])[];
  readonly descendants: readonly (readonly number[])[];
  private readonly index: ReadonlyMap<string, number>;

  constructor(readonly workflow: Workflow) {
    this.steps = workflow.steps;
    this.index = new Map(this.steps.map((s, i) => [s.name, i]));
    this.dependencies = this.steps.map((s) => s.dependsOn.map((d) => this.indexOf(d)));
    this.order = topologicalOrder(this.dependencies);
    if (this.order.length < this.steps.length) {
      const stuck = this.steps.filter((_, i) => !this.order.includes(i)).map((s) => s.name);
      throw new ProtocolError(`workflow: the dependencies of ${stuck.join(", ")} form a cycle`);
    }
    this.reverse = [...this.order].reverse();
    this.descendants = this.steps.map((_, i) => this.order.filter((j) => ancestors(this.dependencies, j).has(i)));
  }

  indexOf(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new ProtocolError(`the workflow has no step "${name}"`);
    return i;
  }
}

/** Kahn's algorithm: ready steps first-in first-out, the roots in declaration order. */
export function topologicalOrder(dependencies: readonly (readonly number[])[]): number[] {
  const indegree = dependencies.map((deps) => deps.length);
  const dependents: number[][] = dependencies.map(() => []);
  dependencies.forEach((deps, i) => deps.forEach((d) => dependents[d]?.push(i)));
  const ready = indegree.flatMap((n, i) => (n === 0 ? [i] : []));
  const order: number[] = [];
  for (let next = ready.shift(); next !== undefined; next = ready.shift()) {
    order.push(next);
    for (const d of dependents[next] ?? []) {
      const left = (indegree[d] ?? 0) - 1;
      indegree[d] = left;
      if (left === 0) ready.push(d);
    }
  }
  return order;
}

function ancestors(dependencies: readonly (readonly number[])[], i: number): Set<number> {
  const seen = new Set<number>();
  const stack = [...(dependencies[i] ?? [])];
  for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
    if (!seen.has(d)) {
      seen.add(d);
      stack.push(...(dependencies[d] ?? []));
    }
  }
  return seen;
}

const at = <T>(xs: readonly T[], i: number): T => {
  const x = xs[i];
  if (x === undefined) throw new RangeError(`no element ${i}`);
  return x;
};

/** One orchestrator's state: feed it an activation's events, get its commands. */
export class Decider {
  readonly plan: Plan;
  private readonly instances = new Map<number, Instance>();
  private out: Command[] = [];

  constructor(workflow: Workflow, private readonly seed: bigint) {
    this.plan = new Plan(workflow);
  }

  /** Handles the events in order and returns the commands they call for, in order. */
  activate(events: readonly Event[]): Command[] {
    this.out = [];
    for (const event of events) {
      switch (event.kind) {
        case "start":
          this.start(event.instance);
          break;
        case "result":
          this.result(event);
          break;
        case "timer":
          this.timer(event);
          break;
      }
    }
    return this.out;
  }

  // -- events --------------------------------------------------------------------------------------

  private start(id: number): void {
    if (this.instances.has(id)) throw new ProtocolError(`instance ${id} started twice`);
    const n = this.plan.steps.length;
    const instance: Instance = {
      id, aborted: false, ended: false,
      tasks: Array.from({ length: n }, () => ({ state: PENDING, indefinite: false, lastDelay: null })),
      compensations: Array.from({ length: n }, () => ({ state: PENDING, action: 0, lastDelay: null })),
    };
    this.instances.set(id, instance);
    this.advance(instance);
  }

  private named(ref: CallRef): [Instance, number] {
    const instance = this.instances.get(ref.instance);
    if (instance === undefined) throw new ProtocolError(`an event for instance ${ref.instance}, which was never started`);
    return [instance, this.plan.indexOf(ref.step)];
  }

  private result(ref: ResultEvent): void {
    const [instance, s] = this.named(ref);
    if (instance.ended) return;
    const { outcome } = ref;
    const failure = outcome === "timeout" ? "Timeout" : ref.error;
    if (ref.phase === "do") {
      const task = at(instance.tasks, s);
      if (task.state.status !== "running" || task.state.attempt !== ref.attempt) return; // late or duplicate
      if (outcome === "ok") {
        task.state = DONE;
        this.emitStep(instance, s, "completed", ref.attempt, null);
        this.advance(instance);
      } else {
        task.indefinite ||= outcome === "timeout";
        this.afterFailure(instance, s, ref.attempt, failure);
      }
      return;
    }
    const comp = at(instance.compensations, s);
    if (comp.state.status !== "running" || comp.state.attempt !== ref.attempt || comp.action !== ref.action) return;
    if (outcome !== "ok") {
      this.afterCompensationFailure(instance, s, ref.attempt, failure);
      return;
    }
    comp.action += 1;
    comp.lastDelay = null;
    if (comp.action < at(this.plan.steps, s).compensations) {
      this.startCompensation(instance, s, 1);
    } else {
      comp.state = DONE;
      this.emitStep(instance, s, "compensated", null, null);
      this.advance(instance);
    }
  }

  private timer(ref: TimerEvent): void {
    const [instance, s] = this.named(ref);
    if (instance.ended) return;
    if (ref.phase === "do") {
      const task = at(instance.tasks, s);
      if (task.state.status === "waiting" && task.state.attempt === ref.attempt && !instance.aborted) {
        this.startAttempt(instance, s, ref.attempt);
      }
    } else {
      const comp = at(instance.compensations, s);
      if (comp.state.status === "waiting" && comp.state.attempt === ref.attempt && comp.action === ref.action) {
        this.startCompensation(instance, s, ref.attempt);
      }
    }
  }

  // -- rules ---------------------------------------------------------------------------------------

  /** A step is owed a compensation when it has actions and its work is done or may have happened. */
  private owed(instance: Instance, s: number): boolean {
    const task = at(instance.tasks, s);
    return at(this.plan.steps, s).compensations > 0 && (task.state.status === "done" || task.indefinite);
  }

  private advance(instance: Instance): void {
    if (instance.ended) return;
    const { tasks, compensations } = instance;
    if (!instance.aborted) {
      for (const s of this.plan.order) {
        if (at(tasks, s).state.status === "pending" &&
            at(this.plan.dependencies, s).every((d) => at(tasks, d).state.status === "done")) {
          this.startAttempt(instance, s, 1);
        }
      }
      if (tasks.every((t) => t.state.status === "done")) this.finish(instance, "completed");
      return;
    }
    if (tasks.some((t) => t.state.status === "running")) return; // in-flight attempts settle first
    let busy = false;
    for (const s of this.plan.reverse) {
      const status = at(compensations, s).state.status;
      if (!this.owed(instance, s) || status === "done" || status === "exhausted") continue;
      if (status === "running" || status === "waiting") {
        busy = true;
      } else if (at(this.plan.descendants, s).every(
          (d) => !this.owed(instance, d) || at(compensations, d).state.status === "done")) {
        this.startCompensation(instance, s, 1);
        busy = true;
      }
    }
    if (busy || compensations.some((c) => c.state.status === "running" || c.state.status === "waiting")) return;
    const owed = this.plan.order.filter((s) => this.owed(instance, s));
    if (owed.some((s) => at(compensations, s).state.status !== "done")) this.finish(instance, "needs_intervention");
    else this.finish(instance, owed.length > 0 ? "compensated" : "failed");
  }

  private startAttempt(instance: Instance, s: number, attempt: number): void {
    const step = at(this.plan.steps, s);
    const task = at(instance.tasks, s);
    const awaited = step.type !== "fire-and-forget";
    task.state = { status: "running", attempt };
    this.out.push({
      cmd: "invoke", instance: instance.id, step: step.name, phase: "do", action: 0, attempt,
      timeout_us: awaited ? step.timeoutUs : null,
    });
    if (!awaited) { // published, never awaited: done at once
      task.state = DONE;
      this.emitStep(instance, s, "completed", attempt, "published");
    }
  }

  private startCompensation(instance: Instance, s: number, attempt: number): void {
    const step = at(this.plan.steps, s);
    const comp = at(instance.compensations, s);
    comp.state = { status: "running", attempt };
    this.out.push({
      cmd: "invoke", instance: instance.id, step: step.name, phase: "undo", action: comp.action, attempt,
      timeout_us: step.timeoutUs,
    });
  }

  private afterFailure(instance: Instance, s: number, attempt: number, error: string | null): void {
    const task = at(instance.tasks, s);
    const policy = at(this.plan.steps, s).retry;
    const retryable = error === null || !policy.nonRetryable.includes(error);
    if (!instance.aborted && retryable && attempt < policy.maxAttempts) {
      task.lastDelay = this.wait(instance, s, "do", 0, attempt, task.lastDelay, policy);
      task.state = { status: "waiting", attempt: attempt + 1 };
      return;
    }
    task.state = { status: "failed" };
    this.emitStep(instance, s, "failed", attempt, task.indefinite ? "indefinite" : "definite");
    this.abort(instance);
    this.advance(instance);
  }

  private afterCompensationFailure(instance: Instance, s: number, attempt: number, error: string | null): void {
    const comp = at(instance.compensations, s);
    const policy = this.plan.workflow.compensationRetry;
    if (attempt < policy.maxAttempts) {
      comp.lastDelay = this.wait(instance, s, "undo", comp.action, attempt, comp.lastDelay, policy);
      comp.state = { status: "waiting", attempt: attempt + 1 };
      return;
    }
    comp.state = { status: "exhausted" };
    this.emitStep(instance, s, "exhausted", attempt, error);
    this.advance(instance);
  }

  /** Emits the timer before attempt k + 1 and returns its delay (the task's new last delay). */
  private wait(instance: Instance, s: number, phase: Phase, action: number, k: number, last: number | null,
               policy: RetryPolicy): number {
    const step = at(this.plan.steps, s);
    const delay = retryDelayUs(this.seed, policy, instance.id, step.name, phase, action, k, last);
    this.out.push({
      cmd: "timer", instance: instance.id, step: step.name, phase, action, attempt: k + 1, delay_us: delay,
    });
    return delay;
  }

  private abort(instance: Instance): void {
    instance.aborted = true;
    for (const s of this.plan.order) {
      const task = at(instance.tasks, s);
      if (task.state.status === "pending") {
        task.state = { status: "skipped" };
        this.emitStep(instance, s, "skipped", null, null);
      } else if (task.state.status === "waiting") {
        const { attempt } = task.state;
        task.state = { status: "failed" };
        this.emitStep(instance, s, "failed", attempt, task.indefinite ? "indefinite" : "definite");
      }
    }
  }

  private finish(instance: Instance, status: InstanceFate): void {
    instance.ended = true;
    this.out.push({ cmd: "finish", instance: instance.id, status });
  }

  private emitStep(instance: Instance, s: number, status: StepFate, attempt: number | null, info: string | null): void {
    this.out.push({ cmd: "step", instance: instance.id, step: at(this.plan.steps, s).name, status, attempt, info });
  }
}
