// One orchestrator process's conversation, line by line, without the I/O: each line from the world
// gets a Reply saying what to write and whether to go on. Bad input becomes the protocol's error
// message (exit status 2), never an exception.

import { Decider } from "./core.js";
import { ProtocolError, decodeMessage, encode } from "./protocol.js";

export type Reply =
  | { readonly kind: "answer"; readonly line: string }           // write it, read the next line
  | { readonly kind: "exit"; readonly status: 0 }                // shutdown
  | { readonly kind: "fail"; readonly line: string; readonly status: 2 | 70 }; // write it, then exit

export class Session {
  private decider: Decider | null = null;
  private lines = 0;

  handle(line: string): Reply {
    this.lines += 1;
    try {
      return this.answer(line);
    } catch (err: unknown) {
      // 2: the input broke the protocol; 70 (EX_SOFTWARE): a bug here, reported the same way.
      const internal = !(err instanceof ProtocolError);
      const what = err instanceof Error ? err.message : String(err);
      const message = `line ${this.lines}: ${internal ? "internal error: " : ""}${what}`;
      return { kind: "fail", line: encode({ type: "error", message }), status: internal ? 70 : 2 };
    }
  }

  private answer(line: string): Reply {
    const message = decodeMessage(line);
    switch (message.type) {
      case "hello":
        if (this.decider !== null) throw new ProtocolError("a second hello");
        this.decider = new Decider(message.workflow, message.seed);
        return { kind: "answer", line: encode({ type: "ready" }) };
      case "activation": {
        if (this.decider === null) throw new ProtocolError("an activation before hello");
        const commands = this.decider.activate(message.events);
        return { kind: "answer", line: encode({ type: "commands", time_us: message.timeUs, commands }) };
      }
      case "shutdown":
        return { kind: "exit", status: 0 };
    }
  }
}
