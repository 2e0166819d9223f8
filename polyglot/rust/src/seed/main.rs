//! The outline's Rust listing, ported onto `polyglot/PROTOCOL.md` bugs and all (`engine/external.py`
//! runs it as `rust-seed`; `rust-seed+1,3` sets `SEED_FIXES=1,3` to fix bugs 1 and 3).
//!
//!     SEED_FIXES=1,2 polyglot/rust/target/release/seed-orchestrator   # then speak the protocol
//!
//! This file is the process boundary: JSON lines in, JSON lines out; bad input (or a bad
//! `$SEED_FIXES`) becomes the protocol's `error` line and exit status 2. The listing is in `listing.rs`.

mod bugs;
mod listing;
#[allow(dead_code)] // shared with the conforming orchestrator; this program needs only part of it
#[path = "../protocol.rs"]
mod protocol;

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use serde::Deserialize;

use crate::bugs::Fixes;
use crate::listing::Engine;
use crate::protocol::{Event, Reply, Workflow};

const PROTOCOL: u64 = 1;

/// A line from the world. Unlike the conforming orchestrator, the port reads `replay`: the listing
/// keeps its state in memory, so what a restarted process learns only from a replay is lost (bug 6).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Message {
    Hello {
        #[serde(default)]
        protocol: Option<u64>,
        workflow: Workflow,
    },
    Activation {
        time_us: u64,
        #[serde(default)]
        replay: bool,
        events: Vec<Event>,
    },
    Shutdown {},
}

/// How the process ends: 0 after `shutdown` or the end of the input, 2 after input it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Clean,
    Refused,
}

fn main() -> ExitCode {
    let fixes = Fixes::parse(&std::env::var("SEED_FIXES").unwrap_or_default());
    match serve(fixes, io::stdin().lock(), io::stdout().lock()) {
        Ok(Exit::Clean) => ExitCode::SUCCESS,
        Ok(Exit::Refused) => ExitCode::from(2),
        Err(e) => {
            eprintln!("seed-orchestrator: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Answer every line until `shutdown` or the end of the input; stop at the first line refused.
fn serve(fixes: Result<Fixes, String>, mut input: impl BufRead, mut output: impl Write) -> io::Result<Exit> {
    let mut engine: Option<Engine> = None;
    let mut line = Vec::new();
    let mut n: u64 = 0;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(Exit::Clean);
        }
        n += 1;
        let reply = match handle(&fixes, &mut engine, &line) {
            Ok(Some(reply)) => reply,
            Ok(None) => return Ok(Exit::Clean),
            Err(what) => {
                write_line(&mut output, &Reply::Error { message: format!("line {n}: {what}") })?;
                return Ok(Exit::Refused);
            }
        };
        write_line(&mut output, &reply)?;
    }
}

/// One line's answer (`None` after `shutdown`), or why the line is refused.
fn handle<'e>(
    fixes: &Result<Fixes, String>,
    engine: &'e mut Option<Engine>,
    line: &[u8],
) -> Result<Option<Reply<'e>>, String> {
    let message = serde_json::from_slice::<Message>(line).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => format!("invalid message: {e}"),
        _ => format!("malformed JSON: {e}"),
    })?;
    match message {
        Message::Hello { protocol, workflow } => {
            if let Some(version) = protocol.filter(|&v| v != PROTOCOL) {
                return Err(format!("protocol version {version} is not supported (this is {PROTOCOL})"));
            }
            let fixes = fixes.clone()?;
            *engine = Some(Engine::new(workflow, fixes).map_err(|e| e.to_string())?);
            Ok(Some(Reply::Ready))
        }
        Message::Activation { time_us, replay, events } => {
            let engine = engine.as_mut().ok_or("an activation before hello")?;
            let commands = engine.activate(&events, replay).map_err(|e| e.to_string())?;
            Ok(Some(Reply::Commands { time_us, commands }))
        }
        Message::Shutdown {} => Ok(None),
    }
}

