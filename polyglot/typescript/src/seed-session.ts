// The listing port's conversation, line by line, without the I/O (as session.ts is for the
// conforming orchestrator): hello builds the listing's orchestrator, each activation runs it.
// Bad input — and a SEED_FIXES naming no bug of the listing — becomes the protocol's error line.

import { Plan } from "./core.js";
import { WorkflowDefinition, WorkflowOrchestrator, parseFixes } from "./listing.js";
import { ListingWorld } from "./listing-world.js";
import { ProtocolError, decodeMessage, encode } from "./protocol.js";
import type { Reply } from "./session.js";

interface Running {
  readonly world: ListingWorld;
  readonly orchestrator: WorkflowOrchestrator;
  readonly fixes: ReadonlySet<number>;
}

export class SeedSession {
  private running: Running | null = null;
  private lines = 0;

  /** `fixes`: the SEED_FIXES text, read when hello comes (an error line then if it is wrong). */
  constructor(private readonly fixes: string | undefined) {}

  async handle(line: string): Promise<Reply> {
    this.lines += 1;
    try {
      return await this.answer(line);
    } catch (err: unknown) {
      // 2: the input broke the protocol; 70 (EX_SOFTWARE): a fault of this port, reported the same way.
      const internal = !(err instanceof ProtocolError);
      const what = err instanceof Error ? err.message : String(err);
      const message = `line ${this.lines}: ${internal ? "internal error: " : ""}${what}`;
      return { kind: "fail", line: encode({ type: "error", message }), status: internal ? 70 : 2 };
    }
  }

  private async answer(line: string): Promise<Reply> {
    const message = decodeMessage(line);
    switch (message.type) {
      case "hello": {
        if (this.running !== null) throw new ProtocolError("a second hello");
        const fixes = parseFixes(this.fixes);
        new Plan(message.workflow); // refuses a cycle: the listing would poll for ever
        const world = new ListingWorld(new Set(message.workflow.steps.map((s) => s.name)));
        const orchestrator = new WorkflowOrchestrator(world, new WorkflowDefinition(message.workflow), fixes);
        this.running = { world, orchestrator, fixes };
        return { kind: "answer", line: encode({ type: "ready" }) };
      }
      case "activation": {
        if (this.running === null) throw new ProtocolError("an activation before hello");
        const { world, orchestrator, fixes } = this.running;
        if (message.replay && !fixes.has(5)) {
          // BUG 5: the listing keeps its workflows in memory (this.workflowStates) and writes no
          // history, so a restarted process has nothing to rebuild them from and no code that reads
          // one back: the events of a workflow it never started reach nobody. It answers nothing —
          // and the world, which recorded what the crashed process decided, reports the difference.
          // Fix 5 is durability: handle the replayed events like live ones, as the conforming
          // orchestrator does, so the workflows are rebuilt.
          return { kind: "answer", line: encode({ type: "commands", time_us: message.timeUs, commands: [] }) };
        }
        const commands = await world.activate(message.timeUs, message.events, (id) => orchestrator.start(id));
        return { kind: "answer", line: encode({ type: "commands", time_us: message.timeUs, commands }) };
      }
      case "shutdown":
        return { kind: "exit", status: 0 };
    }
  }
}
