//! The shapes of polyglot/PROTOCOL.md's messages, as serde reads and writes them.
//!
//! Unknown keys are ignored (forward compatibility); unknown `type`s, `kind`s and enum
//! values are errors. Keys are written in the order the Python reference writes them.

use std::fmt;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize, Serializer};

// ---------------------------------------------------------------------------------------------
// Lines from the world, and the answers.

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Message {
    Hello {
        #[serde(default)]
        protocol: Option<u64>,
        seed: u64,
        workflow: Workflow,
    },
    Activation {
        time_us: u64,
        events: Vec<Event>,
    },
    Shutdown {},
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Reply<'a> {
    Ready,
    Commands { time_us: u64, commands: Vec<Command<'a>> },
    Error { message: String },
}

// ---------------------------------------------------------------------------------------------
// The workflow, as `hello` carries it (unknown keys are ignored).

#[derive(Debug, Clone, Deserialize)]
pub struct Workflow {
    pub steps: Vec<StepSpec>,
    pub compensation_retry: Policy,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StepSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: StepKind,
    pub depends_on: Vec<String>,
    pub timeout_us: u64,
    pub retry: Policy,
    /// The compensation actions, in the order they run; the rules only need how many there are.
    pub compensation: Vec<IgnoredAny>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    SyncTask,
    AsyncTask,
    FireAndForget,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Policy {
    pub max_attempts: u64,
    pub backoff: Backoff,
    pub initial_us: u64,
    pub coefficient_milli: u64,
    pub max_us: u64,
    pub jitter: Jitter,
    pub non_retryable: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    Exponential,
    Linear,
    Constant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    None,
    Full,
    Equal,
    Decorrelated,
}

// ---------------------------------------------------------------------------------------------
// Events in, commands out.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Do,
    Undo,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Do => "do",
            Phase::Undo => "undo",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Error,
    Timeout,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Event {
    Start {
        instance: u64,
    },
    Result {
        instance: u64,
        step: String,
        phase: Phase,
        action: u64,
        attempt: u64,
        outcome: Outcome,
        #[serde(default)]
        error: Option<String>,
    },
    Timer {
        instance: u64,
        step: String,
        phase: Phase,
        action: u64,
        attempt: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum Command<'a> {
    Invoke { instance: u64, step: &'a str, phase: Phase, action: u64, attempt: u64, timeout_us: Option<u64> },
    Timer { instance: u64, step: &'a str, phase: Phase, action: u64, attempt: u64, delay_us: u64 },
    Step { instance: u64, step: &'a str, status: StepStatus, attempt: Option<u64>, info: Option<Info> },
    Finish { instance: u64, status: Ending },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Completed,
    Failed,
    Skipped,
    Compensated,
    Exhausted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    Completed,
    Compensated,
    Failed,
    NeedsIntervention,
}

/// A `step` command's `info`: a fixed word, or the error that exhausted a compensation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Info {
    Published,
    Definite,
    Indefinite,
    Error(String),
}

impl Serialize for Info {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(match self {
            Info::Published => "published",
            Info::Definite => "definite",
            Info::Indefinite => "indefinite",
            Info::Error(e) => e,
        })
    }
}
