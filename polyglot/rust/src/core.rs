//! The decision rules of `polyglot/PROTOCOL.md`: events in, commands out.
//!
//! Pure: no clock, no I/O, no floating point, no randomness but the protocol's
//! keyed draw. `main.rs` wraps a [`Decider`] in the stdin/stdout loop.

use std::collections::{HashMap, VecDeque};
use std::fmt;

use crate::protocol::{
    Backoff, Command, Ending, Event, Info, Jitter, Outcome, Phase, Policy, StepKind, StepSpec, StepStatus, Workflow,
};

/// Input the protocol does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    DuplicateStep(String),
    UnknownDependency { step: String, dependency: String },
    Cycle(Vec<String>),
    StartedTwice(u64),
    UnknownInstance(u64),
    UnknownStep(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::DuplicateStep(s) => write!(f, "the workflow declares step {s:?} twice"),
            Error::UnknownDependency { step, dependency } => {
                write!(f, "step {step:?} depends on {dependency:?}, which the workflow does not have")
            }
            Error::Cycle(steps) => write!(f, "the workflow's dependencies form a cycle through {steps:?}"),
            Error::StartedTwice(i) => write!(f, "instance {i} started twice"),
            Error::UnknownInstance(i) => write!(f, "an event for instance {i}, which was never started"),
            Error::UnknownStep(s) => write!(f, "an event for step {s:?}, which the workflow does not have"),
        }
    }
}

impl std::error::Error for Error {}

// ---------------------------------------------------------------------------------------------
// The keyed draw and the delays: integers only, the same bits in every language.

pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

