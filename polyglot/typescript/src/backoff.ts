// The protocol's arithmetic: keyed 64-bit draws and the integer wait before a retry.
//
// 64-bit hashing is done in BigInt, modulo 2^64. The jitter products u × x reach 2^66, past the
// 2^53 that numbers hold exactly, so delayUs computes in BigInt too and converts its result, which
// never exceeds max(initial_us, max_us), back to a number. No floating point anywhere.

import type { Phase, RetryPolicy } from "./protocol.js";

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/** FNV-1a, 64 bits. */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (const b of bytes) h = u64((h ^ BigInt(b)) * FNV_PRIME);
  return h;
}

/** The splitmix64 finaliser of one 64-bit input. */
export function splitmix64(x: bigint): bigint {
  let z = u64(x + 0x9e3779b97f4a7c15n);
  z = u64((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
  z = u64((z ^ (z >> 27n)) * 0x94d049bb133111ebn);
  return z ^ (z >> 31n);
}

const utf8 = new TextEncoder();

/** rand(instance, step, phase, action, k): 64 bits keyed by the attempt, the same in every language. */
export function rand(seed: bigint, instance: number, step: string, phase: Phase, action: number, k: number): bigint {
  return splitmix64(u64(seed) ^ fnv1a64(utf8.encode(`${instance}/${step}/${phase}/${action}/${k}`)));
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** The base wait before attempt k + 1, before jitter. */
function base(policy: RetryPolicy, k: number): bigint {
  const initial = BigInt(policy.initialUs);
  const cap = BigInt(policy.maxUs);
  switch (policy.backoff) {
    case "exponential": {
      const coefficient = BigInt(policy.coefficientMilli);
      let d = initial;
      for (let i = 1; i < k; i++) d = min(cap, (d * coefficient) / 1000n);
      return d;
    }
    case "linear":
      return min(cap, initial * BigInt(k));
    case "constant":
      return min(cap, initial);
  }
}

/**
 * delay(k): the wait in µs before attempt k + 1. `last` is the previous wait of the same task (for
 * decorrelated jitter), `u32` the top 32 bits of the attempt's draw.
 */
export function delayUs(policy: RetryPolicy, k: number, last: number | null, u32: bigint): number {
  const d = base(policy, k);
  const f = (x: bigint): bigint => (u32 * x) >> 32n; // u32 / 2^32 of x, floored
  switch (policy.jitter) {
    case "none":
      return Number(d);
    case "full":
      return Number(f(d));
    case "equal":
      return Number(d / 2n + f(d - d / 2n));
    case "decorrelated": {
      const initial = BigInt(policy.initialUs);
      const high = max(initial, 3n * (last === null ? initial : BigInt(last)));
      return Number(min(BigInt(policy.maxUs), initial + f(high - initial)));
    }
  }
}

/** The wait before attempt k + 1 of the call `phase`/`action` of `step` in `instance`, drawn as the protocol says. */
export function retryDelayUs(seed: bigint, policy: RetryPolicy, instance: number, step: string, phase: Phase,
                             action: number, k: number, last: number | null): number {
  return delayUs(policy, k, last, rand(seed, instance, step, phase, action, k) >> 32n);
}
