// The decision rules, one behaviour at a time.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryDelayUs } from "./backoff.js";
import { Decider, Plan } from "./core.js";
import { ProtocolError } from "./protocol.js";
import type { Command, Event, Outcome, Phase, RetryPolicy, StepSpec, Workflow } from "./protocol.js";

const retry = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  maxAttempts: 1, backoff: "exponential", initialUs: 1_000_000, coefficientMilli: 2000, maxUs: 100_000_000,
  jitter: "none", nonRetryable: [], ...over,
});

type StepOptions = Partial<Omit<StepSpec, "name">>;
const step = (name: string, over: StepOptions = {}): StepSpec => ({
  name, type: "sync-task", dependsOn: [], timeoutUs: 5_000_000, retry: retry(), compensations: 0, ...over,
});

const workflow = (steps: StepSpec[], compensationRetry: RetryPolicy = retry({ maxAttempts: 2 })): Workflow =>
  ({ name: "test", steps, compensationRetry });

/** The seed workflow, as notebooks/workflows/order-fulfillment.yaml declares it. */
const SEED = workflow([
  step("validate-order", { retry: retry({ maxAttempts: 3 }) }),
  step("reserve-inventory", { type: "async-task", dependsOn: ["validate-order"], timeoutUs: 30_000_000, compensations: 1 }),
  step("process-payment", { dependsOn: ["validate-order"], timeoutUs: 10_000_000, compensations: 1 }),
  step("ship-order", { type: "async-task", dependsOn: ["reserve-inventory", "process-payment"], timeoutUs: 30_000_000 }),
  step("send-confirmation", { type: "fire-and-forget", dependsOn: ["ship-order"], timeoutUs: 30_000_000 }),
], retry({ maxAttempts: 5 }));

const start = (instance: number): Event => ({ kind: "start", instance });
const result = (instance: number, stepName: string, attempt: number, outcome: Outcome = "ok",
                phase: Phase = "do", action = 0): Event => ({
  kind: "result", instance, step: stepName, phase, action, attempt, outcome,
  error: outcome === "error" ? "ServiceError" : outcome === "timeout" ? "Timeout" : null,
});
const timer = (instance: number, stepName: string, attempt: number, phase: Phase = "do", action = 0): Event =>
  ({ kind: "timer", instance, step: stepName, phase, action, attempt });

// Shorthands for expected commands (instance 0 unless said).
const invoke = (stepName: string, attempt: number, timeoutUs: number | null, phase: Phase = "do", action = 0, instance = 0): Command =>
  ({ cmd: "invoke", instance, step: stepName, phase, action, attempt, timeout_us: timeoutUs });
const fate = (stepName: string, status: "completed" | "failed" | "skipped" | "compensated" | "exhausted",
              attempt: number | null = null, info: string | null = null, instance = 0): Command =>
  ({ cmd: "step", instance, step: stepName, status, attempt, info });
const finish = (status: "completed" | "compensated" | "failed" | "needs_intervention", instance = 0): Command =>
  ({ cmd: "finish", instance, status });
const wait = (stepName: string, attempt: number, delayUs: number, phase: Phase = "do", action = 0, instance = 0): Command =>
  ({ cmd: "timer", instance, step: stepName, phase, action, attempt, delay_us: delayUs });

/** Feeds activations one by one; returns each one's commands. */
function run(wf: Workflow, activations: Event[][], seed = 1n): Command[][] {
  const decider = new Decider(wf, seed);
  return activations.map((events) => decider.activate(events));
}

describe("topological order", () => {
  const cases: [string, [string, string[]][], string[]][] = [
    ["a chain", [["a", []], ["b", ["a"]], ["c", ["b"]]], ["a", "b", "c"]],
    ["roots in declaration order", [["z", []], ["y", []], ["x", []]], ["z", "y", "x"]],
    ["declared before its dependency", [["x", ["y"]], ["y", []]], ["y", "x"]],
    ["ready steps first-in first-out", [["a", []], ["b", ["a"]], ["c", []], ["d", ["c"]], ["e", ["a", "c"]]],
     ["a", "c", "b", "d", "e"]],
    ["the seed workflow", SEED.steps.map((s) => [s.name, [...s.dependsOn]]),
     ["validate-order", "reserve-inventory", "process-payment", "ship-order", "send-confirmation"]],
  ];
  for (const [name, steps, want] of cases) {
    it(name, () => {
      const plan = new Plan(workflow(steps.map(([n, deps]) => step(n, { dependsOn: deps }))));
      assert.deepEqual(plan.order.map((i) => plan.steps[i]?.name), want);
    });
  }
  it("refuses a cycle", () => {
    assert.throws(() => new Plan(workflow([step("a", { dependsOn: ["b"] }), step("b", { dependsOn: ["a"] })])), ProtocolError);
  });
});

