// The built program as the world runs it: a process speaking JSON lines.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";

const PROGRAM = join(__dirname, "orchestrator.js");
const HELLO = {
  type: "hello", protocol: 1, seed: 1,
  workflow: {
    name: "w", steps: [{
      name: "s", type: "fire-and-forget", depends_on: [], timeout_us: 1000, compensation: [],
      retry: { max_attempts: 1, backoff: "constant", initial_us: 1, coefficient_milli: 1000, max_us: 1, jitter: "none", non_retryable: [] },
    }],
    compensation_retry: { max_attempts: 1, backoff: "constant", initial_us: 1, coefficient_milli: 1000, max_us: 1, jitter: "none", non_retryable: [] },
  },
};

function runProgram(input: string): { status: number | null; lines: unknown[]; stderr: string } {
  const out = spawnSync(process.execPath, [PROGRAM], { input, encoding: "utf8", timeout: 10_000 });
  return { status: out.status, lines: out.stdout.split("\n").filter((l) => l !== "").map((l): unknown => JSON.parse(l)), stderr: out.stderr };
}

describe("the orchestrator process", () => {
  const cases: [string, string, number, unknown[]][] = [
    ["speaks the protocol and exits 0 on shutdown",
     [HELLO, { type: "activation", time_us: 5, replay: false, events: [{ kind: "start", instance: 0 }] }, { type: "shutdown" }]
       .map((m) => JSON.stringify(m) + "\n").join(""), 0,
     [{ type: "ready" }, { type: "commands", time_us: 5, commands: [
       { cmd: "invoke", instance: 0, step: "s", phase: "do", action: 0, attempt: 1, timeout_us: null },
       { cmd: "step", instance: 0, step: "s", status: "completed", attempt: 1, info: "published" },
       { cmd: "finish", instance: 0, status: "completed" }] }]],
    ["exits 0 at the end of its input", JSON.stringify(HELLO) + "\r\n", 0, [{ type: "ready" }]],
  ];
  for (const [name, input, status, want] of cases) {
    it(name, () => {
      const got = runProgram(input);
      assert.equal(got.status, status, got.stderr);
      assert.deepEqual(got.lines, want);
    });
  }

  it("stops at malformed JSON with one error line, status 2, and reads no further", () => {
    const got = runProgram(`${JSON.stringify(HELLO)}\nnot json\n{"type":"shutdown"}\n`);
    assert.equal(got.status, 2);
    assert.equal(got.lines.length, 2);
    const error = got.lines[1];
    assert.ok(typeof error === "object" && error !== null && "type" in error && "message" in error);
    assert.equal(error.type, "error");
    assert.match(String(error.message), /^line 2: malformed JSON/);
  });
});
