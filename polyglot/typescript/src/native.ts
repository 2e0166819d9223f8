// Native mode for TypeScript (polyglot/NATIVE.md): the order-fulfillment workflow run by many promise
// chains at once on Node's event loop, against in-process fake services, measured, and reported as one
// JSON object.
//
//     node polyglot/typescript/dist/native.js concurrency '{"n": 100000}'
//     node polyglot/typescript/dist/native.js cpu_step '{"fix": true}'
//     node polyglot/typescript/dist/native.js cancellation '{"cancel": true}'
//     node polyglot/typescript/dist/native.js startup '{}'
//
// One JSON object on stdout and exit status 0; on bad input {"error": ...} and exit status 2. Node's
// standard library only; it shares nothing with the protocol orchestrator (orchestrator.ts, core.ts).
//
// The same file is also the body of the CPU pool's worker threads (cpu_step with fix): a Worker started
// on this file with POOL_ROLE as its workerData serves burn requests instead of running main().

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import * as v8 from "node:v8";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

/** The program's own entry (the driver's clock, from exec, also sees Node starting up). */
const START = performance.now();

export const LANGUAGE = "typescript";
export const FLAVOR = "event-loop";
export const MAX_INSTANCES = 1_000_000; // NATIVE.md: n from 1 to 10⁶

/** Set in the environment of a copy of this program re-started with a larger heap (concurrency). */
const RESPAWN_ENV = "SDE_NATIVE_TS_RESPAWNED";
/** The workerData that makes a Worker on this file a CPU-pool worker. */
const POOL_ROLE = "sde-native-cpu-pool";

// -- params ------------------------------------------------------------------------------------------------

/** Bad input: reported as {"error": message}, exit status 2. */
export class BadInput extends Error {}

/** The workflow's five steps, in order: validate → (reserve ∥ pay) → ship → confirm. */
export const STEPS = ["validate-order", "reserve-inventory", "process-payment", "ship-order", "send-confirmation"] as const;
type StepIndex = 0 | 1 | 2 | 3 | 4;
type Latencies = readonly [number, number, number, number, number];

