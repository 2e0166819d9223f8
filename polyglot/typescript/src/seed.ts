// The outline's TypeScript listing, ported onto polyglot/PROTOCOL.md with its bugs (see listing.ts and
// polyglot/LISTINGS.md): JSON lines in on stdin, JSON lines out on stdout. SEED_FIXES="1,4" fixes bugs 1 and 4.
//
//     SEED_FIXES=1,7 node polyglot/typescript/dist/seed.js     # then speak the protocol on stdin
//
// Strictly request/response: each line's answer is handed to the kernel (the write's callback has
// run) before the next line is looked at. Logs, if any, go to stderr.

import * as readline from "node:readline";
import { SeedSession } from "./seed-session.js";

function writeLine(line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(`${line}\n`, (err) => (err ? reject(err) : resolve()));
  });
}

async function serve(): Promise<number> {
  const session = new SeedSession(process.env["SEED_FIXES"]);
  const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  for await (const line of input) {
    const reply = await session.handle(line);
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
  process.stderr.write(`seed: stdout: ${err.message}\n`);
  process.exit(1);
});

serve().then(
  (status) => process.exit(status),
  (err: unknown) => {
    process.stderr.write(`seed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
