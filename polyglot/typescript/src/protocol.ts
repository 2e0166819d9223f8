// The wire format of polyglot/PROTOCOL.md: what the world sends, what the orchestrator answers.
//
// Everything that crosses the process boundary is decoded here from `unknown` into the typed
// messages below, or refused with a ProtocolError that says what and where. Past this module the
// core never sees malformed data. Unknown keys are ignored (forward compatibility); unknown message
// types, event kinds and enum values are errors.

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

// -- the workflow, as the core uses it (decoded from the canonical workflow) -------------------------

export type StepType = "sync-task" | "async-task" | "fire-and-forget";
export type Backoff = "exponential" | "linear" | "constant";
export type Jitter = "none" | "full" | "equal" | "decorrelated";

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  readonly initialUs: number;
  readonly coefficientMilli: number;
  readonly maxUs: number;
  readonly jitter: Jitter;
  readonly nonRetryable: readonly string[];
}

export interface StepSpec {
  readonly name: string;
  readonly type: StepType;
  readonly dependsOn: readonly string[];
  readonly timeoutUs: number;
  readonly retry: RetryPolicy;
  /** How many compensation actions the step has (0: not compensable); they run in this order. */
  readonly compensations: number;
}

export interface Workflow {
  readonly name: string;
  readonly steps: readonly StepSpec[];
  readonly compensationRetry: RetryPolicy;
}

// -- messages from the world -------------------------------------------------------------------------

export type Phase = "do" | "undo";
export type Outcome = "ok" | "error" | "timeout";

/** The call (or the wait before it) an event names. */
export interface CallRef {
  readonly instance: number;
  readonly step: string;
  readonly phase: Phase;
  readonly action: number;
  readonly attempt: number;
}

export type StartEvent = { readonly kind: "start"; readonly instance: number };
/** The outcome of an invoked call; `error` names a failure ("Timeout" is implied by outcome timeout). */
export type ResultEvent = { readonly kind: "result"; readonly outcome: Outcome; readonly error: string | null } & CallRef;
export type TimerEvent = { readonly kind: "timer" } & CallRef;
export type Event = StartEvent | ResultEvent | TimerEvent;

export type WorldMessage =
  | { readonly type: "hello"; readonly seed: bigint; readonly workflow: Workflow }
  | { readonly type: "activation"; readonly timeUs: number; readonly replay: boolean; readonly events: readonly Event[] }
  | { readonly type: "shutdown" };

// -- messages from the orchestrator (already in wire form: serialised as they are) -------------------

export type StepFate = "completed" | "failed" | "skipped" | "compensated" | "exhausted";
export type InstanceFate = "completed" | "compensated" | "failed" | "needs_intervention";

export type Command =
  | {
      readonly cmd: "invoke"; readonly instance: number; readonly step: string; readonly phase: Phase;
      readonly action: number; readonly attempt: number; readonly timeout_us: number | null;
    }
  | {
      readonly cmd: "timer"; readonly instance: number; readonly step: string; readonly phase: Phase;
      readonly action: number; readonly attempt: number; readonly delay_us: number;
    }
  | {
      readonly cmd: "step"; readonly instance: number; readonly step: string; readonly status: StepFate;
      readonly attempt: number | null; readonly info: string | null;
    }
  | { readonly cmd: "finish"; readonly instance: number; readonly status: InstanceFate };

export type OrchestratorMessage =
  | { readonly type: "ready" }
  | { readonly type: "commands"; readonly time_us: number; readonly commands: readonly Command[] }
  | { readonly type: "error"; readonly message: string };

export function encode(message: OrchestratorMessage): string {
  return JSON.stringify(message);
}

// -- decoding ----------------------------------------------------------------------------------------

type Json = Readonly<Record<string, unknown>>;

const isObject = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);

function oneOf<T extends string>(choices: readonly T[]): (x: unknown) => x is T {
  return (x: unknown): x is T => typeof x === "string" && (choices as readonly string[]).includes(x);
}

const isString = (x: unknown): x is string => typeof x === "string";
const isInteger = (x: unknown): x is number => Number.isSafeInteger(x);
const isNatural = (x: unknown): x is number => isInteger(x) && x >= 0;
const isPositive = (x: unknown): x is number => isInteger(x) && x >= 1;
const isArray = (x: unknown): x is readonly unknown[] => Array.isArray(x);
const isStrings = (x: unknown): x is readonly string[] => isArray(x) && x.every(isString);
const isBoolean = (x: unknown): x is boolean => typeof x === "boolean";
const isStringOrNull = (x: unknown): x is string | null => x === null || isString(x);

const isStepType = oneOf<StepType>(["sync-task", "async-task", "fire-and-forget"]);
const isBackoff = oneOf<Backoff>(["exponential", "linear", "constant"]);
const isJitter = oneOf<Jitter>(["none", "full", "equal", "decorrelated"]);
const isPhase = oneOf<Phase>(["do", "undo"]);
const isOutcome = oneOf<Outcome>(["ok", "error", "timeout"]);

/** obj[key], which must be there and pass `check`; `where` names obj in the message. */
function field<T>(obj: Json, key: string, check: (x: unknown) => x is T, expected: string, where: string): T {
  if (!Object.hasOwn(obj, key)) throw new ProtocolError(`${where} lacks "${key}"`);
  const value = obj[key];
  if (!check(value)) throw new ProtocolError(`${where}: "${key}" must be ${expected}, got ${show(value)}`);
  return value;
}

