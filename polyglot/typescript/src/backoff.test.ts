// fnv1a64, splitmix64, the keyed draw and delay(k): reference values from engine/decider.py.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { delayUs, fnv1a64, rand, retryDelayUs, splitmix64 } from "./backoff.js";
import type { Backoff, Jitter, RetryPolicy } from "./protocol.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("fnv1a64", () => {
  const cases: [string, bigint][] = [
    ["", 0xcbf29ce484222325n],
    ["a", 0xaf63dc4c8601ec8cn],
    ["12/process-payment/do/0/2", 0x680a1e95374089f3n],
    ["é/ü", 0x9eb8410d30b64cd5n], // UTF-8 bytes, not UTF-16 code units
  ];
  for (const [text, want] of cases) it(JSON.stringify(text), () => assert.equal(fnv1a64(bytes(text)), want));
});

describe("splitmix64", () => {
  const cases: [bigint, bigint][] = [
    [0n, 0xe220a8397b1dcdafn],
    [2n ** 64n - 1n, 0xe4d971771b652c20n],
    [0x9e3779b97f4a7c15n, 0x6e789e6aa1b965f4n],
  ];
  for (const [x, want] of cases) it(`0x${x.toString(16)}`, () => assert.equal(splitmix64(x), want));
});

describe("rand", () => {
  it("is splitmix64(seed XOR fnv1a64(key))", () => {
    assert.equal(rand(7n, 12, "process-payment", "do", 0, 2), splitmix64(7n ^ fnv1a64(bytes("12/process-payment/do/0/2"))));
    assert.equal(rand(7n, 12, "process-payment", "do", 0, 2), 0xb5e0820a71e48dfdn);
  });
  it("takes seeds up to 2^53 - 1", () => assert.equal(rand(2n ** 53n - 1n, 0, "s0", "undo", 1, 3), 0x8b403df055e5d582n));
});

const policy = (backoff: Backoff, jitter: Jitter, over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  maxAttempts: 5, backoff, initialUs: 1_000_000, coefficientMilli: 2000, maxUs: 5_000_000, jitter, nonRetryable: [],
  ...over,
});

const TOP = 2n ** 32n - 1n;
const HALF = 2n ** 31n;

describe("delayUs", () => {
  // [backoff, jitter, k, last delay, u32, expected µs] — I = 1 s, B = 2, M = 5 s
  const cases: [Backoff, Jitter, number, number | null, bigint, number][] = [
    ["exponential", "none", 1, null, HALF, 1_000_000],
    ["exponential", "none", 3, null, HALF, 4_000_000],
    ["exponential", "none", 4, null, HALF, 5_000_000], // capped at M
    ["linear", "none", 3, null, HALF, 3_000_000],
    ["linear", "none", 9, null, HALF, 5_000_000],
    ["constant", "none", 3, null, HALF, 1_000_000],
    ["exponential", "full", 1, null, 0n, 0],
    ["exponential", "full", 3, null, HALF, 2_000_000],
    ["exponential", "full", 3, null, TOP, 3_999_999], // floor, never d itself
    ["linear", "full", 4, null, HALF, 2_000_000],
    ["constant", "full", 3, null, TOP, 999_999],
    ["exponential", "equal", 1, null, 0n, 500_000],
    ["exponential", "equal", 3, null, HALF, 3_000_000],
    ["linear", "equal", 3, null, TOP, 2_999_999],
    ["constant", "equal", 4, null, HALF, 750_000],
    ["exponential", "decorrelated", 1, null, 0n, 1_000_000], // no previous wait: p = I
    ["exponential", "decorrelated", 1, null, HALF, 2_000_000],
    ["exponential", "decorrelated", 4, 2_500_000, HALF, 4_250_000],
    ["linear", "decorrelated", 4, 2_500_000, TOP, 5_000_000], // capped at M
    ["constant", "decorrelated", 3, null, TOP, 2_999_999],
  ];
  for (const [backoff, jitter, k, last, u, want] of cases) {
    it(`${backoff} ${jitter} k=${k} last=${last} u=${u}`, () => assert.equal(delayUs(policy(backoff, jitter), k, last, u), want));
  }

  it("computes u × x exactly past 2^53", () => {
    const big = policy("exponential", "equal", { initialUs: 2 ** 32 - 1, coefficientMilli: 1500, maxUs: 2 ** 32 - 1 });
    assert.equal(delayUs(big, 5, null, TOP), 4_294_967_294);
    const decorrelated = policy("exponential", "decorrelated", { initialUs: 100_000, coefficientMilli: 1500, maxUs: 300_000 });
    assert.equal(delayUs(decorrelated, 2, 2 ** 32 - 1, TOP), 300_000);
  });

  it("floors the exponential product at every step", () => {
    const p = policy("exponential", "none", { initialUs: 3, coefficientMilli: 1500, maxUs: 1000 });
    assert.deepEqual([1, 2, 3, 4, 5].map((k) => delayUs(p, k, null, 0n)), [3, 4, 6, 9, 13]);
  });

  it("draws from the attempt's key", () => {
    const p = policy("exponential", "full");
    const u = rand(7n, 12, "process-payment", "do", 0, 2) >> 32n;
    assert.equal(retryDelayUs(7n, p, 12, "process-payment", "do", 0, 2, null), delayUs(p, 2, null, u));
  });
});
