// The world as the outline's TypeScript listing sees it: calls, sleeps and records, over PROTOCOL.md.
//
// The port of the listing (listing.ts) is ordinary async code: it awaits calls and sleeps, as the
// listing does. This module is the only place that speaks the protocol on its behalf:
//
// - a call becomes an `invoke` command and two promises that the world's `result` event settles:
//   `reply` (the executor's answer) and `deadline` (the listing's timeout promise); exactly one of
//   them ever settles, as in the listing's `Promise.race` — the loser just never does;
// - a sleep (`setTimeout` from timers/promises) becomes a `timer` command, resolved by the world's
//   `timer` event;
// - a record of a step's or a workflow's fate becomes a `step` or `finish` command.
//
// Events are dispatched one at a time and the microtask queue is drained after each one, as Node
// does between two I/O callbacks: the listing's promise chains run to their next await, in an
// order the language defines. No clock (time is the activation's), no randomness.

import { ProtocolError } from "./protocol.js";
import type { CallRef, Command, Event, InstanceFate, Phase, StepFate } from "./protocol.js";

/** A call the service answered with an error (ServiceError, …): a definite failure. */
export class ServiceError extends Error {
  constructor(readonly error: string) {
    super(`${error} from the service`);
  }
}

/** The listing's timeout promise won the race: the call may still take effect. */
export class TimeoutError extends Error {
  readonly error = "Timeout";
}

/** One call: `reply` settles if the service answered first, `deadline` rejects if the deadline came first. */
export interface Call {
  readonly reply: Promise<void>;
  readonly deadline: Promise<never>;
}

/** Which call or wait an event names, minus the attempt. */
export interface Target {
  readonly instance: number;
  readonly step: string;
  readonly phase: Phase;
  readonly action: number;
}

type Settle = (outcome: "ok" | "error" | "timeout", error: string | null) => void;

const keyOf = (ref: CallRef): string => `${ref.instance}/${ref.step}/${ref.phase}/${ref.action}/${ref.attempt}`;

/** Lets every promise continuation that is ready run, as Node does before its next I/O callback. */
const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (reason: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (reason: Error) => void = () => undefined;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

export class ListingWorld {
  private out: Command[] = [];
  private clockUs = 0;
  private readonly calls = new Map<string, Settle>();
  private readonly sleeps = new Map<string, () => void>();
  private readonly started = new Set<number>();
  private readonly ended = new Set<number>();
  private failure: unknown = null;

  constructor(private readonly steps: ReadonlySet<string>) {}

  /** The simulated time of the activation being handled, in µs (what Date.now() stands for). */
  nowUs(): number {
    return this.clockUs;
  }

  /**
   * Handles one activation: each event in turn, letting the listing's code run after each; returns
   * the commands it issued meanwhile. `start` is how an order reaches the listing.
   */
  async activate(timeUs: number, events: readonly Event[], start: (instance: number) => void): Promise<Command[]> {
    this.out = [];
    this.clockUs = timeUs;
    for (const event of events) {
      this.dispatch(event, start);
      await drain();
      if (this.failure !== null) throw this.failure;
    }
    return this.out;
  }

  private dispatch(event: Event, start: (instance: number) => void): void {
    if (event.kind === "start") {
      if (this.started.has(event.instance)) throw new ProtocolError(`instance ${event.instance} started twice`);
      this.started.add(event.instance);
      start(event.instance);
      return;
    }
    if (!this.started.has(event.instance)) {
      throw new ProtocolError(`an event for instance ${event.instance}, which this process never started`);
    }
    if (!this.steps.has(event.step)) throw new ProtocolError(`the workflow has no step "${event.step}"`);
    if (this.ended.has(event.instance)) return; // nothing listens any more
    const key = keyOf(event);
    if (event.kind === "result") {
      const settle = this.calls.get(key);
      this.calls.delete(key);
      settle?.(event.outcome, event.error); // no one waiting: a late or duplicate result
    } else {
      const wake = this.sleeps.get(key);
      this.sleeps.delete(key);
      wake?.();
    }
  }

  /** Calls the service: `invoke`; `timeoutUs` null for a call never awaited (fire-and-forget). */
  invoke(target: Target, attempt: number, timeoutUs: number | null): Call {
    this.out.push({ cmd: "invoke", ...target, attempt, timeout_us: timeoutUs });
    if (timeoutUs === null) return { reply: Promise.resolve(), deadline: never() };
    const reply = deferred<void>();
    const deadline = deferred<never>();
    this.calls.set(keyOf({ ...target, attempt }), (outcome, error) => {
      if (outcome === "ok") reply.resolve();
      else if (outcome === "error") reply.reject(new ServiceError(error ?? "Error"));
      else deadline.reject(new TimeoutError(`Task timed out after ${timeoutUs / 1000}ms`));
    });
    return { reply: reply.promise, deadline: deadline.promise };
  }

  /** Sleeps `delayUs` of simulated time: a `timer` command, woken by its `timer` event. */
  sleep(target: Target, attempt: number, delayUs: number): Promise<void> {
    this.out.push({ cmd: "timer", ...target, attempt, delay_us: delayUs });
    return new Promise((resolve) => this.sleeps.set(keyOf({ ...target, attempt }), resolve));
  }

  step(instance: number, step: string, status: StepFate, attempt: number | null, info: string | null): void {
    this.out.push({ cmd: "step", instance, step, status, attempt, info });
  }

  finish(instance: number, status: InstanceFate): void {
    this.ended.add(instance);
    this.out.push({ cmd: "finish", instance, status });
  }

  /** A fault of this port (not of the listing) seen in a promise chain: reported when the event is done. */
  fail(error: unknown): void {
    this.failure ??= error;
  }
}
