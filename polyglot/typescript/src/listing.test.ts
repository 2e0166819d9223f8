// The listing's port, one behaviour (and one bug) at a time, through its line-by-line session; then
// the built program as the world runs it.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseFixes } from "./listing.js";
import { ProtocolError } from "./protocol.js";
import { SeedSession } from "./seed-session.js";

const policy = (maxAttempts: number) => ({
  max_attempts: maxAttempts, backoff: "exponential", initial_us: 1_000_000, coefficient_milli: 2000,
  max_us: 100_000_000, jitter: "none", non_retryable: [],
});
const step = (name: string, type: string, dependsOn: string[], timeoutUs: number, undo = 0) => ({
  name, type, depends_on: dependsOn, timeout_us: timeoutUs, retry: policy(name === "validate-order" ? 3 : 1),
  compensation: Array.from({ length: undo }, () => ({ service: "s", topic: null, endpoint: "/undo" })),
});
/** The seed workflow as engine.canonical_workflow writes it (services and endpoints do not matter here). */
const HELLO = {
  type: "hello", protocol: 1, seed: 7,
  workflow: {
    name: "order-fulfillment", version: "1.0", compensation_retry: policy(5),
    steps: [
      step("validate-order", "sync-task", [], 5_000_000),
      step("reserve-inventory", "async-task", ["validate-order"], 30_000_000, 1),
      step("process-payment", "sync-task", ["validate-order"], 10_000_000, 1),
      step("ship-order", "async-task", ["reserve-inventory", "process-payment"], 30_000_000),
      step("send-confirmation", "fire-and-forget", ["ship-order"], 30_000_000),
    ],
  },
};

type Json = Record<string, unknown>;
const start = (instance = 0): Json => ({ kind: "start", instance });
const result = (stepName: string, attempt: number, outcome = "ok", phase = "do", instance = 0): Json => ({
  kind: "result", instance, step: stepName, phase, action: 0, attempt, outcome,
  error: outcome === "error" ? "ServiceError" : outcome === "timeout" ? "Timeout" : null,
});
const timer = (stepName: string, attempt: number, action = 0, phase = "do", instance = 0): Json =>
  ({ kind: "timer", instance, step: stepName, phase, action, attempt });

const invoke = (stepName: string, attempt: number, timeoutUs: number | null, phase = "do", instance = 0): Json =>
  ({ cmd: "invoke", instance, step: stepName, phase, action: 0, attempt, timeout_us: timeoutUs });
const wait = (stepName: string, attempt: number, delayUs: number, action = 0, phase = "do", instance = 0): Json =>
  ({ cmd: "timer", instance, step: stepName, phase, action, attempt, delay_us: delayUs });
const fate = (stepName: string, status: string, attempt: number | null, info: string | null = null, instance = 0): Json =>
  ({ cmd: "step", instance, step: stepName, status, attempt, info });
const finish = (status: string, instance = 0): Json => ({ cmd: "finish", instance, status });

/** Says hello with `fixes`, then feeds one activation per entry; returns each one's commands. */
async function talk(fixes: string, activations: (Json[] | { replay: Json[] })[]): Promise<unknown[][]> {
  const session = new SeedSession(fixes);
  const hello = await session.handle(JSON.stringify(HELLO));
  assert.equal(hello.kind, "answer");
  const out: unknown[][] = [];
  for (const [n, a] of activations.entries()) {
    const replay = !Array.isArray(a);
    const events = Array.isArray(a) ? a : a.replay;
    const reply = await session.handle(JSON.stringify({ type: "activation", time_us: n, replay, events }));
    assert.equal(reply.kind, "answer", reply.kind === "fail" ? reply.line : "");
    const message: unknown = JSON.parse(reply.kind === "answer" ? reply.line : "{}");
    assert.ok(typeof message === "object" && message !== null && "commands" in message && Array.isArray(message.commands));
    out.push(message.commands);
  }
  return out;
}

/** validate-order completes; reserve-inventory and process-payment start. */
const VALIDATED = [[start()], [result("validate-order", 1)]];
const FAILS_THREE_TIMES = (stepName: string) => [
  [result(stepName, 1, "error")], [timer(stepName, 2)], [result(stepName, 2, "error")], [timer(stepName, 3)],
  [result(stepName, 3, "error")],
];