/** The params common to every experiment, checked; `raw` is the whole object, for the rest. */
export interface Params {
  readonly raw: Readonly<Record<string, unknown>>;
  readonly latencyMs: Latencies;
  readonly failureRate: number;
  readonly seed: number;
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseParams(text: string): Params {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err: unknown) {
    throw new BadInput(`params are not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isRecord(raw)) throw new BadInput("params are a JSON object");
  if ("flavor" in raw && raw["flavor"] !== FLAVOR) {
    throw new BadInput(`flavor is one of ${FLAVOR}, got ${show(raw["flavor"])}`);
  }
  let latencyMs: Latencies = [5, 10, 10, 10, 5];
  if ("latency_ms" in raw) {
    const list = raw["latency_ms"];
    if (!Array.isArray(list) || list.length !== STEPS.length) {
      throw new BadInput(`latency_ms lists ${STEPS.length} numbers, one per step, got ${show(list)}`);
    }
    const ms = list.map((x: unknown, k) => {
      if (typeof x !== "number" || !Number.isFinite(x) || x < 0 || x > 3.6e6) {
        throw new BadInput(`latency_ms[${k}] is a number of milliseconds from 0 to 3600000, got ${show(x)}`);
      }
      return x;
    });
    latencyMs = [ms[0] ?? 0, ms[1] ?? 0, ms[2] ?? 0, ms[3] ?? 0, ms[4] ?? 0];
  }
  return {
    raw,
    latencyMs,
    failureRate: numberParam(raw, "failure_rate", 0, 0, 1),
    seed: intParam(raw, "seed", 0, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  };
}

/** The integer raw[name] (1e6 is one), def if absent (undefined: required). */
export function intParam(raw: Readonly<Record<string, unknown>>, name: string, def: number | undefined,
                         lo: number, hi: number): number {
  const v = raw[name];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
    throw new BadInput(`${name} is an integer from ${lo} to ${hi}, got ${v === undefined ? "nothing" : show(v)}`);
  }
  return v;
}

export function numberParam(raw: Readonly<Record<string, unknown>>, name: string, def: number,
                            lo: number, hi: number): number {
  const v = raw[name];
  if (v === undefined) return def;
  if (typeof v !== "number" || !Number.isFinite(v) || v < lo || v > hi) {
    throw new BadInput(`${name} is a number from ${lo} to ${hi}, got ${show(v)}`);
  }
  return v;
}

export function boolParam(raw: Readonly<Record<string, unknown>>, name: string, def: boolean): boolean {
  const v = raw[name];
  if (v === undefined) return def;
  if (typeof v !== "boolean") throw new BadInput(`${name} is true or false, got ${show(v)}`);
  return v;
}

// -- measuring ---------------------------------------------------------------------------------------------

export interface Rss {
  readonly rss: number | null; // VmRSS, bytes
  readonly hwm: number | null; // VmHWM (the peak), bytes
}

/** VmRSS and VmHWM from /proc/self/status, in bytes; null where /proc is missing. */
export function readRss(): Rss {
  let status: string;
  try {
    status = readFileSync("/proc/self/status", "utf8");
  } catch {
    return { rss: null, hwm: null };
  }
  const field = (key: string): number | null => {
    const kb = new RegExp(`^${key}:\\s*(\\d+)\\s*kB`, "m").exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  };
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

/** The nearest-rank q-th percentile of ascending `sorted` (as the Python reference), null if empty. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((sorted.length * q) / 100) - 1)] ?? null;
}

const seconds = (ms: number): number => ms / 1000;

// -- the workflow --------------------------------------------------------------------------------------------

/** A 32-bit mixer (murmur3's finaliser). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Uniform draws in [0, 1) from a PRNG seeded with `seed` and the instance number (splitmix32-like). */
export function prng(seed: number, instance: number): () => number {
  let state = mix32(mix32(seed | 0) ^ mix32(Math.floor(seed / 2 ** 32) | 0) ^ mix32(instance ^ 0x5bd1e995));
  return () => {
    state = (state + 0x9e3779b9) | 0;
    return mix32(state) / 2 ** 32;
  };
}

/** One call to a fake service: wait its latency (a timer: the instance is waiting on I/O) or, for a
 * CPU-bound payment, run `work`; then succeed, or fail with probability failure_rate. */
async function callService(p: Params, draw: () => number, k: StepIndex, work?: () => Promise<void>): Promise<boolean> {
  if (work === undefined) await sleep(p.latencyMs[k]);
  else await work();
  return draw() >= p.failureRate;
}

/** One instance: validate → (reserve ∥ pay) → ship → confirm; false as soon as a step fails (no retries,
 * no compensation). `payment`, if given, replaces process-payment's wait (cpu_step). */
export async function workflow(p: Params, instance: number, payment?: () => Promise<void>): Promise<boolean> {
  const draw = prng(p.seed, instance);
  if (!(await callService(p, draw, 0))) return false;
  const [reserved, paid] = await Promise.all([callService(p, draw, 1), callService(p, draw, 2, payment)]);
  return reserved && paid && (await callService(p, draw, 3)) && (await callService(p, draw, 4));
}

/** CPU work for about `ms` milliseconds: SHA-256 over a counter until the clock says so. The number of
 * hashes is returned (so the loop cannot be optimised away). */
export function burn(ms: number): number {
  const end = performance.now() + ms;
  const counter = Buffer.alloc(8);
  let h: Buffer = Buffer.alloc(0);
  let n = 0;
  while (performance.now() < end) {
    counter.writeUInt32LE(n >>> 0, 0);
    counter.writeUInt32LE(Math.floor(n / 2 ** 32) >>> 0, 4);
    h = createHash("sha256").update(h).update(counter).digest();
    n += 1;
  }
  return n;
}

// -- the CPU pool: a few worker_threads Workers, started once and reused -----------------------------------

interface Job {
  readonly ms: number;
  readonly resolve: (hashes: number) => void;
  readonly reject: (err: Error) => void;
}

export class CpuPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();

  private constructor(readonly size: number) {}

  /** Starts `size` workers and resolves once every one is online. */
  static async start(size: number): Promise<CpuPool> {
    const pool = new CpuPool(size);
    await Promise.all(Array.from({ length: size }, () => pool.startWorker()));
    return pool;
  }

  private startWorker(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(__filename, { workerData: POOL_ROLE });
      worker.once("online", () => {
        this.idle.push(worker);
        resolve();
        this.dispatch();
      });
      worker.on("message", (message: unknown) => {
        const job = this.running.get(worker);
        this.running.delete(worker);
        this.idle.push(worker);
        if (job !== undefined) {
          if (isRecord(message) && typeof message["hashes"] === "number") job.resolve(message["hashes"]);
          else job.reject(new Error(`the CPU pool answered ${show(message)}`));
        }
        this.dispatch();
      });
      worker.on("error", (err: Error) => {
        reject(err);
        this.running.get(worker)?.reject(err);
        this.running.delete(worker);
      });
    });
  }

  /** Burns `ms` of CPU on a pool thread; resolves with the number of hashes. */
  run(ms: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ms, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (;;) {
      const worker = this.idle.pop();
      if (worker === undefined) return;
      const job = this.queue.shift();
      if (job === undefined) {
        this.idle.push(worker);
        return;
      }
      this.running.set(worker, job);
      worker.postMessage({ ms: job.ms });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.idle, ...this.running.keys()].map((w) => w.terminate()));
  }
}

/** The body of a pool worker: burn what it is asked, answer how many hashes that took. */
function servePool(): void {
  const port = parentPort;
  if (port === null) return;
  port.on("message", (message: unknown) => {
    const ms = isRecord(message) && typeof message["ms"] === "number" ? message["ms"] : 0;
    port.postMessage({ hashes: burn(ms) });
  });
}

/** A few workers: as many as the cores, at most 4 (libuv's own thread pool is 4), at least 1. */
export const poolSize = (): number => Math.max(1, Math.min(4, os.availableParallelism()));

// -- experiments -------------------------------------------------------------------------------------------

type Fields = Record<string, unknown>;

/** n instances in flight at once, one promise chain (one call of an async function) each. */
export async function concurrency(p: Params): Promise<Fields> {
  const n = intParam(p.raw, "n", undefined, 1, MAX_INSTANCES);
  const idle = readRss();
  const t0 = performance.now();
  // Each call runs synchronously up to its first await (validate-order's timer) and returns a pending
  // promise: when this loop ends, all n are started, and no timer can fire before it ends.
  const instances: Promise<boolean>[] = [];
  for (let i = 0; i < n; i++) instances.push(workflow(p, i));
  const spawned = performance.now() - t0;
  const outcomes = await Promise.all(instances);
  const wall = performance.now() - t0;
  const peak = readRss();
  let completed = 0;
  for (const ok of outcomes) if (ok) completed += 1;
  return {
    rss_idle: idle.rss, rss_peak: peak.hwm, spawn_seconds: seconds(spawned), wall_seconds: seconds(wall),
    completed, failed: n - completed,
    heap_limit_bytes: v8.getHeapStatistics().heap_size_limit,
    respawned_with: process.env[RESPAWN_ENV] ?? null,
  };
}

/** One instance in `every` pays with CPU work; the latency of the others, started over one second. */
export async function cpuStep(p: Params): Promise<Fields> {
  const n = intParam(p.raw, "n", 1000, 1, MAX_INSTANCES);
  const cpuMs = numberParam(p.raw, "cpu_ms", 50, 0, 60_000);
  const every = intParam(p.raw, "every", 100, 1, Number.MAX_SAFE_INTEGER);
  const fix = boolParam(p.raw, "fix", false);
  // The pool is started (and online) before the clock starts: started once, reused by every heavy instance.
  const pool = fix ? await CpuPool.start(poolSize()) : null;
  const onPool = async (): Promise<void> => void (await pool?.run(cpuMs));
  const inline = async (): Promise<void> => void burn(cpuMs); // runs at the call: blocks the event loop
  try {
    const latencies: number[] = [];
    let lateMax = 0;
    const t0 = performance.now();
    const instance = async (i: number): Promise<void> => {
      const due = (i * 1000) / n; // a steady arrival rate over one second
      await sleep(due);
      const began = performance.now();
      lateMax = Math.max(lateMax, began - t0 - due);
      const heavy = i % every === 0;
      await workflow(p, i, heavy ? (fix ? onPool : inline) : undefined);
      if (!heavy) latencies.push(seconds(performance.now() - began));
    };
    const all: Promise<void>[] = [];
    for (let i = 0; i < n; i++) all.push(instance(i));
    await Promise.all(all);
    const wall = performance.now() - t0;
    latencies.sort((a, b) => a - b);
    return {
      p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? null,
      wall_seconds: seconds(wall), heavy_instances: n - latencies.length,
      late_start_max_seconds: seconds(lateMax),
      pool_workers: pool?.size ?? 0,
      note: fix
        ? `with fix: the CPU work runs on a pool of ${pool?.size ?? 0} worker_threads Workers started once ` +
          "(postMessage there, a message back); the event loop only waits, so the other instances' timers fire on time"
        : "without fix: the CPU loop runs inline on the event loop's only thread; while it runs no timer " +
          "fires and no promise continuation runs, so every instance in flight waits for it",
    };
  } finally {
    await pool?.close();
  }
}

/** Calls with per-attempt timeouts against a service whose effect happens at the end of its work. */
export async function cancellation(p: Params): Promise<Fields> {
  const calls = intParam(p.raw, "n", 200, 1, MAX_INSTANCES);
  const timeoutMs = numberParam(p.raw, "timeout_ms", 20, 0, 3.6e6);
  const workMs = numberParam(p.raw, "work_ms", 50, 0, 3.6e6);
  const attempts = intParam(p.raw, "attempts", 3, 1, 1000);
  const cancel = boolParam(p.raw, "cancel", false);
  let effects = 0;
  let made = 0;
  const running: Promise<void>[] = [];

  /** The fake service: its work takes work_ms, then it has its effect, unless its signal (if it was
   * given one) was aborted, which it checks while waiting and once more before the effect. */
  const service = async (signal?: AbortSignal): Promise<void> => {
    await sleep(workMs, undefined, signal === undefined ? {} : { signal });
    signal?.throwIfAborted();
    effects += 1;
  };

  /** Without cancel: a bare Promise.race between the work and a timer. The caller stops waiting; the
   * work does not stop, and has its effect later. */
  const raceOnly = async (): Promise<boolean> => {
    const work = service();
    running.push(work);
    const winner = await Promise.race([work.then(() => "done" as const), sleep(timeoutMs, "timeout" as const)]);
    return winner === "done";
  };

  /** With cancel: an AbortController aborted by the attempt's timer; the work checks its signal. */
  const withAbort = async (): Promise<boolean> => {
    const controller = new AbortController();
    const timerOff = new AbortController(); // stops the attempt's timer once the work is over
    sleep(timeoutMs, undefined, { signal: timerOff.signal }).then(
      () => controller.abort(new Error(`attempt timed out after ${timeoutMs} ms`)),
      () => undefined, // the work finished first: the timer was cancelled
    );
    const work = service(controller.signal);
    running.push(work.catch(() => undefined));
    try {
      await work;
      return true;
    } catch (err: unknown) {
      if (controller.signal.aborted) return false;
      throw err;
    } finally {
      timerOff.abort();
    }
  };

  const call = async (): Promise<void> => {
    for (let a = 0; a < attempts; a++) {
      made += 1;
      if (await (cancel ? withAbort() : raceOnly())) return;
    }
  };

  const t0 = performance.now();
  const all: Promise<void>[] = [];
  for (let c = 0; c < calls; c++) all.push(call());
  await Promise.all(all);
  await sleep(workMs); // stragglers: work_ms more, as NATIVE.md says...
  await Promise.allSettled(running); // ...and every piece of work really over, so a busy machine cannot undercount
  return {
    calls, attempts_made: made, effects, wall_seconds: seconds(performance.now() - t0),
    note: cancel
      ? "with cancel: each attempt's AbortController is aborted by its timer; the work's timers/promises " +
        "setTimeout gets the signal, rejects with an AbortError and the effect never happens"
      : "without cancel: Promise.race only stops the caller waiting; the losing promise is not cancelled " +
        "(a promise cannot be), the work's timer still fires and every attempt has its effect",
  };
}

export function startup(): Fields {
  return {
    seconds_to_ready: seconds(performance.now() - START),
    // performance.now() counts from Node's process start (performance.timeOrigin): the runtime's own
    // start-up up to this program's entry is the difference.
    seconds_since_process_start: seconds(performance.now()),
  };
}

const EXPERIMENTS: Readonly<Record<string, (p: Params) => Fields | Promise<Fields>>> = {
  concurrency, cpu_step: cpuStep, cancellation, startup,
};

// -- the heap for a million instances ----------------------------------------------------------------------

/** Heap wanted for n instances in flight: ~2.3 KB of live objects each was measured at n = 10⁶ (Node 20),
 * plus garbage between collections; 3 KB each and 512 MiB more. */
export const heapWantedBytes = (n: number): number => n * 3 * 1024 + 512 * 2 ** 20;

/** If concurrency's n needs a larger V8 heap than this process has (its default depends on the machine's
 * memory: ~4 GiB here, with 24 GiB), the --max-old-space-size that gives it, else null. */
function largerHeapFlag(experiment: string, p: Params): string | null {
  if (experiment !== "concurrency" || process.env[RESPAWN_ENV] !== undefined) return null;
  const n = intParam(p.raw, "n", undefined, 1, MAX_INSTANCES);
  const wanted = heapWantedBytes(n);
  if (v8.getHeapStatistics().heap_size_limit >= wanted) return null;
  const mib = Math.ceil(Math.min(wanted, os.totalmem() * 0.75) / 2 ** 20);
  return `--max-old-space-size=${mib}`;
}

/** Runs this program again with `flag`, passes its answer on; the exit status is the child's. */
function respawn(flag: string, args: readonly string[], base: Fields): number {
  const script = process.argv[1] ?? __filename;
  const child = spawnSync(process.execPath, [...process.execArgv, flag, script, ...args], {
    stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, [RESPAWN_ENV]: flag }, maxBuffer: 16 * 2 ** 20,
  });
  const out = child.stdout?.toString() ?? "";
  if (out.trim() !== "") {
    process.stdout.write(out.endsWith("\n") ? out : `${out}\n`);
    return child.status ?? 1;
  }
  // No answer: the child died (out of memory, most likely). A size the machine does not allow is a result.
  const how = child.error?.message ?? (child.signal !== null ? `signal ${child.signal}` : `status ${child.status}`);
  process.stdout.write(`${JSON.stringify({ ...base, error: `node ${flag} ended without a result (${how})` })}\n`);
  return 0;
}

// -- main --------------------------------------------------------------------------------------------------

const USAGE = `usage: native.js {${Object.keys(EXPERIMENTS).join("|")}} '<params as JSON>'`;

/** Runs one experiment; resolves with the line to print and the exit status. */
export async function run(args: readonly string[]): Promise<{ line: string | null; status: number }> {
  const fail = (message: string, status: number) => ({ line: JSON.stringify({ error: message }), status });
  const [name, text = "{}"] = args;
  const experiment = name === undefined ? undefined : EXPERIMENTS[name];
  if (name === undefined || experiment === undefined || args.length > 2) return fail(USAGE, 2);
  try {
    const p = parseParams(text);
    const base: Fields = { language: LANGUAGE, flavor: FLAVOR, experiment: name, params: p.raw };
    const flag = largerHeapFlag(name, p);
    if (flag !== null) return { line: null, status: respawn(flag, args, base) };
    const result = await experiment(p);
    return { line: JSON.stringify({ ...base, ...result, node_version: process.version }), status: 0 };
  } catch (err: unknown) {
    if (err instanceof BadInput) return fail(err.message, 2);
    return fail(`internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, 1);
  }
}

function main(): void {
  run(process.argv.slice(2)).then(({ line, status }) => {
    if (line === null) process.exit(status);
    process.stdout.write(`${line}\n`, () => process.exit(status));
  }, (err: unknown) => {
    process.stderr.write(`native: ${String(err)}\n`);
    process.exit(1);
  });
}

if (!isMainThread && workerData === POOL_ROLE) servePool();
else if (isMainThread && require.main === module) main();
