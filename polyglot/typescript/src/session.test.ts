// The process boundary without the process: lines in, replies out, bad input refused.

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Session } from "./session.js";
import type { Reply } from "./session.js";

const TESTDATA = join(__dirname, "..", "testdata");

const STEP = {
  name: "validate-order", type: "sync-task", service: "order-service", endpoint: "/validate", topic: null,
  depends_on: [], timeout_us: 5_000_000, compensation: [],
  retry: { max_attempts: 3, backoff: "exponential", initial_us: 1_000_000, coefficient_milli: 2000,
           max_us: 100_000_000, jitter: "none", non_retryable: [] },
};
const WORKFLOW = { name: "w", version: "1.0", steps: [STEP], compensation_retry: STEP.retry };
const HELLO = { type: "hello", protocol: 1, seed: 7, workflow: WORKFLOW };
const activation = (events: unknown[]): Record<string, unknown> => ({ type: "activation", time_us: 1500, replay: false, events });
const START = activation([{ kind: "start", instance: 0 }]);

/** Sends each message (a string is sent as is) and returns the replies. */
function talk(...messages: unknown[]): Reply[] {
  const session = new Session();
  return messages.map((m) => session.handle(typeof m === "string" ? m : JSON.stringify(m)));
}

const last = <T>(xs: T[]): T => {
  const x = xs.at(-1);
  assert.ok(x !== undefined);
  return x;
};

describe("session", () => {
  it("says ready, answers an activation with its time and commands, and exits on shutdown", () => {
    assert.deepEqual(talk(HELLO, START, { type: "shutdown" }), [
      { kind: "answer", line: '{"type":"ready"}' },
      { kind: "answer", line: '{"type":"commands","time_us":1500,"commands":[{"cmd":"invoke","instance":0,' +
        '"step":"validate-order","phase":"do","action":0,"attempt":1,"timeout_us":5000000}]}' },
      { kind: "exit", status: 0 },
    ]);
  });

  it("answers an activation without events, and ignores unknown keys", () => {
    const replies = talk({ ...HELLO, extra: [1, 2] }, { ...activation([]), future: true },
                         activation([{ kind: "start", instance: 1, trace_id: "x" }]));
    assert.equal(replies[1]?.kind === "answer" && replies[1].line, '{"type":"commands","time_us":1500,"commands":[]}');
    assert.equal(replies[2]?.kind, "answer");
  });

  const timer = { kind: "timer", instance: 0, step: "validate-order", phase: "do", action: 0, attempt: 2 };
  const ok = { kind: "result", instance: 0, step: "validate-order", phase: "do", action: 0, attempt: 1, outcome: "ok" };
  // [what, lines after hello (null: no hello), a fragment of the error message]
  const refused: [string, unknown[], boolean, string][] = [
    ["malformed JSON", ["{\"type\":"], false, "malformed JSON"],
    ["an empty line", [""], false, "malformed JSON"],
    ["not an object", ["[1,2]"], false, "must be a JSON object"],
    ["no type", [{ protocol: 1 }], false, "lacks \"type\""],
    ["an unknown message type", [{ type: "greeting" }], false, "unknown message type \"greeting\""],
    ["an activation before hello", [START], false, "before hello"],
    ["hello without workflow", [{ type: "hello", protocol: 1, seed: 1 }], false, "lacks \"workflow\""],
    ["another protocol version", [{ ...HELLO, protocol: 2 }], false, "protocol version 2"],
    ["a seed past 2^53", [`{"type":"hello","protocol":1,"seed":9007199254740993,"workflow":${JSON.stringify(WORKFLOW)}}`],
     false, "\"seed\""],
    ["a step without retry", [{ ...HELLO, workflow: { ...WORKFLOW, steps: [{ ...STEP, retry: undefined }] } }], false,
     "lacks \"retry\""],
    ["an unknown backoff", [{ ...HELLO, workflow: { ...WORKFLOW, compensation_retry: { ...STEP.retry, backoff: "fibonacci" } } }],
     false, "backoff"],
    ["an unknown dependency", [{ ...HELLO, workflow: { ...WORKFLOW, steps: [{ ...STEP, depends_on: ["ghost"] }] } }], false,
     "\"ghost\""],
    ["a second hello", [HELLO], true, "second hello"],
    ["activation without events", [{ type: "activation", time_us: 0 }], true, "lacks \"events\""],
    ["an unknown event kind", [activation([{ kind: "signal", instance: 0 }])], true, "unknown event kind \"signal\""],
    ["an event without kind", [activation([{ instance: 0 }])], true, "lacks \"kind\""],
    ["an event for an unknown instance", [activation([timer])], true, "instance 0, which was never started"],
    ["a start without instance", [activation([{ kind: "start" }])], true, "lacks \"instance\""],
    ["a result without outcome", [START, activation([{ ...ok, outcome: undefined }])], true, "lacks \"outcome\""],
    ["an unknown outcome", [START, activation([{ ...ok, outcome: "maybe" }])], true, "\"outcome\""],
    ["an unknown phase", [START, activation([{ ...ok, phase: "redo" }])], true, "\"phase\""],
    ["a string instance", [activation([{ kind: "start", instance: "0" }])], true, "\"instance\""],
    ["an unknown step", [START, activation([{ ...timer, step: "ghost" }])], true, "no step \"ghost\""],
    ["an instance started twice", [START, START], true, "started twice"],
  ];
  for (const [what, lines, hello, fragment] of refused) {
    it(`refuses ${what} with the protocol's error and status 2`, () => {
      const reply = last(talk(...(hello ? [HELLO] : []), ...lines));
      assert.equal(reply.kind, "fail");
      if (reply.kind !== "fail") return;
      assert.equal(reply.status, 2);
      const message: unknown = JSON.parse(reply.line);
      assert.ok(typeof message === "object" && message !== null && "type" in message && "message" in message);
      assert.equal(message.type, "error");
      assert.ok(typeof message.message === "string" && message.message.includes(fragment), `${String(message.message)}`);
    });
  }
});

describe("transcripts recorded from the reference (testdata/record.py)", () => {
  const files = readdirSync(TESTDATA).filter((f) => f.endsWith(".jsonl")).sort();
  it("has transcripts", () => assert.ok(files.length >= 3));
  for (const file of files) {
    it(file, () => {
      let session = new Session();
      const lines = readFileSync(join(TESTDATA, file), "utf8").split("\n").filter((l) => l !== "");
      lines.forEach((text, n) => {
        const entry: unknown = JSON.parse(text);
        assert.ok(typeof entry === "object" && entry !== null && "send" in entry && "expect" in entry);
        const send = entry.send;
        if (typeof send === "object" && send !== null && "type" in send && send.type === "hello") session = new Session();
        const reply = session.handle(JSON.stringify(send));
        assert.equal(reply.kind, "answer", `${file}:${n + 1}`);
        if (reply.kind === "answer") assert.deepEqual(JSON.parse(reply.line), entry.expect, `${file}:${n + 1}`);
      });
    });
  }
});