describe("SEED_FIXES", () => {
  const good: [string | undefined, number[]][] = [[undefined, []], ["", []], ["1", [1]], [" 4, 1 ,9", [4, 1, 9]]];
  for (const [text, want] of good) {
    it(`reads ${JSON.stringify(text)}`, () => assert.deepEqual([...parseFixes(text)].sort(), want.sort()));
  }
  for (const text of ["10", "0", "x", "1;2", "-1"]) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.throws(() => parseFixes(text), ProtocolError));
  }
});

describe("the listing's control flow", () => {
  it("starts the first wave: validate-order, with the step's timeout", async () => {
    assert.deepEqual(await talk("", [[start()]]), [[invoke("validate-order", 1, 5_000_000)]]);
  });

  it("retries every step 3 times, 1 s then 2 s apart (the listing's defaults, not the workflow's)", async () => {
    const got = await talk("", [...VALIDATED, ...FAILS_THREE_TIMES("process-payment").slice(0, 4)]);
    assert.deepEqual(got.slice(2), [
      [wait("process-payment", 2, 1_000_000)], [invoke("process-payment", 2, 10_000_000)],
      [wait("process-payment", 3, 2_000_000)], [invoke("process-payment", 3, 10_000_000)],
    ]);
  });

  it("bugs 1 and 7: a failed step is marked completed with an undefined result, then the workflow throws", async () => {
    const got = await talk("", [...FAILS_THREE_TIMES("validate-order").map((a, n) => (n === 0 ? [start(), ...a] : a))]);
    assert.deepEqual(got.at(-1), [fate("validate-order", "completed", 3, "undefined"), finish("failed")]);
  });

  it("bug 1 with 7 fixed: the failed step's dependents run", async () => {
    const got = await talk("7", [[start()], ...FAILS_THREE_TIMES("validate-order")]);
    assert.deepEqual(got.at(-1), [
      fate("validate-order", "completed", 3, "undefined"),
      invoke("reserve-inventory", 1, 30_000_000), invoke("process-payment", 1, 10_000_000),
    ]);
  });

  it("bug 2: a finished step waits for its whole wave", async () => {
    const got = await talk("", [...VALIDATED, [result("process-payment", 1)], [result("reserve-inventory", 1)]]);
    assert.deepEqual(got.slice(2), [[], [
      fate("reserve-inventory", "completed", 1), fate("process-payment", "completed", 1), invoke("ship-order", 1, 30_000_000),
    ]]);
  });

  it("bug 4 (with 1 fixed): only the failed step is compensated, with the listing's 30 s timeout", async () => {
    const got = await talk("1", [...VALIDATED, [result("process-payment", 1)], ...FAILS_THREE_TIMES("reserve-inventory")]);
    assert.deepEqual(got.at(-1), [invoke("reserve-inventory", 1, 30_000_000, "undo")]);
  });

  it("bug 9 (with 1 and 4 fixed): the payment is recorded after the failure, so it is not refunded", async () => {
    const got = await talk("1,4", [...VALIDATED, [result("process-payment", 1)], ...FAILS_THREE_TIMES("reserve-inventory")]);
    assert.deepEqual(got.at(-1), [
      fate("reserve-inventory", "failed", 3, "definite"), fate("process-payment", "completed", 1), finish("failed"),
    ]);
    const fixed = await talk("1,4,9", [...VALIDATED, [result("process-payment", 1)], ...FAILS_THREE_TIMES("reserve-inventory")]);
    assert.deepEqual(fixed.at(-1), [fate("process-payment", "completed", 1), invoke("process-payment", 1, 30_000_000, "undo")]);
  });

  it("bug 8 (with 1 and 4 fixed): a compensation that gives up ends the workflow failed; fixed, needs_intervention", async () => {
    const events = [...VALIDATED, [result("process-payment", 1), result("reserve-inventory", 1)],
                    ...FAILS_THREE_TIMES("ship-order"),
                    ...[1, 2, 3].flatMap((k) => [[result("process-payment", k, "error", "undo")], [timer("process-payment", k + 1, 0, "undo")]]).slice(0, 5),
                    [result("reserve-inventory", 1, "ok", "undo")]];
    for (const [fixes, status] of [["1,4", "failed"], ["1,4,8", "needs_intervention"]] as const) {
      const got = await talk(fixes, events);
      assert.deepEqual(got.at(-2), [fate("process-payment", "exhausted", 3, "ServiceError"), invoke("reserve-inventory", 1, 30_000_000, "undo")]);
      assert.deepEqual(got.at(-1), [fate("reserve-inventory", "compensated", null), fate("ship-order", "failed", 3, "definite"), finish(status)]);
    }
  });

  it("bug 3: a call that timed out is retried while it may still take effect; fixed, the step fails indefinite", async () => {
    const timedOut = [...VALIDATED, [result("process-payment", 1), result("reserve-inventory", 1, "timeout")]];
    assert.deepEqual((await talk("", timedOut)).at(-1), [wait("reserve-inventory", 2, 1_000_000)]);
    // The wave settles at once; the failure comes first (bug 9) and its own compensation runs (bug 4).
    assert.deepEqual((await talk("1,3", timedOut)).at(-1), [invoke("reserve-inventory", 1, 30_000_000, "undo")]);
  });

  it("bug 6 (with 2 fixed): the loop polls every 100 ms; fixed, it waits for the next outcome", async () => {
    const polled = await talk("2", [[start()], [result("validate-order", 1)], [timer("validate-order", 1, 1)]]);
    assert.deepEqual(polled, [
      [invoke("validate-order", 1, 5_000_000), wait("validate-order", 1, 100_000, 1)],
      [],
      [fate("validate-order", "completed", 1), invoke("reserve-inventory", 1, 30_000_000), invoke("process-payment", 1, 10_000_000),
       wait("reserve-inventory", 2, 100_000, 1)],
    ]);
    const woken = await talk("2,6", [[start()], [result("validate-order", 1)]]);
    assert.deepEqual(woken.at(-1), [
      fate("validate-order", "completed", 1), invoke("reserve-inventory", 1, 30_000_000), invoke("process-payment", 1, 10_000_000),
    ]);
  });

  it("bug 5: a restarted process answers a replay with nothing; fixed, with what it answered live", async () => {
    const live = await talk("", [[start()], [result("validate-order", 1)]]);
    assert.deepEqual(await talk("", [{ replay: [start()] }, { replay: [result("validate-order", 1)] }]), [[], []]);
    assert.deepEqual(await talk("5", [{ replay: [start()] }, { replay: [result("validate-order", 1)] }]), live);
  });

  it("ignores a late result; refuses an event for an instance it never started", async () => {
    assert.deepEqual((await talk("", [[start()], [result("validate-order", 7)]])).at(-1), []);
    const session = new SeedSession("");
    await session.handle(JSON.stringify(HELLO));
    const reply = await session.handle(JSON.stringify({ type: "activation", time_us: 0, replay: false, events: [result("validate-order", 1, "ok", "do", 3)] }));
    assert.equal(reply.kind, "fail");
    assert.equal(reply.kind === "fail" && reply.status, 2);
  });
});

