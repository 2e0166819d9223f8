//! The params object of polyglot/NATIVE.md, checked: anything wrong is an error message (exit status 2).

use std::time::Duration;

use serde_json::{Map, Value};

pub const FLAVORS: [&str; 2] = ["tokio-current-thread", "tokio-multi-thread"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// One thread runs every task (and the timer): `Builder::new_current_thread`.
    CurrentThread,
    /// A worker thread per core, with work stealing: `Builder::new_multi_thread`.
    MultiThread,
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::CurrentThread => FLAVORS[0],
            Flavor::MultiThread => FLAVORS[1],
        }
    }

    /// The runtime, built explicitly (what `#[tokio::main]` hides); timers only, no I/O driver.
    pub fn runtime(self) -> std::io::Result<tokio::runtime::Runtime> {
        match self {
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread().enable_time().build(),
            Flavor::MultiThread => tokio::runtime::Builder::new_multi_thread().enable_time().build(),
        }
    }
}

/// The params common to every experiment, and the raw object for the experiment's own.
#[derive(Debug)]
pub struct Params {
    pub raw: Map<String, Value>,
    pub flavor: Flavor,
    pub latency: [Duration; 5],
    pub failure_rate: f64,
    pub seed: u64,
}

impl Params {
    pub fn parse(raw: Value) -> Result<Params, String> {
        let raw = match raw {
            Value::Object(map) => map,
            _ => return Err("params are a JSON object".into()),
        };
        // Without a flavor, the runtime #[tokio::main] would build.
        let flavor = match raw.get("flavor") {
            None => Flavor::MultiThread,
            Some(Value::String(s)) if s == FLAVORS[0] => Flavor::CurrentThread,
            Some(Value::String(s)) if s == FLAVORS[1] => Flavor::MultiThread,
            Some(other) => return Err(format!("flavor is one of {}, got {other}", FLAVORS.join(", "))),
        };
        let mut latency = [5.0, 10.0, 10.0, 10.0, 5.0].map(ms);
        if let Some(value) = raw.get("latency_ms") {
            let list = value.as_array().filter(|l| l.len() == 5);
            let list = list.ok_or("latency_ms lists 5 numbers, one per step")?;
            for (slot, x) in latency.iter_mut().zip(list) {
                let x = x.as_f64().filter(|v| v.is_finite() && *v >= 0.0 && *v <= 3_600_000.0);
                *slot = ms(x.ok_or("latency_ms are numbers from 0 to 3600000")?);
            }
        }
        let failure_rate = number(&raw, "failure_rate", 0.0, 0.0, 1.0)?;
        let seed = match raw.get("seed") {
            None => 0,
            Some(v) => match (v.as_u64(), v.as_i64()) {
                (Some(u), _) => u,
                (None, Some(i)) => i as u64,
                _ => return Err(format!("seed is an integer, got {v}")),
            },
        };
        Ok(Params { raw, flavor, latency, failure_rate, seed })
    }

    /// An integer param from `min` to `max`; `default` None means it is required.
    pub fn int(&self, key: &str, default: Option<u64>, min: u64, max: u64) -> Result<u64, String> {
        let value = match (self.raw.get(key), default) {
            (None, Some(d)) => return Ok(d),
            (None, None) => return Err(format!("{key} is required")),
            (Some(v), _) => v,
        };
        // 1000 and 1000.0 alike (JSON does not tell them apart for everyone), not 1000.5.
        let n = value.as_u64().or_else(|| value.as_f64().filter(|x| x.fract() == 0.0 && *x >= 0.0).map(|x| x as u64));
        match n {
            Some(n) if n >= min && n <= max => Ok(n),
            _ => Err(format!("{key} is an integer from {min} to {max}, got {value}")),
        }
    }

    /// A number of milliseconds from `min` to `max`.
    pub fn millis(&self, key: &str, default: f64, min: f64, max: f64) -> Result<Duration, String> {
        number(&self.raw, key, default, min, max).map(ms)
    }

    pub fn flag(&self, key: &str) -> Result<bool, String> {
        match self.raw.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(format!("{key} is true or false, got {other}")),
        }
    }
}

fn number(raw: &Map<String, Value>, key: &str, default: f64, min: f64, max: f64) -> Result<f64, String> {
    match raw.get(key) {
        None => Ok(default),
        Some(v) => match v.as_f64() {
            Some(x) if x >= min && x <= max => Ok(x),
            _ => Err(format!("{key} is a number from {min} to {max}, got {v}")),
        },
    }
}

/// A duration of `ms` milliseconds (Rust 1.63 has no `ms`).
pub fn ms(ms: f64) -> Duration {
    Duration::from_secs_f64(ms / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults() {
        let p = Params::parse(json!({})).unwrap();
        assert_eq!(p.flavor, Flavor::MultiThread);
        assert_eq!(p.latency[1], Duration::from_millis(10));
        assert_eq!((p.failure_rate, p.seed), (0.0, 0));
        assert_eq!(p.int("n", Some(1000), 1, 10).unwrap(), 1000);
        assert!(!p.flag("fix").unwrap());
    }

    #[test]
    fn bad_params_are_refused() {
        for bad in [
            json!([]),
            json!({"flavor": "asyncio"}),
            json!({"latency_ms": [1, 2, 3]}),
            json!({"latency_ms": [1, 2, 3, 4, -5]}),
            json!({"failure_rate": 1.5}),
            json!({"seed": "x"}),
        ] {
            assert!(Params::parse(bad.clone()).is_err(), "{bad}");
        }
        let p = Params::parse(json!({"n": 0, "m": 2.5, "fix": 1})).unwrap();
        assert!(p.int("n", None, 1, 10).is_err());
        assert!(p.int("m", None, 1, 10).is_err());
        assert!(p.int("absent", None, 1, 10).is_err());
        assert!(p.flag("fix").is_err());
    }
}
