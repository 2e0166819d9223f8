// Native mode (native.ts): its parts in process, and the program's JSON answers end to end.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  BadInput, CpuPool, burn, cancellation, concurrency, parseParams, percentile, prng, readRss, workflow,
} from "./native.js";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const FAST = '"latency_ms": [1, 1, 1, 1, 1]';

/** Runs dist/native.js; its one JSON line, parsed, and its exit status. */
function program(...args: string[]): { result: Record<string, unknown>; status: number | null } {
  const out = spawnSync(process.execPath, [join(__dirname, "native.js"), ...args], { encoding: "utf8" });
  const lines = out.stdout.trim().split("\n");
  assert.equal(lines.length, 1, `one line of output, got ${JSON.stringify(out.stdout)} ${out.stderr}`);
  const result: unknown = JSON.parse(lines[0] ?? "");
  assert.ok(isObject(result), `an object, got ${out.stdout}`);
  return { result, status: out.status };
}

describe("params", () => {
  it("has NATIVE.md's defaults", () => {
    const p = parseParams("{}");
    assert.deepEqual([p.latencyMs, p.failureRate, p.seed], [[5, 10, 10, 10, 5], 0, 0]);
  });
  for (const bad of ['{"flavor": "threads"}', '{"latency_ms": [1, 2, 3]}', '{"latency_ms": [1, 2, 3, 4, -5]}',
                     '{"failure_rate": 1.5}', '{"seed": 0.5}', "[]", "{"]) {
    it(`refuses ${bad}`, () => assert.throws(() => parseParams(bad), BadInput));
  }
});

describe("percentile", () => {
  it("is the nearest rank, as the Python reference", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.deepEqual([percentile(xs, 50), percentile(xs, 99), percentile([7], 99), percentile([], 50)], [50, 99, 7, null]);
  });
});

describe("prng", () => {
  it("is seeded by seed and instance, and uniform in [0, 1)", () => {
    const a = prng(3, 17), b = prng(3, 17), c = prng(3, 18), d = prng(4, 17);
    const xs = Array.from({ length: 10_000 }, () => a());
    assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
    assert.notEqual(c(), xs[0]);
    assert.notEqual(d(), xs[0]);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5) < 0.02);
  });
});

describe("workflow", () => {
  it("completes, or fails at the failure rate (5 steps: 0.9^5 ≈ 59% complete)", async () => {
    const ok = parseParams(`{${FAST}}`);
    const flaky = parseParams(`{${FAST}, "failure_rate": 0.1, "seed": 5}`);
    assert.equal(await workflow(ok, 0), true);
    const outcomes = await Promise.all(Array.from({ length: 2000 }, (_, i) => workflow(flaky, i)));
    const share = outcomes.filter(Boolean).length / outcomes.length;
    assert.ok(share > 0.53 && share < 0.65, `completed ${share}`);
  });

  it("waits each step's latency, reserve and payment in parallel: 1+50+1+1 ms, not 1+50+50+1+1", async () => {
    const p = parseParams('{"latency_ms": [1, 50, 50, 1, 1]}');
    const t = performance.now();
    await workflow(p, 0);
    const ms = performance.now() - t;
    assert.ok(ms >= 52 && ms < 95, `${ms} ms`);
  });
});

describe("concurrency", () => {
  it("counts every instance and reads RSS from /proc/self/status", async () => {
    const r = await concurrency(parseParams(`{"n": 500, ${FAST}, "failure_rate": 0.2, "seed": 1}`));
    assert.equal(Number(r["completed"]) + Number(r["failed"]), 500);
    assert.ok(Number(r["rss_peak"]) >= Number(r["rss_idle"]) && Number(r["rss_idle"]) > 0);
    assert.ok(Number(r["spawn_seconds"]) <= Number(r["wall_seconds"]));
    const rss = readRss();
    assert.ok(rss.rss !== null && rss.hwm !== null && rss.hwm >= rss.rss);
  });
});

describe("cpu work", () => {
  it("burns about the time asked", () => {
    const t = performance.now();
    assert.ok(burn(20) > 0);
    assert.ok(performance.now() - t >= 20);
  });

  it("on the pool, leaves the event loop free: a 5 ms timer fires during 100 ms of CPU work", async () => {
    const pool = await CpuPool.start(2);
    try {
      const t = performance.now();
      let timerAt = Infinity;
      const work = Promise.all([pool.run(100), pool.run(100), pool.run(100)]); // 3 jobs, 2 workers: one queues
      await sleep(5);
      timerAt = performance.now() - t;
      const hashes = await work;
      assert.ok(timerAt < 80, `the timer fired after ${timerAt} ms`);
      assert.ok(hashes.every((h) => h > 0));
      assert.ok(performance.now() - t >= 200, "the third job waited for a free worker");
    } finally {
      await pool.close();
    }
  });
});

describe("cancellation", () => {
  it("without cancel every attempt takes effect; with cancel none does", async () => {
    const params = (cancel: boolean) => parseParams(`{"n": 10, "timeout_ms": 5, "work_ms": 15, "cancel": ${cancel}}`);
    const race = await cancellation(params(false));
    const abort = await cancellation(params(true));
    assert.deepEqual([race["attempts_made"], race["effects"]], [30, 30]);
    assert.deepEqual([abort["attempts_made"], abort["effects"]], [30, 0]);
  });

  it("a call whose work beats the timeout succeeds at its first attempt, with or without cancel", async () => {
    for (const cancel of [false, true]) {
      const r = await cancellation(parseParams(`{"n": 5, "timeout_ms": 40, "work_ms": 2, "cancel": ${cancel}}`));
      assert.deepEqual([r["attempts_made"], r["effects"]], [5, 5]);
    }
  });
});

describe("the program", () => {
  it("answers each experiment with one JSON object carrying language, flavor, experiment and params", () => {
    const runs: [string, string, string[]][] = [
      ["concurrency", `{"n": 100, ${FAST}}`, ["rss_idle", "rss_peak", "spawn_seconds", "wall_seconds", "completed", "failed"]],
      ["cpu_step", `{"n": 50, "every": 10, "cpu_ms": 5, "fix": true, ${FAST}}`, ["p50", "p99", "max", "wall_seconds"]],
      ["cancellation", '{"n": 5, "timeout_ms": 2, "work_ms": 6}', ["calls", "attempts_made", "effects"]],
      ["startup", "{}", ["seconds_to_ready"]],
    ];
    for (const [experiment, params, fields] of runs) {
      const { result, status } = program(experiment, params);
      assert.equal(status, 0, JSON.stringify(result));
      assert.deepEqual([result["language"], result["flavor"], result["experiment"], result["params"]],
                       ["typescript", "event-loop", experiment, JSON.parse(params)]);
      for (const field of fields) assert.ok(field in result, `${experiment} lacks ${field}`);
    }
  });

  it("refuses bad input with {error} and exit status 2", () => {
    for (const args of [["concurrency", '{"n": 10, "flavor": "green-threads"}'], ["concurrency", "{}"],
                        ["warp-speed", "{}"], ["cpu_step", '{"fix": "yes"}'], ["cancellation", "not json"]]) {
      const { result, status } = program(...args);
      assert.equal(status, 2);
      assert.deepEqual(Object.keys(result), ["error"]);
    }
  });
});