describe("the seed program", () => {
  const PROGRAM = join(__dirname, "seed.js");
  const run = (input: string, fixes: string) => {
    const out = spawnSync(process.execPath, [PROGRAM], { input, encoding: "utf8", timeout: 10_000, env: { ...process.env, SEED_FIXES: fixes } });
    return { status: out.status, lines: out.stdout.split("\n").filter((l) => l !== "").map((l): unknown => JSON.parse(l)) };
  };

  it("speaks the protocol and exits 0 on shutdown", () => {
    const input = [HELLO, { type: "activation", time_us: 5, replay: false, events: [start()] }, { type: "shutdown" }]
      .map((m) => JSON.stringify(m) + "\n").join("");
    assert.deepEqual(run(input, "2,6"), {
      status: 0, lines: [{ type: "ready" }, { type: "commands", time_us: 5, commands: [invoke("validate-order", 1, 5_000_000)] }],
    });
  });

  const refusals: [string, string, string, RegExp][] = [
    ["a SEED_FIXES naming no bug", `${JSON.stringify(HELLO)}\n`, "1,12", /^line 1: SEED_FIXES: "12" is not a bug/],
    ["malformed JSON", `${JSON.stringify(HELLO)}\nnot json\n`, "", /^line 2: malformed JSON/],
  ];
  for (const [name, input, fixes, message] of refusals) {
    it(`refuses ${name} with one error line and status 2`, () => {
      const got = run(input, fixes);
      assert.equal(got.status, 2);
      const error = got.lines.at(-1);
      assert.ok(typeof error === "object" && error !== null && "type" in error && "message" in error);
      assert.equal(error.type, "error");
      assert.match(String(error.message), message);
    });
  }
});
