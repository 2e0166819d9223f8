//! The Rust orchestrator of `polyglot/PROTOCOL.md`: JSON lines on stdin, JSON lines on stdout.
//!
//!     polyglot/rust/target/release/orchestrator     # then speak the protocol on stdin
//!
//! This file is the process boundary: read a line, let the decision core (`core.rs`) decide,
//! write a line; bad input becomes the protocol's `error` message and exit status 2.

mod core;
mod protocol;

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use serde_json::error::Category;
use serde_json::Value;

use crate::core::Decider;
use crate::protocol::{Message, Reply};

const PROTOCOL: u64 = 1;

/// Why the loop stops early: the input broke the protocol, or the pipes broke.
enum Failure {
    Input(String),
    Io(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Io(e)
    }
}

/// How the process ends: 0 after `shutdown` or the end of the input, 2 after input the protocol forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Clean,
    Refused,
}

fn main() -> ExitCode {
    match serve(io::stdin().lock(), io::stdout().lock()) {
        Ok(Exit::Clean) => ExitCode::SUCCESS,
        Ok(Exit::Refused) => ExitCode::from(2),
        Err(e) => {
            eprintln!("orchestrator: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Answer every line until `shutdown` or the end of the input; stop at the first protocol error.
fn serve(mut input: impl BufRead, mut output: impl Write) -> io::Result<Exit> {
    let mut decider: Option<Decider> = None;
    let mut line = Vec::new();
    let mut n: u64 = 0;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(Exit::Clean);
        }
        n += 1;
        match handle(&mut decider, &line, &mut output) {
            Ok(true) => {}
            Ok(false) => return Ok(Exit::Clean),
            Err(Failure::Io(e)) => return Err(e),
            Err(Failure::Input(what)) => {
                write_line(&mut output, &Reply::Error { message: format!("line {n}: {what}") })?;
                return Ok(Exit::Refused);
            }
        }
    }
}

/// Handle one line; `Ok(false)` after `shutdown`.
fn handle(decider: &mut Option<Decider>, line: &[u8], output: &mut impl Write) -> Result<bool, Failure> {
    let message = serde_json::from_slice::<Message>(line).map_err(|e| Failure::Input(explain(line, &e)))?;
    match message {
        Message::Hello { protocol, seed, workflow } => {
            if let Some(version) = protocol.filter(|&v| v != PROTOCOL) {
                return Err(Failure::Input(format!(
                    "protocol version {version} is not supported (this is {PROTOCOL})"
                )));
            }
            let fresh = Decider::new(workflow, seed).map_err(|e| Failure::Input(e.to_string()))?;
            write_line(output, &Reply::Ready)?;
            *decider = Some(fresh);
        }
        Message::Activation { time_us, events } => {
            let decider = decider.as_mut().ok_or_else(|| Failure::Input("an activation before hello".into()))?;
            let commands = decider.activate(&events).map_err(|e| Failure::Input(e.to_string()))?;
            write_line(output, &Reply::Commands { time_us, commands })?;
        }
        Message::Shutdown {} => return Ok(false),
    }
    Ok(true)
}

fn write_line(output: &mut impl Write, reply: &Reply<'_>) -> io::Result<()> {
    let mut bytes = serde_json::to_vec(reply).map_err(|e| io::Error::new(io::ErrorKind::Other, e))?;
    bytes.push(b'\n');
    output.write_all(&bytes)?;
    output.flush()
}

/// A clear sentence for a line that did not parse: bad JSON, an unknown type or kind, or serde's own words.
fn explain(line: &[u8], error: &serde_json::Error) -> String {
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => return format!("malformed JSON: {error}"),
        Category::Data => {}
    }
    let value = match serde_json::from_slice::<Value>(line) {
        Ok(value) => value,
        Err(e) => return format!("malformed JSON: {e}"), // e.g. nested too deep
    };
    let object = match value.as_object() {
        Some(object) => object,
        None => return "a message must be a JSON object".into(),
    };
    match object.get("type") {
        Some(Value::String(t)) if ["hello", "activation", "shutdown"].contains(&t.as_str()) => {}
        Some(t) => return format!("unknown message type {t}"),
        None => return "a message without a \"type\"".into(),
    }
    let events = object.get("events").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for (j, event) in events.iter().enumerate() {
        match event.get("kind") {
            Some(Value::String(k)) if ["start", "result", "timer"].contains(&k.as_str()) => {}
            Some(k) => return format!("event {j}: unknown event kind {k}"),
            None => return format!("event {j}: an event without a \"kind\""),
        }
    }
    format!("invalid {} message: {error}", object["type"])
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKFLOW: &str = r#"{"name":"t","version":"1","steps":[{"name":"a","type":"sync-task","service":"s",
        "endpoint":"/a","topic":null,"depends_on":[],"timeout_us":5000000,"retry":{"max_attempts":2,
        "backoff":"exponential","initial_us":1000000,"coefficient_milli":2000,"max_us":100000000,"jitter":"none",
        "non_retryable":[]},"compensation":[]}],"compensation_retry":{"max_attempts":1,"backoff":"constant",
        "initial_us":1000000,"coefficient_milli":1000,"max_us":1000000,"jitter":"none","non_retryable":[]}}"#;

    fn hello() -> String {
        format!(r#"{{"type":"hello","protocol":1,"seed":7,"workflow":{}}}"#, WORKFLOW.replace('\n', ""))
    }

    fn talk(lines: &[&str]) -> (Exit, Vec<Value>) {
        let input = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let mut out = Vec::new();
        let code = serve(input.as_bytes(), &mut out).expect("in-memory pipes do not fail");
        let replies = String::from_utf8(out)
            .expect("UTF-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect();
        (code, replies)
    }

    #[test]
    fn speaks_the_protocol() {
        let hello = hello();
        let (code, replies) = talk(&[
            &hello,
            r#"{"type":"activation","time_us":5,"replay":false,"events":[{"kind":"start","instance":0,"extra":1}]}"#,
            r#"{"type":"shutdown"}"#,
            r#"{"type":"never read"}"#,
        ]);
        assert_eq!(code, Exit::Clean);
        assert_eq!(replies[0], serde_json::json!({"type": "ready"}));
        assert_eq!(
            replies[1],
            serde_json::json!({"type": "commands", "time_us": 5, "commands": [
            {"cmd": "invoke", "instance": 0, "step": "a", "phase": "do", "action": 0, "attempt": 1,
             "timeout_us": 5000000}]})
        );
        assert_eq!(replies.len(), 2);
    }

    #[test]
    fn bad_input_is_an_error_line_and_status_2() {
        let hello = hello();
        let deep = "[".repeat(200);
        let start = r#"{"type":"activation","time_us":0,"events":[{"kind":"start","instance":0}]}"#;
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (vec!["{not json"], "malformed JSON"),
            (vec![""], "malformed JSON"),
            (vec!["[1,2]"], "JSON object"),
            (vec![&deep], "recursion limit"),
            (vec![r#"{"type":"greeting"}"#], "unknown message type \"greeting\""),
            (vec![r#"{"seed":1}"#], "without a \"type\""),
            (vec![r#"{"type":"activation","time_us":0,"events":[]}"#], "before hello"),
            (vec![r#"{"type":"hello","protocol":2,"seed":1,"workflow":{"steps":[]}}"#], "invalid \"hello\""),
            (
                vec![&hello, r#"{"type":"activation","time_us":0,"events":[{"kind":"boom","instance":0}]}"#],
                "unknown event kind \"boom\"",
            ),
            (
                vec![
                    &hello,
                    r#"{"type":"activation","time_us":0,"events":[{"kind":"timer","instance":9,"step":"a","phase":"do","action":0,"attempt":2}]}"#,
                ],
                "never started",
            ),
            (
                vec![
                    &hello,
                    start,
                    r#"{"type":"activation","time_us":0,"events":[{"kind":"timer","instance":0,"step":"a","phase":"do","attempt":2}]}"#,
                ],
                "missing field `action`",
            ),
            (
                vec![
                    &hello,
                    start,
                    r#"{"type":"activation","time_us":0,"events":[{"kind":"result","instance":0,"step":"a","phase":"do","action":0,"attempt":1,"outcome":"maybe"}]}"#,
                ],
                "unknown variant `maybe`",
            ),
            (vec![&hello, start, r#"{"type":"activation","events":[]}"#], "missing field `time_us`"),
        ];
        for (lines, fragment) in cases {
            let (code, replies) = talk(&lines);
            assert_eq!(code, Exit::Refused, "{lines:?}");
            let last = replies.last().expect("an error line");
            assert_eq!(last["type"], "error");
            let message = last["message"].as_str().expect("a message");
            assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
            assert!(message.starts_with(&format!("line {}:", lines.len())), "{message:?}");
        }
    }

    #[test]
    fn an_unsupported_protocol_version_is_refused() {
        let hello = hello().replace(r#""protocol":1"#, r#""protocol":2"#);
        let (code, replies) = talk(&[&hello]);
        assert_eq!(code, Exit::Refused);
        assert!(replies[0]["message"].as_str().map_or(false, |m| m.contains("protocol version 2")));
    }
}
