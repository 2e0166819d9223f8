"""The Python orchestrator of polyglot/PROTOCOL.md: the engine's decision core behind stdin and stdout.

    python polyglot/python/orchestrator.py     # then speak the protocol on stdin

The rules live in engine/decider.py, shared with the engine; this file is the
process boundary: read a line, decide, write a line, and turn bad input into
the protocol's error message instead of a traceback.
"""

from __future__ import annotations

import json
import sys

from engine.decider import Decider, DeciderError


def serve(lines, write) -> int:
    decider = None
    for n, line in enumerate(lines, 1):
        try:
            message = json.loads(line)
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "hello":
                decider = Decider(message["workflow"], int(message["seed"]))
                write({"type": "ready"})
            elif kind == "activation":
                if decider is None:
                    raise DeciderError("an activation before hello")
                commands = decider.activate(message["events"])
                write({"type": "commands", "time_us": message["time_us"], "commands": commands})
            elif kind == "shutdown":
                return 0
            else:
                raise DeciderError(f"unknown message type {kind!r}")
        except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError and DeciderError are ValueErrors
            what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            write({"type": "error", "message": f"line {n}: {what}"})
            return 2
    return 0


def main() -> int:
    def write(obj) -> None:
        sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    return serve(sys.stdin, write)


if __name__ == "__main__":
    sys.exit(main())