pub fn splitmix64(x: u64) -> u64 {
    let z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// rand(instance, step, phase, action, k): 64 bits for one wait, keyed by the attempt (not a stream).
pub fn rand(seed: u64, instance: u64, step: &str, phase: Phase, action: u64, k: u64) -> u64 {
    splitmix64(seed ^ fnv1a64(format!("{instance}/{step}/{phase}/{action}/{k}").as_bytes()))
}

impl Policy {
    /// delay(k): the wait before attempt k + 1, in µs; `last` is the previous wait, `u` the draw's top 32 bits.
    pub fn delay_us(&self, k: u64, last: Option<u64>, u: u32) -> u64 {
        // u128 keeps every product exact: the operands are below 2^64, or 2^32 for u.
        let (i, b, m) = (u128::from(self.initial_us), u128::from(self.coefficient_milli), u128::from(self.max_us));
        let base = match self.backoff {
            Backoff::Exponential => {
                let mut d = i;
                for _ in 1..k {
                    let next = m.min(d * b / 1000);
                    if next == d {
                        break; // a fixed point: the remaining rounds change nothing
                    }
                    d = next;
                }
                d
            }
            Backoff::Linear => m.min(i * u128::from(k)),
            Backoff::Constant => m.min(i),
        };
        let f = |x: u128| (u128::from(u) * x) >> 32;
        let d = match self.jitter {
            Jitter::None => base,
            Jitter::Full => f(base),
            Jitter::Equal => base / 2 + f(base - base / 2),
            Jitter::Decorrelated => {
                let p = last.map_or(i, u128::from);
                let hi = i.max(3 * p);
                m.min(i + f(hi - i))
            }
        };
        // Every branch is at most max(initial_us, max_us) or the previous wait, all u64 values.
        u64::try_from(d).unwrap_or(u64::MAX)
    }
}

// ---------------------------------------------------------------------------------------------
// The workflow's shape, computed once: indices, topological order, descendants.

#[derive(Debug)]
pub struct Plan {
    steps: Vec<StepSpec>,
    index: HashMap<String, usize>,
    deps: Vec<Vec<usize>>,
    /// Topological order, ties broken by declaration order (Kahn, first-in first-out).
    order: Vec<usize>,
    descendants: Vec<Vec<usize>>,
    compensation_retry: Policy,
}

impl Plan {
    pub fn new(wf: Workflow) -> Result<Plan, Error> {
        let mut index = HashMap::new();
        for (s, step) in wf.steps.iter().enumerate() {
            if index.insert(step.name.clone(), s).is_some() {
                return Err(Error::DuplicateStep(step.name.clone()));
            }
        }
        let deps = wf
            .steps
            .iter()
            .map(|step| {
                step.depends_on
                    .iter()
                    .map(|d| {
                        index
                            .get(d)
                            .copied()
                            .ok_or_else(|| Error::UnknownDependency { step: step.name.clone(), dependency: d.clone() })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let n = deps.len();
        let mut dependents = vec![Vec::new(); n];
        for (s, ds) in deps.iter().enumerate() {
            for &d in ds {
                dependents[d].push(s);
            }
        }
        let mut indegree: Vec<usize> = deps.iter().map(Vec::len).collect();
        let mut ready: VecDeque<usize> = (0..n).filter(|&s| indegree[s] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(s) = ready.pop_front() {
            order.push(s);
            for &d in &dependents[s] {
                indegree[d] -= 1;
                if indegree[d] == 0 {
                    ready.push_back(d);
                }
            }
        }
        if order.len() < n {
            let stuck = (0..n).filter(|&s| indegree[s] > 0).map(|s| wf.steps[s].name.clone()).collect();
            return Err(Error::Cycle(stuck));
        }
        let descendants = (0..n)
            .map(|s| {
                let mut seen = vec![false; n];
                let mut stack = dependents[s].clone();
                while let Some(d) = stack.pop() {
                    if !seen[d] {
                        seen[d] = true;
                        stack.extend(&dependents[d]);
                    }
                }
                (0..n).filter(|&d| seen[d]).collect()
            })
            .collect();
        Ok(Plan { steps: wf.steps, index, deps, order, descendants, compensation_retry: wf.compensation_retry })
    }

    #[cfg(test)]
    pub fn order(&self) -> impl Iterator<Item = &str> + '_ {
        self.order.iter().map(|&s| self.steps[s].name.as_str())
    }

    fn step(&self, name: &str) -> Result<usize, Error> {
        self.index.get(name).copied().ok_or_else(|| Error::UnknownStep(name.to_owned()))
    }
}

// ---------------------------------------------------------------------------------------------
// State per instance.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StepState {
    Pending,
    /// `last_delay` is the wait that preceded this attempt (decorrelated jitter needs it).
    Running {
        attempt: u64,
        last_delay: Option<u64>,
    },
    /// Waiting for the timer that starts `attempt`, `delay` µs after it was set.
    Waiting {
        attempt: u64,
        delay: u64,
    },
    Done,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Task {
    state: StepState,
    /// Some attempt timed out: the work may have happened.
    indefinite: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CompState {
    Pending,
    Running { action: u64, attempt: u64, last_delay: Option<u64> },
    Waiting { action: u64, attempt: u64, delay: u64 },
    Done,
    Exhausted,
}

#[derive(Debug)]
struct Instance {
    tasks: Vec<Task>,
    comps: Vec<CompState>,
    aborted: bool,
    ended: bool,
}

impl Instance {
    fn new(steps: usize) -> Instance {
        Instance {
            tasks: vec![Task { state: StepState::Pending, indefinite: false }; steps],
            comps: vec![CompState::Pending; steps],
            aborted: false,
            ended: false,
        }
    }
}

/// An ended instance keeps only a tombstone: later events for it are ignored, not refused.
#[derive(Debug)]
enum Slot {
    Live(Instance),
    Ended,
}

/// One orchestrator's state: feed it an activation's events, collect its commands.
#[derive(Debug)]
pub struct Decider {
    plan: Plan,
    seed: u64,
    instances: HashMap<u64, Slot>,
}

impl Decider {
    pub fn new(workflow: Workflow, seed: u64) -> Result<Decider, Error> {
        Ok(Decider { plan: Plan::new(workflow)?, seed, instances: HashMap::new() })
    }

    /// Handle the events in order; the commands they call for, in order.
    pub fn activate(&mut self, events: &[Event]) -> Result<Vec<Command<'_>>, Error> {
        let mut run = Run { plan: &self.plan, seed: self.seed, id: 0, out: Vec::new() };
        for event in events {
            run.event(&mut self.instances, event)?;
        }
        Ok(run.out)
    }
}

/// What an event names: one attempt of a step (`do`) or of one of its compensation actions (`undo`).
#[derive(Debug, Clone, Copy)]
struct Call {
    step: usize,
    phase: Phase,
    action: u64,
    attempt: u64,
}

/// Why an attempt failed; a timeout is indefinite (the work may have happened) and counts as `Timeout`.
#[derive(Debug, Clone, Copy)]
enum Failure<'e> {
    Error(Option<&'e str>),
    Timeout,
}

impl<'e> Failure<'e> {
    fn error(self) -> Option<&'e str> {
        match self {
            Failure::Error(e) => e,
            Failure::Timeout => Some("Timeout"),
        }
    }
}

/// The rules at work on one activation: the plan, read-only, the instance at hand, the commands so far.
struct Run<'p> {
    plan: &'p Plan,
    seed: u64,
    id: u64,
    out: Vec<Command<'p>>,
}

impl<'p> Run<'p> {
    fn event(&mut self, instances: &mut HashMap<u64, Slot>, event: &Event) -> Result<(), Error> {
        let (id, step, call, outcome) = match event {
            Event::Start { instance } => {
                if instances.contains_key(instance) {
                    return Err(Error::StartedTwice(*instance));
                }
                self.id = *instance;
                let mut inst = Instance::new(self.plan.steps.len());
                self.advance(&mut inst);
                instances.insert(*instance, if inst.ended { Slot::Ended } else { Slot::Live(inst) });
                return Ok(());
            }
            Event::Result { instance, step, phase, action, attempt, outcome, error } => {
                let outcome = match outcome {
                    Outcome::Ok => Ok(()),
                    Outcome::Error => Err(Failure::Error(error.as_deref())),
                    Outcome::Timeout => Err(Failure::Timeout),
                };
                (*instance, step, (*phase, *action, *attempt), Some(outcome))
            }
            Event::Timer { instance, step, phase, action, attempt } => {
                (*instance, step, (*phase, *action, *attempt), None)
            }
        };
        let slot = instances.get_mut(&id).ok_or(Error::UnknownInstance(id))?;
        let (phase, action, attempt) = call;
        let call = Call { step: self.plan.step(step)?, phase, action, attempt };
        let inst = match slot {
            Slot::Live(inst) => inst,
            Slot::Ended => return Ok(()), // late news for an instance that has ended
        };
        self.id = id;
        match (outcome, phase) {
            (Some(outcome), Phase::Do) => self.do_result(inst, call, outcome),
            (Some(outcome), Phase::Undo) => self.undo_result(inst, call, outcome),
            (None, _) => self.timer(inst, call),
        }
        if inst.ended {
            *slot = Slot::Ended;
        }
        Ok(())
    }

    fn name(&self, s: usize) -> &'p str {
        &self.plan.steps[s].name
    }

    fn owed(&self, inst: &Instance, s: usize) -> bool {
        let task = inst.tasks[s];
        !self.plan.steps[s].compensation.is_empty() && (task.state == StepState::Done || task.indefinite)
    }

    fn emit_step(&mut self, s: usize, status: StepStatus, attempt: Option<u64>, info: Option<Info>) {
        self.out.push(Command::Step { instance: self.id, step: self.name(s), status, attempt, info });
    }

    fn advance(&mut self, inst: &mut Instance) {
        if inst.ended {
            return;
        }
        let plan = self.plan;
        if !inst.aborted {
            for &s in &plan.order {
                if inst.tasks[s].state == StepState::Pending
                    && plan.deps[s].iter().all(|&d| inst.tasks[d].state == StepState::Done)
                {
                    self.start_attempt(inst, s, 1, None);
                }
            }
            if inst.tasks.iter().all(|t| t.state == StepState::Done) {
                self.finish(inst, Ending::Completed);
            }
            return;
        }
        if inst.tasks.iter().any(|t| matches!(t.state, StepState::Running { .. })) {
            return; // in-flight attempts settle first
        }
        let mut busy = false;
        for &s in plan.order.iter().rev() {
            if !self.owed(inst, s) {
                continue;
            }
            match inst.comps[s] {
                CompState::Done | CompState::Exhausted => {}
                CompState::Running { .. } | CompState::Waiting { .. } => busy = true,
                CompState::Pending => {
                    if plan.descendants[s].iter().all(|&d| !self.owed(inst, d) || inst.comps[d] == CompState::Done) {
                        self.start_compensation(inst, s, 0, 1, None);
                        busy = true;
                    }
                }
            }
        }
        let settling = inst.comps.iter().any(|c| matches!(c, CompState::Running { .. } | CompState::Waiting { .. }));
        if busy || settling {
            return;
        }
        let owed: Vec<usize> = plan.order.iter().copied().filter(|&s| self.owed(inst, s)).collect();
        let ending = if owed.iter().any(|&s| inst.comps[s] != CompState::Done) {
            Ending::NeedsIntervention
        } else if owed.is_empty() {
            Ending::Failed
        } else {
            Ending::Compensated
        };
        self.finish(inst, ending);
    }

    fn finish(&mut self, inst: &mut Instance, status: Ending) {
        inst.ended = true;
        self.out.push(Command::Finish { instance: self.id, status });
    }

    fn start_attempt(&mut self, inst: &mut Instance, s: usize, attempt: u64, last_delay: Option<u64>) {
        let spec = &self.plan.steps[s];
        let awaited = spec.kind != StepKind::FireAndForget;
        let timeout_us = awaited.then_some(spec.timeout_us);
        self.out.push(Command::Invoke {
            instance: self.id,
            step: self.name(s),
            phase: Phase::Do,
            action: 0,
            attempt,
            timeout_us,
        });
        if awaited {
            inst.tasks[s].state = StepState::Running { attempt, last_delay };
        } else {
            inst.tasks[s].state = StepState::Done;
            self.emit_step(s, StepStatus::Completed, Some(attempt), Some(Info::Published));
        }
    }

    fn start_compensation(&mut self, inst: &mut Instance, s: usize, action: u64, attempt: u64, last: Option<u64>) {
        inst.comps[s] = CompState::Running { action, attempt, last_delay: last };
        let timeout_us = Some(self.plan.steps[s].timeout_us);
        self.out.push(Command::Invoke {
            instance: self.id,
            step: self.name(s),
            phase: Phase::Undo,
            action,
            attempt,
            timeout_us,
        });
    }

    fn do_result(&mut self, inst: &mut Instance, call: Call, outcome: Result<(), Failure<'_>>) {
        let s = call.step;
        let last_delay = match inst.tasks[s].state {
            StepState::Running { attempt, last_delay } if attempt == call.attempt => last_delay,
            _ => return, // late or duplicate: that attempt is settled
        };
        match outcome {
            Ok(()) => {
                inst.tasks[s].state = StepState::Done;
                self.emit_step(s, StepStatus::Completed, Some(call.attempt), None);
                self.advance(inst);
            }
            Err(failure) => {
                inst.tasks[s].indefinite |= matches!(failure, Failure::Timeout);
                self.after_failure(inst, call, last_delay, failure.error());
            }
        }
    }

    fn undo_result(&mut self, inst: &mut Instance, call: Call, outcome: Result<(), Failure<'_>>) {
        let s = call.step;
        let last_delay = match inst.comps[s] {
            CompState::Running { action, attempt, last_delay } if (action, attempt) == (call.action, call.attempt) => {
                last_delay
            }
            _ => return,
        };
        match outcome {
            Ok(()) if call.action + 1 >= self.plan.steps[s].compensation.len() as u64 => {
                inst.comps[s] = CompState::Done;
                self.emit_step(s, StepStatus::Compensated, None, None);
                self.advance(inst);
            }
            Ok(()) => self.start_compensation(inst, s, call.action + 1, 1, None),
            Err(failure) => self.after_compensation_failure(inst, call, last_delay, failure.error()),
        }
    }

    /// After attempt k of a step failed: retry after a wait, or fail the step and abort the instance.
    fn after_failure(&mut self, inst: &mut Instance, call: Call, last: Option<u64>, error: Option<&str>) {
        let (s, k) = (call.step, call.attempt);
        let policy = &self.plan.steps[s].retry;
        let retryable = error.map_or(true, |e| !policy.non_retryable.iter().any(|n| n == e));
        if !inst.aborted && retryable && k < policy.max_attempts {
            let delay = self.wait(call, last, policy);
            inst.tasks[s].state = StepState::Waiting { attempt: k + 1, delay };
            return;
        }
        inst.tasks[s].state = StepState::Failed;
        self.emit_step(s, StepStatus::Failed, Some(k), failure_info(inst.tasks[s]));
        self.abort(inst);
        self.advance(inst);
    }

    /// After attempt k of a compensation action failed: retry it after a wait, or give up on it.
    fn after_compensation_failure(&mut self, inst: &mut Instance, call: Call, last: Option<u64>, error: Option<&str>) {
        let policy = &self.plan.compensation_retry;
        if call.attempt < policy.max_attempts {
            let delay = self.wait(call, last, policy);
            inst.comps[call.step] = CompState::Waiting { action: call.action, attempt: call.attempt + 1, delay };
            return;
        }
        inst.comps[call.step] = CompState::Exhausted;
        let info = error.map(|e| Info::Error(e.to_owned()));
        self.emit_step(call.step, StepStatus::Exhausted, Some(call.attempt), info);
        self.advance(inst);
    }

    /// Draw the wait before attempt k + 1 of `call` and emit its timer; the caller records the state.
    fn wait(&mut self, call: Call, last: Option<u64>, policy: &Policy) -> u64 {
        let Call { step, phase, action, attempt: k } = call;
        let step = self.name(step);
        let u = (rand(self.seed, self.id, step, phase, action, k) >> 32) as u32; // the top 32 bits: exact
        let delay_us = policy.delay_us(k, last, u);
        self.out.push(Command::Timer { instance: self.id, step, phase, action, attempt: k + 1, delay_us });
        delay_us
    }

    fn abort(&mut self, inst: &mut Instance) {
        inst.aborted = true;
        for &s in &self.plan.order {
            let task = &mut inst.tasks[s];
            match task.state {
                StepState::Pending => {
                    task.state = StepState::Skipped;
                    self.emit_step(s, StepStatus::Skipped, None, None);
                }
                StepState::Waiting { attempt, .. } => {
                    task.state = StepState::Failed;
                    let info = failure_info(*task);
                    self.emit_step(s, StepStatus::Failed, Some(attempt), info);
                }
                _ => {}
            }
        }
    }

    fn timer(&mut self, inst: &mut Instance, call: Call) {
        let s = call.step;
        match call.phase {
            Phase::Do => match inst.tasks[s].state {
                StepState::Waiting { attempt, delay } if attempt == call.attempt && !inst.aborted => {
                    self.start_attempt(inst, s, attempt, Some(delay))
                }
                _ => {}
            },
            Phase::Undo => match inst.comps[s] {
                CompState::Waiting { action, attempt, delay } if (action, attempt) == (call.action, call.attempt) => {
                    self.start_compensation(inst, s, action, attempt, Some(delay))
                }
                _ => {}
            },
        }
    }
}

fn failure_info(task: Task) -> Option<Info> {
    Some(if task.indefinite { Info::Indefinite } else { Info::Definite })
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(backoff: &str, jitter: &str, max_attempts: u64) -> serde_json::Value {
        json!({"max_attempts": max_attempts, "backoff": backoff, "initial_us": 1_000_000,
               "coefficient_milli": 2000, "max_us": 5_000_000, "jitter": jitter, "non_retryable": []})
    }

    fn step(name: &str, kind: &str, deps: &[&str], compensations: usize, max_attempts: u64) -> serde_json::Value {
        json!({"name": name, "type": kind, "service": "svc", "endpoint": "/x", "topic": null,
               "depends_on": deps, "timeout_us": 5_000_000, "retry": policy("exponential", "none", max_attempts),
               "compensation": vec![json!({"service": "svc", "topic": null, "endpoint": "/undo"}); compensations]})
    }

    fn workflow(steps: Vec<serde_json::Value>) -> Workflow {
        let wf = json!({"name": "t", "version": "1", "steps": steps,
                        "compensation_retry": policy("constant", "none", 2)});
        serde_json::from_value(wf).expect("a test workflow is well formed")
    }

    /// a (compensable) → b (compensable) → c, each with `attempts` attempts.
    fn saga(attempts: u64) -> Decider {
        let wf = workflow(vec![
            step("a", "sync-task", &[], 1, attempts),
            step("b", "async-task", &["a"], 2, attempts),
            step("c", "sync-task", &["b"], 0, attempts),
        ]);
        Decider::new(wf, 7).expect("a valid plan")
    }

    fn result(step: &str, phase: Phase, action: u64, attempt: u64, outcome: Outcome) -> Event {
        let error = (outcome == Outcome::Error).then(|| "ServiceError".to_owned());
        Event::Result { instance: 0, step: step.into(), phase, action, attempt, outcome, error }
    }

    fn invoke(step: &str, phase: Phase, action: u64, attempt: u64) -> Command<'_> {
        Command::Invoke { instance: 0, step, phase, action, attempt, timeout_us: Some(5_000_000) }
    }

    fn status(step: &str, status: StepStatus, attempt: Option<u64>, info: Option<Info>) -> Command<'_> {
        Command::Step { instance: 0, step, status, attempt, info }
    }

    fn start(d: &mut Decider) -> Vec<Command<'_>> {
        d.activate(&[Event::Start { instance: 0 }]).expect("start")
    }

    #[test]
    fn hashes_match_their_reference_values() {
        let cases: [(&[u8], u64); 2] = [(b"", 0xcbf29ce484222325), (b"a", 0xaf63dc4c8601ec8c)];
        for (input, want) in cases {
            assert_eq!(fnv1a64(input), want, "fnv1a64({input:?})");
        }
        assert_eq!(splitmix64(0), 0xe220a8397b1dcdaf);
        assert_eq!(
            rand(7, 12, "process-payment", Phase::Do, 0, 2),
            splitmix64(7 ^ fnv1a64(b"12/process-payment/do/0/2"))
        );
    }

    #[test]
    fn delays_follow_each_backoff_and_jitter() {
        // (backoff, jitter, k, last, u, expected µs) with I = 1 s, B = 2.0, M = 5 s.
        let half = 1u32 << 31;
        let cases = [
            ("exponential", "none", 1, None, 0, 1_000_000),
            ("exponential", "none", 3, None, 0, 4_000_000),
            ("exponential", "none", 4, None, 0, 5_000_000),
            ("exponential", "none", 60, None, 0, 5_000_000),
            ("linear", "none", 3, None, 0, 3_000_000),
            ("linear", "none", 9, None, 0, 5_000_000),
            ("constant", "none", 5, None, 0, 1_000_000),
            ("exponential", "full", 2, None, half, 1_000_000),
            ("exponential", "full", 2, None, 0, 0),
            ("exponential", "full", 2, None, u32::MAX, 1_999_999),
            ("exponential", "equal", 2, None, 0, 1_000_000),
            ("exponential", "equal", 2, None, half, 1_500_000),
            ("exponential", "decorrelated", 1, None, 0, 1_000_000),
            ("exponential", "decorrelated", 1, None, half, 2_000_000),
            ("exponential", "decorrelated", 2, Some(1_500_000), half, 2_750_000),
            ("exponential", "decorrelated", 2, Some(4_000_000), u32::MAX, 5_000_000),
        ];
        for (backoff, jitter, k, last, u, want) in cases {
            let p: Policy = serde_json::from_value(policy(backoff, jitter, 5)).expect("policy");
            assert_eq!(p.delay_us(k, last, u), want, "{backoff}/{jitter} k={k} last={last:?} u={u}");
        }
    }

    #[test]
    fn topological_order_breaks_ties_by_declaration() {
        type Steps<'a> = Vec<(&'a str, Vec<&'a str>)>;
        let cases: [(Steps, Vec<&str>); 3] = [
            (vec![("a", vec![]), ("b", vec![]), ("c", vec![])], vec!["a", "b", "c"]),
            (vec![("c", vec!["b"]), ("b", vec!["a"]), ("a", vec![])], vec!["a", "b", "c"]),
            // x and y are ready first (declaration order), then what each releases, first in first out.
            (
                vec![("d", vec!["y"]), ("x", vec![]), ("c", vec!["x"]), ("y", vec![]), ("e", vec!["c", "d"])],
                vec!["x", "y", "c", "d", "e"],
            ),
        ];
        for (steps, want) in cases {
            let wf = workflow(steps.iter().map(|(n, deps)| step(n, "sync-task", deps, 0, 1)).collect());
            let plan = Plan::new(wf).expect("plan");
            assert_eq!(plan.order().collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn bad_workflows_are_refused() {
        let cycle = workflow(vec![step("a", "sync-task", &["b"], 0, 1), step("b", "sync-task", &["a"], 0, 1)]);
        assert!(matches!(Plan::new(cycle), Err(Error::Cycle(_))));
        let unknown = workflow(vec![step("a", "sync-task", &["zz"], 0, 1)]);
        assert!(matches!(Plan::new(unknown), Err(Error::UnknownDependency { .. })));
        let twice = workflow(vec![step("a", "sync-task", &[], 0, 1), step("a", "sync-task", &[], 0, 1)]);
        assert_eq!(Plan::new(twice).err(), Some(Error::DuplicateStep("a".into())));
    }

    #[test]
    fn a_start_invokes_the_first_step() {
        let mut d = saga(1);
        assert_eq!(start(&mut d), vec![invoke("a", Phase::Do, 0, 1)]);
    }

    #[test]
    fn fire_and_forget_completes_when_published() {
        let wf = workflow(vec![step("f", "fire-and-forget", &[], 0, 1), step("g", "sync-task", &["f"], 0, 1)]);
        let mut d = Decider::new(wf, 0).expect("plan");
        assert_eq!(
            start(&mut d),
            vec![
                Command::Invoke { instance: 0, step: "f", phase: Phase::Do, action: 0, attempt: 1, timeout_us: None },
                status("f", StepStatus::Completed, Some(1), Some(Info::Published)),
                invoke("g", Phase::Do, 0, 1),
            ]
        );
    }

    #[test]
    fn a_failure_sets_a_timer_with_the_policy_delay_then_retries() {
        let mut d = saga(3);
        start(&mut d);
        let out = d.activate(&[result("a", Phase::Do, 0, 1, Outcome::Error)]).expect("result");
        assert_eq!(
            out,
            vec![Command::Timer {
                instance: 0,
                step: "a",
                phase: Phase::Do,
                action: 0,
                attempt: 2,
                delay_us: 1_000_000
            }]
        );
        let out = d.activate(&[result("a", Phase::Do, 0, 2, Outcome::Timeout)]).expect("stale");
        assert_eq!(out, vec![], "no attempt 2 is running yet");
        let timer = Event::Timer { instance: 0, step: "a".into(), phase: Phase::Do, action: 0, attempt: 2 };
        assert_eq!(d.activate(&[timer]).expect("timer"), vec![invoke("a", Phase::Do, 0, 2)]);
        let out = d.activate(&[result("a", Phase::Do, 0, 2, Outcome::Timeout)]).expect("result");
        assert_eq!(
            out,
            vec![Command::Timer {
                instance: 0,
                step: "a",
                phase: Phase::Do,
                action: 0,
                attempt: 3,
                delay_us: 2_000_000
            }]
        );
    }

    #[test]
    fn a_failure_for_good_skips_pending_steps_and_compensates_in_reverse_order() {
        let mut d = saga(1);
        start(&mut d);
        d.activate(&[result("a", Phase::Do, 0, 1, Outcome::Ok)]).expect("a ok");
        let out = d.activate(&[result("b", Phase::Do, 0, 1, Outcome::Ok)]).expect("b ok");
        assert_eq!(out, vec![status("b", StepStatus::Completed, Some(1), None), invoke("c", Phase::Do, 0, 1)]);
        let out = d.activate(&[result("c", Phase::Do, 0, 1, Outcome::Error)]).expect("c fails");
        // b is undone first (reverse order), one action after the other; a waits for its descendant b.
        assert_eq!(
            out,
            vec![status("c", StepStatus::Failed, Some(1), Some(Info::Definite)), invoke("b", Phase::Undo, 0, 1)]
        );
        let out = d.activate(&[result("b", Phase::Undo, 0, 1, Outcome::Ok)]).expect("b undo 0");
        assert_eq!(out, vec![invoke("b", Phase::Undo, 1, 1)]);
        let out = d.activate(&[result("b", Phase::Undo, 1, 1, Outcome::Ok)]).expect("b undo 1");
        assert_eq!(out, vec![status("b", StepStatus::Compensated, None, None), invoke("a", Phase::Undo, 0, 1)]);
        let out = d.activate(&[result("a", Phase::Undo, 0, 1, Outcome::Ok)]).expect("a undo");
        assert_eq!(
            out,
            vec![
                status("a", StepStatus::Compensated, None, None),
                Command::Finish { instance: 0, status: Ending::Compensated }
            ]
        );
        let late = d.activate(&[result("c", Phase::Do, 0, 1, Outcome::Ok)]).expect("late result");
        assert_eq!(late, vec![], "an ended instance ignores late news");
    }

    #[test]
    fn abort_skips_pending_steps() {
        let mut d = saga(1);
        start(&mut d);
        let out = d.activate(&[result("a", Phase::Do, 0, 1, Outcome::Error)]).expect("a fails");
        assert_eq!(
            out,
            vec![
                status("a", StepStatus::Failed, Some(1), Some(Info::Definite)),
                status("b", StepStatus::Skipped, None, None),
                status("c", StepStatus::Skipped, None, None),
                Command::Finish { instance: 0, status: Ending::Failed },
            ]
        );
    }

    #[test]
    fn a_timeout_makes_the_step_owed_and_exhausted_compensation_needs_intervention() {
        let mut d = saga(1);
        start(&mut d);
        let out = d.activate(&[result("a", Phase::Do, 0, 1, Outcome::Timeout)]).expect("a times out");
        assert_eq!(out[0], status("a", StepStatus::Failed, Some(1), Some(Info::Indefinite)));
        assert_eq!(out.last(), Some(&invoke("a", Phase::Undo, 0, 1)));
        let out = d.activate(&[result("a", Phase::Undo, 0, 1, Outcome::Error)]).expect("undo fails");
        assert_eq!(
            out,
            vec![Command::Timer {
                instance: 0,
                step: "a",
                phase: Phase::Undo,
                action: 0,
                attempt: 2,
                delay_us: 1_000_000
            }]
        );
        let timer = Event::Timer { instance: 0, step: "a".into(), phase: Phase::Undo, action: 0, attempt: 2 };
        d.activate(&[timer]).expect("timer");
        let out = d.activate(&[result("a", Phase::Undo, 0, 2, Outcome::Error)]).expect("undo fails again");
        assert_eq!(
            out,
            vec![
                status("a", StepStatus::Exhausted, Some(2), Some(Info::Error("ServiceError".into()))),
                Command::Finish { instance: 0, status: Ending::NeedsIntervention }
            ]
        );
    }

    #[test]
    fn late_and_duplicate_results_change_nothing() {
        let mut d = saga(3);
        start(&mut d);
        d.activate(&[result("a", Phase::Do, 0, 1, Outcome::Ok)]).expect("a ok");
        for late in [
            result("a", Phase::Do, 0, 1, Outcome::Ok),
            result("a", Phase::Do, 0, 1, Outcome::Error),
            result("b", Phase::Do, 0, 7, Outcome::Ok),
            result("b", Phase::Undo, 0, 1, Outcome::Ok),
        ] {
            assert_eq!(d.activate(std::slice::from_ref(&late)).expect("ignored"), vec![], "{late:?}");
        }
    }

    #[test]
    fn unknown_instances_steps_and_double_starts_are_errors() {
        let mut d = saga(1);
        let timer = Event::Timer { instance: 9, step: "a".into(), phase: Phase::Do, action: 0, attempt: 2 };
        assert_eq!(d.activate(&[timer]).err(), Some(Error::UnknownInstance(9)));
        start(&mut d);
        assert_eq!(d.activate(&[Event::Start { instance: 0 }]).err(), Some(Error::StartedTwice(0)));
        let bad = Event::Timer { instance: 0, step: "zz".into(), phase: Phase::Do, action: 0, attempt: 2 };
        assert_eq!(d.activate(&[bad]).err(), Some(Error::UnknownStep("zz".into())));
    }

    #[test]
    fn commands_serialise_as_the_protocol_spells_them() {
        let cases = [
            (
                invoke("a", Phase::Undo, 1, 2),
                r#"{"cmd":"invoke","instance":0,"step":"a","phase":"undo","action":1,"attempt":2,"timeout_us":5000000}"#,
            ),
            (
                status("a", StepStatus::Skipped, None, None),
                r#"{"cmd":"step","instance":0,"step":"a","status":"skipped","attempt":null,"info":null}"#,
            ),
            (
                Command::Finish { instance: 3, status: Ending::NeedsIntervention },
                r#"{"cmd":"finish","instance":3,"status":"needs_intervention"}"#,
            ),
        ];
        for (command, want) in cases {
            assert_eq!(serde_json::to_string(&command).expect("serialisable"), want);
        }
    }
}