describe("the rules", () => {
  it("answers a start with the first invoke", () => {
    assert.deepEqual(run(SEED, [[start(0)]]), [[invoke("validate-order", 1, 5_000_000)]]);
  });

  it("starts ready steps in order, completes fire-and-forget at once, and finishes", () => {
    const out = run(SEED, [
      [start(0)], [result(0, "validate-order", 1)], [result(0, "process-payment", 1)], [result(0, "reserve-inventory", 1)],
      [result(0, "ship-order", 1)],
    ]);
    assert.deepEqual(out, [
      [invoke("validate-order", 1, 5_000_000)],
      [fate("validate-order", "completed", 1), invoke("reserve-inventory", 1, 30_000_000), invoke("process-payment", 1, 10_000_000)],
      [fate("process-payment", "completed", 1)],
      [fate("reserve-inventory", "completed", 1), invoke("ship-order", 1, 30_000_000)],
      [fate("ship-order", "completed", 1), invoke("send-confirmation", 1, null), fate("send-confirmation", "completed", 1, "published"),
       finish("completed")],
    ]);
  });

  it("answers a failure with a timer of the right delay, then retries", () => {
    const out = run(SEED, [[start(0)], [result(0, "validate-order", 1, "error")], [timer(0, "validate-order", 2)],
                           [result(0, "validate-order", 2, "timeout")], [timer(0, "validate-order", 3)]]);
    assert.deepEqual(out, [
      [invoke("validate-order", 1, 5_000_000)],
      [wait("validate-order", 2, 1_000_000)],
      [invoke("validate-order", 2, 5_000_000)],
      [wait("validate-order", 3, 2_000_000)],
      [invoke("validate-order", 3, 5_000_000)],
    ]);
  });

  it("draws jittered delays from the instance, step and attempt", () => {
    const policy = retry({ maxAttempts: 3, jitter: "full", initialUs: 200_000, maxUs: 2_000_000 });
    const wf = workflow([step("pay", { retry: policy })]);
    const out = run(wf, [[start(12)], [result(12, "pay", 1, "error")], [timer(12, "pay", 2)], [result(12, "pay", 2, "error")]], 7n);
    assert.deepEqual(out.slice(1), [
      [wait("pay", 2, retryDelayUs(7n, policy, 12, "pay", "do", 0, 1, null), "do", 0, 12)],
      [invoke("pay", 2, 5_000_000, "do", 0, 12)],
      [wait("pay", 3, retryDelayUs(7n, policy, 12, "pay", "do", 0, 2, null), "do", 0, 12)],
    ]);
  });

  it("gives up on the last attempt or a non-retryable error: the step fails, pending steps are skipped", () => {
    const cases: [string, Workflow, Event[], Command[]][] = [
      ["max attempts", SEED, [result(0, "validate-order", 1, "error")], [wait("validate-order", 2, 1_000_000)]],
      ["non-retryable", workflow([step("validate-order", { retry: retry({ maxAttempts: 3, nonRetryable: ["ServiceError"] }) }),
                                  step("next", { dependsOn: ["validate-order"] })]),
       [result(0, "validate-order", 1, "error")],
       [fate("validate-order", "failed", 1, "definite"), fate("next", "skipped"), finish("failed")]],
    ];
    for (const [name, wf, events, want] of cases) assert.deepEqual(run(wf, [[start(0)], events])[1], want, name);
  });

  it("aborts: skips pending steps, fails waiting ones, lets running ones settle, then compensates", () => {
    const wf = workflow([
      step("a", { compensations: 1 }),
      step("slow", { dependsOn: ["a"], compensations: 1 }),
      step("flaky", { dependsOn: ["a"], retry: retry({ maxAttempts: 2 }) }),
      step("bad", { dependsOn: ["a"] }),
      step("later", { dependsOn: ["slow", "flaky", "bad"] }),
    ]);
    const out = run(wf, [
      [start(0)], [result(0, "a", 1)], [result(0, "flaky", 1, "error")], [result(0, "bad", 1, "error")],
      [timer(0, "flaky", 2)], [result(0, "slow", 1)], [result(0, "slow", 1, "ok", "undo")], [result(0, "a", 1, "ok", "undo")],
    ]);
    assert.deepEqual(out.slice(2), [
      [wait("flaky", 2, 1_000_000)],
      [fate("bad", "failed", 1, "definite"), fate("flaky", "failed", 2, "definite"), fate("later", "skipped")],
      [], // the timer of a failed step
      [fate("slow", "completed", 1), invoke("slow", 1, 5_000_000, "undo")],
      [fate("slow", "compensated"), invoke("a", 1, 5_000_000, "undo")],
      [fate("a", "compensated"), finish("compensated")],
    ]);
  });

  it("compensates in reverse order, each action in turn, after its descendants", () => {
    const wf = workflow([
      step("a", { compensations: 1 }),
      step("b", { type: "async-task", dependsOn: ["a"], compensations: 2 }),
      step("c", { dependsOn: ["b"], compensations: 1 }),
      step("d", { dependsOn: ["c"] }),
    ]);
    const out = run(wf, [
      [start(0)], [result(0, "a", 1)], [result(0, "b", 1)], [result(0, "c", 1)], [result(0, "d", 1, "error")],
      [result(0, "c", 1, "ok", "undo")], [result(0, "b", 1, "ok", "undo", 0)], [result(0, "b", 1, "ok", "undo", 1)],
      [result(0, "a", 1, "ok", "undo")],
    ]);
    assert.deepEqual(out.slice(4), [
      [fate("d", "failed", 1, "definite"), invoke("c", 1, 5_000_000, "undo")],
      [fate("c", "compensated"), invoke("b", 1, 5_000_000, "undo", 0)],
      [invoke("b", 1, 5_000_000, "undo", 1)],
      [fate("b", "compensated"), invoke("a", 1, 5_000_000, "undo")],
      [fate("a", "compensated"), finish("compensated")],
    ]);
  });

  it("compensates a step that timed out (its work may have happened) and says so", () => {
    const out = run(SEED, [[start(0)], [result(0, "validate-order", 1)], [result(0, "reserve-inventory", 1, "timeout")],
                           [result(0, "process-payment", 1)]]);
    assert.deepEqual(out.slice(2), [
      [fate("reserve-inventory", "failed", 1, "indefinite"), fate("ship-order", "skipped"), fate("send-confirmation", "skipped")],
      [fate("process-payment", "completed", 1), invoke("process-payment", 1, 10_000_000, "undo"),
       invoke("reserve-inventory", 1, 30_000_000, "undo")],
    ]);
  });

  it("retries a compensation, then gives up: needs intervention", () => {
    const wf = workflow([step("a", { compensations: 1 }), step("b", { dependsOn: ["a"] })], retry({ maxAttempts: 2, initialUs: 300_000 }));
    const out = run(wf, [[start(0)], [result(0, "a", 1)], [result(0, "b", 1, "error")], [result(0, "a", 1, "error", "undo")],
                         [timer(0, "a", 2, "undo")], [result(0, "a", 2, "timeout", "undo")]]);
    assert.deepEqual(out.slice(2), [
      [fate("b", "failed", 1, "definite"), invoke("a", 1, 5_000_000, "undo")],
      [wait("a", 2, 300_000, "undo")],
      [invoke("a", 2, 5_000_000, "undo")],
      [fate("a", "exhausted", 2, "Timeout"), finish("needs_intervention")],
    ]);
  });

  it("ignores late, duplicate and stale events", () => {
    const cases: [string, Event[][]][] = [
      ["a result for an attempt already retried", [[result(0, "validate-order", 1, "error")], [result(0, "validate-order", 1)]]],
      ["a duplicate ok", [[result(0, "validate-order", 1)], [result(0, "validate-order", 1)]]],
      ["a result for a step never started", [[result(0, "ship-order", 1)]]],
      ["a timer for another attempt", [[result(0, "validate-order", 1, "error")], [timer(0, "validate-order", 3)]]],
      ["an undo result nobody asked for", [[result(0, "process-payment", 1, "ok", "undo")]]],
    ];
    for (const [name, activations] of cases) {
      const out = run(SEED, [[start(0)], ...activations]);
      assert.deepEqual(out.at(-1), [], name);
    }
    const ended = run(workflow([step("only")]), [[start(0)], [result(0, "only", 1)], [result(0, "only", 1, "error")]]);
    assert.deepEqual(ended.slice(1), [[fate("only", "completed", 1), finish("completed")], []]);
  });

  it("answers a replay exactly as it answered the first time", () => {
    const events = [[start(3), start(4)], [result(3, "validate-order", 1, "error"), result(4, "validate-order", 1)],
                    [timer(3, "validate-order", 2), result(4, "process-payment", 1, "timeout")]];
    assert.deepEqual(run(SEED, events, 99n), run(SEED, events, 99n));
  });

  it("refuses events it cannot place", () => {
    const cases: [string, Event[]][] = [
      ["an unknown instance", [timer(9, "validate-order", 2)]],
      ["an unknown step", [start(0), result(0, "no-such-step", 1)]],
      ["a second start", [start(0), start(0)]],
    ];
    for (const [name, events] of cases) assert.throws(() => new Decider(SEED, 1n).activate(events), ProtocolError, name);
  });
});
