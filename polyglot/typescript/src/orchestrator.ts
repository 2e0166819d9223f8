// The TypeScript orchestrator of polyglot/PROTOCOL.md: JSON lines in on stdin, JSON lines out on stdout.
//
//     node polyglot/typescript/dist/orchestrator.js     # then speak the protocol on stdin
//
// Strictly request/response: each line's answer is handed to the kernel (the write's callback has
// run) before the next line is looked at. Logs, if any, go to stderr.

import * as readline from "node:readline";
import { Session } from "./session.js";

function writeLine(line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(`${line}\n`, (err) => (err ? reject(err) : resolve()));
  });
}

async function serve(): Promise<number> {
  const session = new Session();
  const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  for await (const line of input) {
    const reply = session.handle(line);
    switch (reply.kind) {
      case "answer":
        await writeLine(reply.line);
        break;
      case "exit":
        return reply.status;
      case "fail":
        await writeLine(reply.line);
        return reply.status;
    }
  }
  return 0; // end of input without shutdown: the world went away
}

process.stdout.on("error", (err: Error) => {
  // The world closed our stdout (EPIPE): nobody is left to answer.
  process.stderr.write(`orchestrator: stdout: ${err.message}\n`);
  process.exit(1);
});

serve().then(
  (status) => process.exit(status),
  (err: unknown) => {
    process.stderr.write(`orchestrator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
