// The outline's TypeScript listing ("Phase 2: Multi-Language Implementation"), ported onto
// polyglot/PROTOCOL.md with its control flow — and its bugs — kept, so that the course's simulator
// and checker can show each bug happening. polyglot/LISTINGS.md numbers the bugs; each one can be
// fixed on its own (SEED_FIXES="1,4"), by the smallest change a reviewer would make, so a learner
// can peel them one at a time. `fixed(n)` marks every place where a fix changes the code.
//
// What the listing leaves undefined (WorkflowState, WorkflowDefinition, Task, TaskExecutor, …) is
// defined here as plainly as the listing uses it. The calls, sleeps and records go through
// ListingWorld (listing-world.ts), which turns them into protocol commands and events:
//
//   executor.execute(task.parameters)        -> `invoke`; its answer is the `result` event
//   createTimeoutPromise(task.timeoutMs || 30000)
//                                            -> the world's deadline on that call: the step's own
//                                               timeout for a step, the listing's 30 s default for a
//                                               compensation task (it has no timeoutMs); a `timeout`
//                                               result rejects this promise
//   await setTimeout(delay)                  -> `timer`, woken by the `timer` event
//   state.markTaskCompleted(task.id, …)      -> `step completed`
//   state.markWorkflowFailed(task.id, error) -> `step failed`
//   logger: 'Compensation task completed'    -> `step compensated` (once all of a step's are)
//   logger: 'Compensation task failed'       -> `step exhausted`
//   executeWorkflow resolves / rejects       -> `finish` with its result's status / `failed`
//
// All other logging is dropped: the protocol has nothing to say it with. The retry loop is the
// listing's own: `maxAttempts = 3, backoffMs = 1000`, waiting backoffMs × 2^(attempt−1) — for every
// step and compensation alike, because the listing's Task.retryPolicy has no place for the course's
// retry_policy (its `backoff: exponential` is a word, not the listing's `backoffMs`), so the listing's
// defaults apply; no jitter, no cap (but the protocol's 2^32 − 1 µs). Everything is integer µs.

import type { Call, ListingWorld, Target } from "./listing-world.js";
import { ServiceError, TimeoutError } from "./listing-world.js";
import type { InstanceFate, StepSpec, StepType, Workflow } from "./protocol.js";
import { ProtocolError } from "./protocol.js";

/** The listing's bugs, as polyglot/LISTINGS.md numbers them (TypeScript section). */
export const BUGS: ReadonlyMap<number, string> = new Map([
  [1, "the .then/.catch wrapper makes Promise.allSettled report every task fulfilled"],
  [2, "await Promise.allSettled waits for the whole wave"],
  [3, "Promise.race's timeout does not cancel the call: the retry runs beside it"],
  [4, "handleTaskFailure compensates only the failed step"],
  [5, "all state lives in memory: a crash loses every workflow in flight"],
  [6, "the loop polls every 100 ms when nothing is ready"],
  [7, "taskResult.duration of an undefined result throws a TypeError out of the workflow"],
  [8, "a compensation that fails is only logged: the workflow ends failed, not needing intervention"],
  [9, "a wave's results are handled in order: a failure is compensated before later successes are recorded"],
]);