/** Like field, for a key that may be absent (then `fallback`). */
function optional<T>(obj: Json, key: string, check: (x: unknown) => x is T, expected: string, where: string,
                     fallback: T): T {
  return Object.hasOwn(obj, key) ? field(obj, key, check, expected, where) : fallback;
}

function show(x: unknown): string {
  const text = JSON.stringify(x) ?? String(x);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function policy(x: unknown, where: string): RetryPolicy {
  if (!isObject(x)) throw new ProtocolError(`${where} must be an object`);
  return {
    maxAttempts: field(x, "max_attempts", isPositive, "an integer >= 1", where),
    backoff: field(x, "backoff", isBackoff, "exponential, linear or constant", where),
    initialUs: field(x, "initial_us", isNatural, "a natural number of µs", where),
    coefficientMilli: field(x, "coefficient_milli", isNatural, "a natural number", where),
    maxUs: field(x, "max_us", isNatural, "a natural number of µs", where),
    jitter: field(x, "jitter", isJitter, "none, full, equal or decorrelated", where),
    nonRetryable: field(x, "non_retryable", isStrings, "a list of error names", where),
  };
}

function step(x: unknown, n: number): StepSpec {
  if (!isObject(x)) throw new ProtocolError(`workflow step ${n} must be an object`);
  const name = field(x, "name", isString, "a string", `workflow step ${n}`);
  const where = `workflow step "${name}"`;
  return {
    name,
    type: field(x, "type", isStepType, "sync-task, async-task or fire-and-forget", where),
    dependsOn: field(x, "depends_on", isStrings, "a list of step names", where),
    timeoutUs: field(x, "timeout_us", isNatural, "a natural number of µs", where),
    retry: policy(field(x, "retry", isObject, "an object", where), `${where}'s retry`),
    compensations: field(x, "compensation", isArray, "a list of actions", where).length,
  };
}

export function decodeWorkflow(x: unknown): Workflow {
  if (!isObject(x)) throw new ProtocolError("hello: \"workflow\" must be an object");
  const steps = field(x, "steps", isArray, "a list", "workflow").map(step);
  const names = new Set<string>();
  for (const s of steps) {
    if (names.has(s.name)) throw new ProtocolError(`workflow: two steps are called "${s.name}"`);
    names.add(s.name);
  }
  for (const s of steps) {
    const unknown = s.dependsOn.find((d) => !names.has(d));
    if (unknown !== undefined) throw new ProtocolError(`workflow step "${s.name}" depends on "${unknown}", which it does not have`);
  }
  return {
    name: optional(x, "name", isString, "a string", "workflow", ""),
    steps,
    compensationRetry: policy(field(x, "compensation_retry", isObject, "an object", "workflow"),
                              "workflow's compensation_retry"),
  };
}

function callRef(e: Json, kind: string): CallRef {
  const where = `a "${kind}" event`;
  return {
    instance: field(e, "instance", isNatural, "a natural number", where),
    step: field(e, "step", isString, "a step name", where),
    phase: field(e, "phase", isPhase, "do or undo", where),
    action: field(e, "action", isNatural, "a natural number", where),
    attempt: field(e, "attempt", isPositive, "an integer >= 1", where),
  };
}

export function decodeEvent(e: unknown): Event {
  if (!isObject(e)) throw new ProtocolError(`an event must be an object, got ${show(e)}`);
  const kind = e["kind"];
  switch (kind) {
    case "start":
      return { kind, instance: field(e, "instance", isNatural, "a natural number", `a "start" event`) };
    case "result":
      return {
        kind, ...callRef(e, kind),
        outcome: field(e, "outcome", isOutcome, "ok, error or timeout", `a "result" event`),
        error: optional(e, "error", isStringOrNull, "an error name or null", `a "result" event`, null),
      };
    case "timer":
      return { kind, ...callRef(e, kind) };
    default:
      throw new ProtocolError(Object.hasOwn(e, "kind") ? `unknown event kind ${show(kind)}` : "an event lacks \"kind\"");
  }
}

/** One line from the world, decoded; a ProtocolError if it is not a message this protocol allows. */
export function decodeMessage(line: string): WorldMessage {
  let x: unknown;
  try {
    x = JSON.parse(line);
  } catch (err: unknown) {
    throw new ProtocolError(`malformed JSON (${err instanceof Error ? err.message : String(err)}): ${show(line)}`);
  }
  if (!isObject(x)) throw new ProtocolError(`a message must be a JSON object, got ${show(x)}`);
  const type = x["type"];
  switch (type) {
    case "hello": {
      const version = field(x, "protocol", isInteger, "an integer", "hello");
      if (version !== 1) throw new ProtocolError(`hello: protocol version ${version} is not supported (only 1)`);
      const seed = field(x, "seed", isNatural, "an integer in [0, 2^53)", "hello");
      return { type, seed: BigInt(seed), workflow: decodeWorkflow(field(x, "workflow", isObject, "an object", "hello")) };
    }
    case "activation":
      return {
        type,
        timeUs: field(x, "time_us", isNatural, "a natural number of µs", "activation"),
        replay: optional(x, "replay", isBoolean, "a boolean", "activation", false),
        events: field(x, "events", isArray, "a list", "activation").map(decodeEvent),
      };
    case "shutdown":
      return { type };
    default:
      throw new ProtocolError(Object.hasOwn(x, "type") ? `unknown message type ${show(type)}` : "a message lacks \"type\"");
  }
}
