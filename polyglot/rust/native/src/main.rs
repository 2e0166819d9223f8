//! Native mode for Rust (polyglot/NATIVE.md): the order workflow under load on tokio.
//!
//!     polyglot/rust/target/release/native concurrency '{"n": 100000, "flavor": "tokio-current-thread"}'
//!
//! Flavors: `tokio-current-thread` and `tokio-multi-thread`, each runtime built explicitly with
//! `tokio::runtime::Builder`. One tokio task per workflow instance; every wait is `tokio::time::sleep`.
//! Writes one JSON object on stdout; on bad input `{"error": ...}` and exit status 2.

mod experiments;
mod params;
mod workflow;

use std::process::ExitCode;
use std::time::Instant;

use serde_json::{json, Value};

use crate::params::Params;

const EXPERIMENTS: [&str; 4] = ["concurrency", "cpu_step", "cancellation", "startup"];

fn main() -> ExitCode {
    let entry = Instant::now();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (status, result) = run(&args, entry);
    println!("{result}");
    ExitCode::from(status)
}

/// The exit status and the one JSON object to print.
fn run(args: &[String], entry: Instant) -> (u8, Value) {
    let refuse = |message: String| (2, json!({ "error": message }));
    let experiment = match args {
        [experiment, _] if EXPERIMENTS.contains(&experiment.as_str()) => experiment.as_str(),
        _ => return refuse(format!("usage: native {{{}}} '<params as JSON>'", EXPERIMENTS.join("|"))),
    };
    let raw: Value = match serde_json::from_str(&args[1]) {
        Ok(raw) => raw,
        Err(e) => return refuse(format!("params are not JSON: {e}")),
    };
    let params: &'static Params = match Params::parse(raw) {
        Ok(p) => Box::leak(Box::new(p)), // lives as long as the process: every task borrows it
        Err(e) => return refuse(e),
    };
    let runtime = match params.flavor.runtime() {
        Ok(rt) => rt,
        Err(e) => return (1, json!({ "error": format!("cannot start the tokio runtime: {e}") })),
    };
    let fields = match experiment {
        "concurrency" => experiments::concurrency(params, &runtime),
        "cpu_step" => experiments::cpu_step(params, &runtime),
        "cancellation" => experiments::cancellation(params, &runtime),
        _ => experiments::startup(params, &runtime, entry),
    };
    match fields {
        Ok(fields) => {
            let mut out = json!({
                "language": "rust", "flavor": params.flavor.name(), "experiment": experiment,
                "params": Value::Object(params.raw.clone()),
            });
            out.as_object_mut().expect("an object").extend(fields);
            (0, out)
        }
        Err(e) => refuse(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(args: &[&str]) -> (u8, Value) {
        run(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), Instant::now())
    }

    #[test]
    fn bad_input_is_an_error_and_status_2() {
        for args in [
            &[][..],
            &["nonsense", "{}"],
            &["startup", "not json"],
            &["startup", "[1]"],
            &["startup", r#"{"flavor": "goroutines"}"#],
            &["concurrency", "{}"],
            &["concurrency", r#"{"n": 1000001}"#],
            &["cancellation", r#"{"cancel": "yes"}"#],
        ] {
            let (status, out) = call(args);
            assert_eq!(status, 2, "{args:?}");
            assert!(out["error"].is_string(), "{args:?}: {out}");
        }
    }

    #[test]
    fn a_result_carries_language_flavor_experiment_and_params() {
        let (status, out) = call(&["startup", r#"{"flavor": "tokio-current-thread", "extra": 1}"#]);
        assert_eq!(status, 0);
        assert_eq!(out["language"], "rust");
        assert_eq!(out["flavor"], "tokio-current-thread");
        assert_eq!(out["experiment"], "startup");
        assert_eq!(out["params"], json!({"flavor": "tokio-current-thread", "extra": 1}));
        assert!(out["seconds_to_ready"].as_f64().unwrap() >= 0.0);
        assert_eq!(call(&["startup", "{}"]).1["flavor"], "tokio-multi-thread");
    }
}