/** SEED_FIXES ("1,3"): the bugs to fix. Refuses numbers that are not bugs of this listing. */
export function parseFixes(text: string | undefined): ReadonlySet<number> {
  const fixes = new Set<number>();
  for (const part of (text ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const n = /^[0-9]+$/.test(part) ? Number(part) : NaN;
    if (!BUGS.has(n)) {
      throw new ProtocolError(`SEED_FIXES: ${JSON.stringify(part)} is not a bug of the TypeScript listing ` +
                              `(1 to ${BUGS.size}, see polyglot/LISTINGS.md)`);
    }
    fixes.add(n);
  }
  return fixes;
}

const POLL_US = 100_000;            // setTimeout(100)
const DEFAULT_TIMEOUT_US = 30_000_000; // task.timeoutMs || 30000
const MAX_DURATION_US = 2 ** 32 - 1;   // the protocol's longest wait

// -- what the listing leaves undefined -------------------------------------------------------------

type TaskType = StepType | "compensation";

interface RetryPolicy {
  readonly maxAttempts?: number;
  readonly backoffMs?: number;
}

/** A step of one instance, or one of its compensation actions; `trial` is what its calls did. */
export interface Task {
  readonly id: string;
  readonly type: TaskType;
  readonly parameters: Target;
  readonly timeoutUs?: number; // the listing's timeoutMs, counted in µs as the protocol does
  readonly retryPolicy?: RetryPolicy;
  readonly dependsOn: readonly string[];
  readonly trial: { attempt: number; timedOut: boolean };
}

interface TaskResult {
  readonly taskId: string;
  readonly status: "completed";
  readonly output: void;
  readonly duration: number;
}

interface WorkflowResult {
  readonly status: InstanceFate;
}

/** What `executeTaskWithRetry(task)` settled with, as the listing's `.then(...).catch(...)` wraps it. */
type Settled =
  | { readonly status: "fulfilled"; readonly value: TaskResult; readonly task: Task }
  | { readonly status: "rejected"; readonly reason: unknown; readonly task: Task };
type Rejected = Extract<Settled, { status: "rejected" }>;

/** Calls a task's service: one attempt of one task. */
interface TaskExecutor {
  execute(task: Task, attempt: number): Call;
}

export class WorkflowDefinition {
  constructor(readonly workflow: Workflow) {}

  tasks(instance: number): Task[] {
    return this.workflow.steps.map((s: StepSpec): Task => ({
      id: s.name, type: s.type, dependsOn: s.dependsOn, timeoutUs: s.timeoutUs,
      parameters: { instance, step: s.name, phase: "do", action: 0 }, trial: { attempt: 0, timedOut: false },
    }));
  }

  /** `definition.compensations?.[taskId]`: the step's compensation actions, in order, as tasks. */
  compensations(instance: number, taskId: string): Task[] | undefined {
    const spec = this.workflow.steps.find((s) => s.name === taskId);
    if (spec === undefined || spec.compensations === 0) return undefined;
    return Array.from({ length: spec.compensations }, (_, action): Task => ({
      id: `${taskId}#undo${action}`, type: "compensation", dependsOn: [],
      parameters: { instance, step: taskId, phase: "undo", action }, trial: { attempt: 0, timedOut: false },
    }));
  }
}

type TaskStatus = "pending" | "running" | "completed" | "failed";

/** One workflow in flight, in memory only (`this.workflowStates`). */
export class WorkflowState {
  readonly tasks: Task[];
  private readonly status = new Map<string, TaskStatus>();
  private readonly completed: Task[] = []; // in the order they completed
  private readonly unwound = new Set<string>(); // compensated, or tried and given up
  private failed = false;
  private aborted = false;
  private compensationGaveUp = false;
  private polls = 0;

  constructor(readonly workflowId: number, readonly definition: WorkflowDefinition, private readonly world: ListingWorld,
              private readonly fixes: ReadonlySet<number>) {
    this.tasks = definition.tasks(workflowId);
    for (const t of this.tasks) this.status.set(t.id, "pending");
  }

  isComplete(): boolean {
    return this.failed || this.tasks.every((t) => this.status.get(t.id) === "completed");
  }

  /** Tasks not started whose dependencies all completed, in declaration order; none once aborted. */
  getReadyTasks(): Task[] {
    if (this.aborted) return [];
    return this.tasks.filter((t) => this.status.get(t.id) === "pending" &&
                                    t.dependsOn.every((d) => this.status.get(d) === "completed"));
  }

  /** The number of the next 100 ms poll of this workflow. */
  nextPoll(): number {
    this.polls += 1;
    return this.polls;
  }

  running(): Task[] {
    return this.tasks.filter((t) => this.status.get(t.id) === "running");
  }

  markTaskRunning(task: Task): void {
    this.status.set(task.id, "running");
  }

  /** `markTaskCompleted(task.id, taskResult)`; the trace's info says when the result was `undefined`. */
  markTaskCompleted(task: Task, result: TaskResult | undefined): void {
    this.status.set(task.id, "completed");
    this.completed.push(task);
    this.world.step(this.workflowId, task.id, "completed", task.trial.attempt, result === undefined ? "undefined" : null);
  }

  /** A failure is known, but tasks are still in flight: start nothing new (with 2 fixed). */
  abort(): void {
    this.aborted = true;
  }

  markWorkflowFailed(task: Task, _error: Error): void {
    this.failed = true;
    this.status.set(task.id, "failed");
    this.world.step(this.workflowId, task.id, "failed", task.trial.attempt, task.trial.timedOut ? "indefinite" : "definite");
  }

  markCompensated(task: Task): void {
    this.unwound.add(task.id);
    this.world.step(this.workflowId, task.id, "compensated", null, null);
  }

  markCompensationFailed(task: Task, action: Task, error: unknown): void {
    this.unwound.add(task.id);
    this.compensationGaveUp = true;
    const name = error instanceof ServiceError || error instanceof TimeoutError ? error.error : "Error";
    this.world.step(this.workflowId, task.id, "exhausted", action.trial.attempt, name);
  }

  /**
   * Fix 4: the steps whose work took effect or may have, that no earlier failure already compensated:
   * first those that failed after a call timed out (the failed one among them; none of their
   * dependents ran), then every completed one, newest first — dependents before their dependencies.
   */
  toCompensate(): Task[] {
    const timedOut = this.tasks.filter((t) => t.trial.timedOut && this.status.get(t.id) !== "completed");
    return [...timedOut, ...[...this.completed].reverse()].filter((t) => !this.unwound.has(t.id));
  }

  getResult(): WorkflowResult {
    if (!this.failed) return { status: "completed" };
    // BUG 8: a compensation that gave up was only logged; the result says failed either way.
    return { status: this.fixes.has(8) && this.compensationGaveUp ? "needs_intervention" : "failed" };
  }
}

/** `taskResult.duration` when taskResult is undefined: the error Node throws, as a type of its own. */
export class ListingTypeError extends TypeError {}

// -- the listing -----------------------------------------------------------------------------------

export class WorkflowOrchestrator {
  private readonly workflowStates = new Map<number, WorkflowState>();
  private readonly taskExecutors: ReadonlyMap<TaskType, TaskExecutor>;

  constructor(private readonly world: ListingWorld, private readonly definition: WorkflowDefinition,
              private readonly fixes: ReadonlySet<number>) {
    const call: TaskExecutor = {
      execute: (task, attempt) => {
        task.trial.attempt = attempt;
        const timeoutUs = task.type === "fire-and-forget" ? null : task.timeoutUs || DEFAULT_TIMEOUT_US;
        const c = world.invoke(task.parameters, attempt, timeoutUs);
        c.deadline.catch(() => { task.trial.timedOut = true; });
        return c;
      },
    };
    this.taskExecutors = new Map<TaskType, TaskExecutor>(
      (["sync-task", "async-task", "fire-and-forget", "compensation"] as const).map((t) => [t, call]));
  }

  private fixed(bug: number): boolean {
    return this.fixes.has(bug);
  }

  /** An order arrived: run its workflow, as whoever calls executeWorkflow would; its end is `finish`. */
  start(workflowId: number): void {
    this.executeWorkflow(workflowId, this.definition).then(
      (result) => this.world.finish(workflowId, result.status),
      (error: unknown) => {
        if (error instanceof ListingTypeError) this.world.finish(workflowId, "failed");
        else this.world.fail(error); // a fault of this port, not of the listing
      });
  }

  async executeWorkflow(workflowId: number, definition: WorkflowDefinition): Promise<WorkflowResult> {
    const state = new WorkflowState(workflowId, definition, this.world, this.fixes);
    this.workflowStates.set(workflowId, state); // BUG 5: in memory only; a crash loses it
    try {
      if (this.fixed(2)) await this.runAsTasksSettle(state);
      else await this.runInWaves(state);
      return state.getResult();
    } catch (error: unknown) {
      // this.logger.error('Workflow execution failed', …) — dropped
      throw error;
    } finally {
      this.workflowStates.delete(workflowId);
    }
  }

  /** The listing's loop. */
  private async runInWaves(state: WorkflowState): Promise<void> {
    while (!state.isComplete()) {
      const readyTasks = state.getReadyTasks();
      if (readyTasks.length === 0) {
        await this.pause(state); // BUG 6 — never reached here: after a whole wave something is ready
        continue;
      }
      const taskPromises = readyTasks.map((task) => this.wrap(task));
      // BUG 2: the whole wave settles before anything newly ready may start.
      const results = await Promise.allSettled(taskPromises);
      // BUG 9: in order — a failure is handled before the successes listed after it are recorded.
      const ordered = this.fixed(9) ? [...results].sort((a, b) => rank(a) - rank(b)) : results;
      for (const result of ordered) {
        await this.record(state, result, (failure) => this.handleTaskFailure(state, failure.task, asError(failure.reason)));
      }
    }
  }

  /**
   * Fix 2: each ready task starts at once and the loop handles each outcome as it settles; as the
   * wave did, a failure is handled (compensated) once nothing is in flight, and nothing new starts
   * meanwhile. The loop still learns of outcomes by polling every 100 ms (bug 6) — until 6 is fixed
   * too, and it waits for the next outcome instead.
   */
  private async runAsTasksSettle(state: WorkflowState): Promise<void> {
    const settled: Settled[] = [];
    const failures: Rejected[] = [];
    let wake: () => void = () => undefined;
    let inFlight = 0;
    while (!state.isComplete()) {
      for (const value of settled.splice(0)) {
        await this.record(state, { status: "fulfilled", value }, (failure) => {
          failures.push(failure);
          state.abort();
        });
      }
      if (failures.length > 0 && inFlight === 0) {
        for (const failure of failures.splice(0)) await this.handleTaskFailure(state, failure.task, asError(failure.reason));
        continue;
      }
      const readyTasks = state.getReadyTasks();
      if (readyTasks.length === 0) {
        if (this.fixed(6)) await new Promise<void>((resolve) => { wake = resolve; });
        else await this.pause(state); // BUG 6
        continue;
      }
      for (const task of readyTasks) {
        state.markTaskRunning(task);
        inFlight += 1;
        void this.wrap(task).then((value) => {
          inFlight -= 1;
          settled.push(value);
          wake();
        });
      }
    }
  }

  /** `await setTimeout(100)`: a timer of its own (action 1, attempt = the poll's number) on a step in flight. */
  private pause(state: WorkflowState): Promise<void> {
    const on = state.running()[0] ?? state.tasks[0];
    if (on === undefined) return Promise.resolve();
    return this.world.sleep({ ...on.parameters, action: 1 }, state.nextPoll(), POLL_US);
  }

  private wrap(task: Task): Promise<Settled> {
    return this.executeTaskWithRetry(task)
      .then((result): Settled => ({ status: "fulfilled", value: result, task }))
      .catch((error: unknown): Settled => ({ status: "rejected", reason: error, task }));
  }

  /** The body of the listing's `for (const result of results)`. */
  private async record(state: WorkflowState, result: PromiseSettledResult<Settled>,
                       onFailure: (failure: Rejected) => Promise<void> | void): Promise<void> {
    if (result.status === "fulfilled") { // BUG 1: always — the wrapper turned every rejection into a value
      const wrapped = result.value;
      if (this.fixed(1) && wrapped.status === "rejected") {
        await onFailure(wrapped); // fix 1: look at the wrapper's own status
        return;
      }
      // const { value: taskResult, task } = result.value;
      // (tsc --strict refuses this line, TS2339: the rejected wrapper has no `value`; a cast makes
      // it compile, and a rejected task's taskResult is then undefined.)
      const taskResult = wrapped.status === "fulfilled" ? wrapped.value : undefined;
      state.markTaskCompleted(wrapped.task, taskResult);
      // this.logger.info('Task completed successfully', { workflowId, taskId: task.id, duration: taskResult.duration });
      // The logging is dropped, but its argument is still evaluated — BUG 7: on undefined it throws.
      // Fix 7 is `taskResult?.duration`.
      if (taskResult === undefined && !this.fixed(7)) {
        throw new ListingTypeError("Cannot read properties of undefined (reading 'duration')");
      }
    } else {
      // Unreachable: the wrapper never rejects. The listing's `const { reason: error, task } = result.reason`.
      const reason: unknown = result.reason;
      throw reason;
    }
  }

  private async executeTaskWithRetry(task: Task): Promise<TaskResult> {
    const { maxAttempts = 3, backoffMs = 1000 } = task.retryPolicy ?? {};
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        const startTime = this.world.nowUs();
        const executor = this.taskExecutors.get(task.type);
        if (!executor) {
          throw new Error(`No executor found for task type: ${task.type}`);
        }
        // BUG 3: the race's loser is not cancelled. When the deadline wins, the call goes on — at
        // the service, on the network — and the retry below runs beside it: both may take effect.
        const call = executor.execute(task, attempt);
        await Promise.race([call.reply, call.deadline]);
        return { taskId: task.id, status: "completed", output: undefined, duration: this.world.nowUs() - startTime };
      } catch (error: unknown) {
        lastError = error instanceof Error ? error : new Error(String(error));
        // this.logger.warn('Task execution failed', …) — dropped
        // Fix 3: a call cannot be taken back (the protocol, like the network, has no cancel; an
        // AbortController would only stop the waiting, which the race already does), so a call that
        // timed out is not repeated: the task fails — indefinitely: its work may have happened.
        if (this.fixed(3) && lastError instanceof TimeoutError) break;
        if (attempt < maxAttempts) {
          const delay = backoffMs * Math.pow(2, attempt - 1); // Exponential backoff
          await this.world.sleep(task.parameters, attempt + 1, Math.min(delay * 1000, MAX_DURATION_US));
        }
      }
    }
    throw lastError ?? new Error(`task ${task.id} made no attempt`);
  }

  private async handleTaskFailure(state: WorkflowState, failedTask: Task, error: Error): Promise<void> {
    // this.logger.error('Task failed, executing compensation logic', …) — dropped
    // BUG 4: only the failed step's compensations — never those of the steps that completed (and
    // the failed step's even when its work never happened). Fix 4: every step owed one, newest first.
    const owed = this.fixed(4) ? state.toCompensate() : [failedTask];
    for (const step of owed) {
      const compensationTasks = state.definition.compensations(state.workflowId, step.id) || [];
      let undone = compensationTasks.length > 0;
      for (const compensationTask of compensationTasks) {
        try {
          await this.executeTaskWithRetry(compensationTask);
          // this.logger.info('Compensation task completed', …)
        } catch (compensationError: unknown) {
          // this.logger.error('Compensation task failed', …)
          // "In production, this would trigger manual intervention alerts" — it does not (bug 8).
          undone = false;
          state.markCompensationFailed(step, compensationTask, compensationError);
        }
      }
      if (undone) state.markCompensated(step);
    }
    state.markWorkflowFailed(failedTask, error);
  }
}

/** Fix 9's order: the wave's successes first, then its failures. */
function rank(result: PromiseSettledResult<Settled>): number {
  return result.status === "fulfilled" && result.value.status === "fulfilled" ? 0 : 1;
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