fn write_line(output: &mut impl Write, reply: &Reply<'_>) -> io::Result<()> {
    let mut bytes = serde_json::to_vec(reply).map_err(|e| io::Error::new(io::ErrorKind::Other, e))?;
    bytes.push(b'\n');
    output.write_all(&bytes)?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const HELLO: &str = r#"{"type":"hello","protocol":1,"seed":7,"workflow":{"steps":[{"name":"a",
        "type":"sync-task","depends_on":[],"timeout_us":5000000,"retry":{"max_attempts":1,"backoff":"constant",
        "initial_us":1,"coefficient_milli":1000,"max_us":1,"jitter":"none","non_retryable":[]},"compensation":[]}],
        "compensation_retry":{"max_attempts":1,"backoff":"constant","initial_us":1,"coefficient_milli":1000,
        "max_us":1,"jitter":"none","non_retryable":[]}}}"#;

    fn talk(fixes: &str, lines: &[&str]) -> (Exit, Vec<Value>) {
        let input: String = lines.iter().map(|l| format!("{}\n", l.replace('\n', ""))).collect();
        let mut out = Vec::new();
        let exit = serve(Fixes::parse(fixes), input.as_bytes(), &mut out).expect("in-memory pipes");
        let replies =
            String::from_utf8(out).expect("UTF-8").lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
        (exit, replies)
    }

    #[test]
    fn speaks_the_protocol() {
        let (exit, replies) = talk(
            "",
            &[
                HELLO,
                r#"{"type":"activation","time_us":3,"replay":false,"events":[{"kind":"start","instance":0}]}"#,
                r#"{"type":"shutdown"}"#,
            ],
        );
        assert_eq!(exit, Exit::Clean);
        assert_eq!(replies[0], json!({"type": "ready"}));
        assert_eq!(
            replies[1],
            json!({"type": "commands", "time_us": 3, "commands": [{"cmd": "invoke", "instance": 0, "step": "a",
                   "phase": "do", "action": 0, "attempt": 1, "timeout_us": 5000000}]})
        );
        assert_eq!(replies.len(), 2);
    }

    #[test]
    fn bad_input_is_an_error_line_and_status_2() {
        let start = r#"{"type":"activation","time_us":0,"events":[{"kind":"start","instance":0}]}"#;
        let cases: &[(&str, &[&str], &str)] = &[
            ("", &["{oops"], "malformed JSON"),
            ("", &[r#"{"type":"greeting"}"#], "unknown variant `greeting`"),
            ("", &[start], "before hello"),
            ("", &[HELLO, r#"{"type":"activation","time_us":0,"events":[{"kind":"boom"}]}"#], "unknown variant `boom`"),
            (
                "",
                &[
                    HELLO,
                    r#"{"type":"activation","time_us":0,"events":[{"kind":"timer","instance":4,"step":"a","phase":"do","action":0,"attempt":2}]}"#,
                ],
                "never started",
            ),
            (
                "",
                &[
                    HELLO,
                    start,
                    r#"{"type":"activation","time_us":0,"events":[{"kind":"result","instance":0,"step":"zz","phase":"do","action":0,"attempt":1,"outcome":"ok"}]}"#,
                ],
                "does not have",
            ),
            (
                "",
                &[
                    HELLO,
                    start,
                    r#"{"type":"activation","time_us":0,"events":[{"kind":"result","instance":0,"step":"a","phase":"do","action":0,"outcome":"ok"}]}"#,
                ],
                "missing field `attempt`",
            ),
            ("", &[&HELLO.replace(r#""protocol":1"#, r#""protocol":2"#)], "protocol version 2"),
            ("4,9", &[HELLO], "SEED_FIXES: \"9\""),
        ];
        for (fixes, lines, fragment) in cases {
            let (exit, replies) = talk(fixes, lines);
            assert_eq!(exit, Exit::Refused, "{lines:?}");
            let last = replies.last().expect("an error line");
            assert_eq!(last["type"], "error");
            let message = last["message"].as_str().unwrap_or_default();
            assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
            assert!(message.starts_with(&format!("line {}:", lines.len())), "{message:?}");
        }
    }
}
