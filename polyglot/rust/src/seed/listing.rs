//! The outline's Rust listing (`TaskExecutionEngine::execute_workflow`, Phase 2) ported onto
//! `polyglot/PROTOCOL.md`, with its control flow and therefore its bugs (see `bugs.rs`).
//!
//! The listing is one `async fn` per workflow. Here each instance is that function stopped at an
//! `.await`: [`Point`] says which, and [`Run::drive`] runs it on until it must wait again. The
//! listing's constructs become protocol commands:
//!
//! | listing | protocol |
//! |---|---|
//! | `timeout(Duration::from_secs(task.timeout_seconds), execute_single_task(&task))` | `invoke` (`do`, the step's `timeout_us`); the awaited output is the `result` event |
//! | `tokio::time::sleep(task.retry_policy.calculate_delay(attempt))` | `timer`, then the next `invoke` |
//! | `mark_task_completed` | `step completed` |
//! | an error out of `execute_task_with_retry`, when the loop sees it | `step failed` |
//! | `execute_single_task(&compensation_task).await` | `invoke` (`undo`), awaited |
//! | "Compensation task completed successfully" (a log line, the only record of it) | `step compensated` |
//! | `mark_workflow_failed` / `Ok(get_result())` / the `?` | `finish failed` / `finish completed` / `finish failed` |
//!
//! Dropped, since the protocol cannot express them: the `tracing` logs (but the one above), the
//! `event_store` (never used by the listing), `input`, and the task outputs.
//!
//! Pure: no clock, no I/O, no floats, no randomness (the listing has no jitter).

use std::collections::{HashMap, VecDeque};
use std::fmt;

use crate::bugs::{Bug, Fixes};
use crate::protocol::{Command, Ending, Event, Info, Outcome, Phase, StepKind, StepSpec, StepStatus, Workflow};

/// Input the protocol does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    DuplicateStep(String),
    UnknownDependency { step: String, dependency: String },
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
            Error::StartedTwice(i) => write!(f, "instance {i} started twice"),
            Error::UnknownInstance(i) => write!(f, "an event for instance {i}, which was never started"),
            Error::UnknownStep(s) => write!(f, "an event for step {s:?}, which the workflow does not have"),
        }
    }
}

impl std::error::Error for Error {}

const SECOND_US: u64 = 1_000_000;

/// `RetryPolicy::calculate_delay(attempt)`, which the listing calls but never defines: exponential
/// from 1 s, doubling, at most 100 s (Temporal's defaults), no jitter (the listing draws none).
/// The wait after failed attempt `attempt`, in µs.
pub fn calculate_delay(attempt: u64) -> u64 {
    const MAX_US: u64 = 100 * SECOND_US;
    match attempt.saturating_sub(1) {
        k if k < 7 => MAX_US.min(SECOND_US << k), // 2^7 s > 100 s: the cap holds from there on
        _ => MAX_US,
    }
}

// ---------------------------------------------------------------------------------------------
// The workflow definition and the execution context.

/// `WorkflowDefinition`: the steps, their dependencies as indices, and how to reach a step by name.
#[derive(Debug)]
struct Definition {
    steps: Vec<StepSpec>,
    index: HashMap<String, usize>,
    deps: Vec<Vec<usize>>,
    compensation_attempts: u64,
}

impl Definition {
    fn new(wf: Workflow) -> Result<Definition, Error> {
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
                    .collect()
            })
            .collect::<Result<_, _>>()?;
        Ok(Definition { steps: wf.steps, index, deps, compensation_attempts: wf.compensation_retry.max_attempts })
    }

    fn step(&self, name: &str) -> Result<usize, Error> {
        self.index.get(name).copied().ok_or_else(|| Error::UnknownStep(name.to_owned()))
    }

    /// How many compensation actions step `s` has (as `u64`, the protocol's `action`).
    fn actions(&self, s: usize) -> u64 {
        self.steps[s].compensation.len() as u64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskStatus {
    NotStarted,
    /// Handed to `execute_task_with_retry`; its result may sit in `pending_tasks`, not yet seen.
    Started,
    Completed,
    Failed,
}

/// `ExecutionContext`: what the loop has *recorded* about each task.
#[derive(Debug)]
struct ExecutionContext {
    status: Vec<TaskStatus>,
    /// The steps whose work may have happened, in the order the loop learnt it: completed ones and
    /// (with bug 3 fixed) ones whose failure was indefinite. Compensation walks it backwards.
    took_effect: Vec<usize>,
}

impl ExecutionContext {
    fn new(steps: usize) -> ExecutionContext {
        ExecutionContext { status: vec![TaskStatus::NotStarted; steps], took_effect: Vec::new() }
    }

    /// `is_complete()` while the loop runs: every task completed. (A failure leaves the loop through
    /// `handle_task_failure` or the `?`, so the port never asks it after one.)
    fn is_complete(&self) -> bool {
        self.status.iter().all(|&s| s == TaskStatus::Completed)
    }

    /// `get_ready_tasks()`: the tasks not started whose dependencies all completed, in declaration
    /// order; they count as started from now on.
    fn get_ready_tasks(&mut self, def: &Definition) -> VecDeque<usize> {
        let ready: VecDeque<usize> = (0..self.status.len())
            .filter(|&s| {
                self.status[s] == TaskStatus::NotStarted
                    && def.deps[s].iter().all(|&d| self.status[d] == TaskStatus::Completed)
            })
            .collect();
        for &s in &ready {
            self.status[s] = TaskStatus::Started;
        }
        ready
    }
}

// ---------------------------------------------------------------------------------------------
// The futures: one call of `execute_task_with_retry`, or of a compensation.

/// Why a call gave up: its last attempt, whether some attempt timed out (tracked with bug 3 fixed),
/// and the error's name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    attempt: u64,
    indefinite: bool,
    error: String,
}

/// Where a call's retry loop is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    /// `timeout(.., execute_single_task(..)).await` on this attempt.
    Awaiting { attempt: u64 },
    /// `sleep(calculate_delay(..)).await` before this attempt.
    Sleeping { attempt: u64 },
    /// The loop returned: the attempt that succeeded, or why it gave up.
    Returned(Result<u64, Failure>),
}

impl Call {
    fn in_flight(&self) -> bool {
        match self {
            Call::Awaiting { .. } | Call::Sleeping { .. } => true,
            Call::Returned(_) => false,
        }
    }
}

/// An entry of `pending_tasks`: one step's `execute_task_with_retry`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Handle {
    step: usize,
    call: Call,
    /// Some attempt timed out (only tracked with bug 3 fixed: the listing does not look).
    timed_out: bool,
}

/// One compensation action, as `get_compensation_tasks_for` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CompensationTask {
    step: usize,
    action: u64,
}

/// `handle_task_failure`'s loop over the compensation tasks.
#[derive(Debug, Default)]
struct Compensation {
    tasks: VecDeque<CompensationTask>,
    current: Option<(CompensationTask, Call)>,
    /// Steps with an action that failed for good: not compensated.
    failed: Vec<usize>,
    /// Bug 5 fixed: some compensation gave up, a human must look.
    gave_up: bool,
    compensated: bool,
}

/// The `.await` an instance's `execute_workflow` is stopped at, or the code it runs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    /// `while !execution_context.is_complete()`, then `get_ready_tasks()`.
    While,
    /// `for task in ready_tasks { .. }`.
    For,
    /// `futures::future::select_all(pending_tasks).await` and the `match result`.
    Select,
    /// Bug 7 fixed: waiting for the tasks still in flight before compensating.
    Draining,
    /// Inside `handle_task_failure`.
    Compensating,
    /// `execute_workflow` has returned.
    Returned,
}

/// One instance: the state of its `execute_workflow` future.
#[derive(Debug)]
struct Execution {
    context: ExecutionContext,
    pending_tasks: Vec<Handle>,
    /// What is left of the `for task in ready_tasks` loop.
    ready_tasks: VecDeque<usize>,
    /// The error `select_all` produced, on its way to `handle_task_failure`.
    failure: Option<(usize, Failure)>,
    compensation: Compensation,
    point: Point,
    /// Known to this process only through a replay (bug 6: no code would resume it).
    recovered: bool,
}

impl Execution {
    fn new(steps: usize, recovered: bool) -> Execution {
        Execution {
            context: ExecutionContext::new(steps),
            pending_tasks: Vec::new(),
            ready_tasks: VecDeque::new(),
            failure: None,
            compensation: Compensation::default(),
            point: Point::While,
            recovered,
        }
    }
}

/// An ended instance keeps only a tombstone.
#[derive(Debug)]
enum Slot {
    Live(Box<Execution>),
    Ended,
}

/// The port: one `execute_workflow` per instance, fed the world's events.
#[derive(Debug)]
pub struct Engine {
    def: Definition,
    fixes: Fixes,
    instances: HashMap<u64, Slot>,
}

impl Engine {
    pub fn new(workflow: Workflow, fixes: Fixes) -> Result<Engine, Error> {
        Ok(Engine { def: Definition::new(workflow)?, fixes, instances: HashMap::new() })
    }

    /// Handle one activation's events in order; the commands they lead to, in order. `replay` is the
    /// activation's flag: a restarted process is being told what happened before the crash.
    pub fn activate(&mut self, events: &[Event], replay: bool) -> Result<Vec<Command<'_>>, Error> {
        let mut run = Run { def: &self.def, fixes: self.fixes, instance: 0, out: Vec::new() };
        for event in events {
            run.event(&mut self.instances, event, replay)?;
        }
        Ok(run.out)
    }
}

// ---------------------------------------------------------------------------------------------
// The listing at work on one activation.

struct Run<'d> {
    def: &'d Definition,
    fixes: Fixes,
    instance: u64,
    out: Vec<Command<'d>>,
}

impl<'d> Run<'d> {
    fn fixed(&self, bug: Bug) -> bool {
        self.fixes.fixed(bug)
    }

    fn event(&mut self, instances: &mut HashMap<u64, Slot>, event: &Event, replay: bool) -> Result<(), Error> {
        let (id, name, phase, action, attempt, outcome) = match event {
            Event::Start { instance } => {
                if instances.contains_key(instance) {
                    return Err(Error::StartedTwice(*instance));
                }
                self.instance = *instance;
                let mut x = Execution::new(self.def.steps.len(), replay);
                self.drive(&mut x);
                instances
                    .insert(*instance, if x.point == Point::Returned { Slot::Ended } else { Slot::Live(Box::new(x)) });
                return Ok(());
            }
            Event::Result { instance, step, phase, action, attempt, outcome, error } => {
                (*instance, step, *phase, *action, *attempt, Some((*outcome, error.as_deref())))
            }
            Event::Timer { instance, step, phase, action, attempt } => {
                (*instance, step, *phase, *action, *attempt, None)
            }
        };
        let slot = instances.get_mut(&id).ok_or(Error::UnknownInstance(id))?;
        let step = self.def.step(name)?;
        let x = match slot {
            Slot::Live(x) => x,
            Slot::Ended => return Ok(()), // late news: the world should not send it, nothing listens
        };
        if x.recovered && !replay && !self.fixed(Bug::StateInMemory) {
            // Bug 6. The world insists that a restarted process answer the replay as before, and it
            // does; but no code of the listing resumes a workflow from before the crash: nothing
            // drives this instance any more. (A limit of the model: after a second crash the world
            // replays these ignored events too, the port answers them, and the world reports
            // non-determinism. Show bug 6 with one orchestrator crash per run.)
            return Ok(());
        }
        self.instance = id;
        match (outcome, phase) {
            (Some((outcome, error)), Phase::Do) => self.task_result(x, step, attempt, outcome, error),
            (Some((outcome, error)), Phase::Undo) => self.compensation_result(x, step, action, attempt, outcome, error),
            (None, Phase::Do) => self.task_timer(x, step, attempt),
            (None, Phase::Undo) => self.compensation_timer(x, step, action, attempt),
        }
        self.drive(x);
        if x.point == Point::Returned {
            *slot = Slot::Ended;
        }
        Ok(())
    }

    // -- execute_task_with_retry ------------------------------------------------------------------

    /// The first attempt of `execute_task_with_retry(task)`.
    fn start_task(&mut self, s: usize) -> Handle {
        let spec = &self.def.steps[s];
        if spec.kind == StepKind::FireAndForget {
            // The listing knows no such step: the call "returns" once the message is published.
            self.invoke(s, Phase::Do, 0, 1, None);
            return Handle { step: s, call: Call::Returned(Ok(1)), timed_out: false };
        }
        self.invoke(s, Phase::Do, 0, 1, Some(spec.timeout_us));
        Handle { step: s, call: Call::Awaiting { attempt: 1 }, timed_out: false }
    }

    fn task_result(&mut self, x: &mut Execution, s: usize, attempt: u64, outcome: Outcome, error: Option<&str>) {
        let awaiting = Call::Awaiting { attempt };
        let handle = match x.pending_tasks.iter_mut().find(|h| h.step == s && h.call == awaiting) {
            Some(handle) => handle,
            None => return, // a duplicate, or a task no one awaits any more
        };
        let max_attempts = self.def.steps[s].retry.max_attempts;
        handle.call = match outcome {
            Outcome::Ok => Call::Returned(Ok(attempt)),
            Outcome::Error => {
                let error = error.unwrap_or("Error").to_owned();
                let failure = Failure { attempt, indefinite: handle.timed_out, error };
                self.retry_or_return(s, Phase::Do, 0, max_attempts, failure)
            }
            Outcome::Timeout if self.fixed(Bug::TimeoutNotRetried) => {
                handle.timed_out = true;
                let failure = Failure { attempt, indefinite: true, error: "Timeout".into() };
                self.retry_or_return(s, Phase::Do, 0, max_attempts, failure)
            }
            // Bug 3: `Err(_timeout) => return Err(anyhow!("Task {} timed out .."))`, at once, and
            // nothing marks the error as one after which the work may have happened.
            Outcome::Timeout => Call::Returned(Err(Failure { attempt, indefinite: false, error: "Timeout".into() })),
        };
    }

    fn task_timer(&mut self, x: &mut Execution, s: usize, attempt: u64) {
        let sleeping = Call::Sleeping { attempt };
        if let Some(handle) = x.pending_tasks.iter_mut().find(|h| h.step == s && h.call == sleeping) {
            self.invoke(s, Phase::Do, 0, attempt, Some(self.def.steps[s].timeout_us));
            handle.call = Call::Awaiting { attempt };
        }
    }

    /// `Ok(Err(e)) if attempt >= max_attempts => return Err(e)`, else sleep `calculate_delay(attempt)`.
    fn retry_or_return(&mut self, s: usize, phase: Phase, action: u64, max_attempts: u64, failure: Failure) -> Call {
        if failure.attempt >= max_attempts {
            return Call::Returned(Err(failure));
        }
        let attempt = failure.attempt + 1;
        let delay_us = calculate_delay(failure.attempt);
        self.out.push(Command::Timer { instance: self.instance, step: self.name(s), phase, action, attempt, delay_us });
        Call::Sleeping { attempt }
    }

    // -- execute_workflow ---------------------------------------------------------------------------

    /// Run the instance's `execute_workflow` on until it waits for an event, or returns.
    fn drive(&mut self, x: &mut Execution) {
        loop {
            let next = match x.point {
                Point::While => self.top_of_loop(x),
                Point::For => self.ready_task_loop(x),
                Point::Select => self.select_all(x),
                Point::Draining => self.drain(x),
                Point::Compensating => self.compensate(x),
                Point::Returned => None,
            };
            match next {
                Some(point) => x.point = point,
                None => return,
            }
        }
    }

    fn top_of_loop(&mut self, x: &mut Execution) -> Option<Point> {
        if x.context.is_complete() {
            self.finish(Ending::Completed); // Ok(execution_context.get_result())
            return Some(Point::Returned);
        }
        x.ready_tasks = x.context.get_ready_tasks(self.def);
        if x.ready_tasks.is_empty() && x.pending_tasks.is_empty() {
            return None; // nothing can ever become ready: the listing spins here for ever
        }
        Some(Point::For)
    }

    fn ready_task_loop(&mut self, x: &mut Execution) -> Option<Point> {
        if self.fixed(Bug::Sequential) {
            // The fix: `pending_tasks.push(self.execute_task_with_retry(task).boxed())`, the future
            // itself, so that `select_all` polls them together. The `.await?` goes, and bug 2's `?`
            // with it: an exhausted task now reaches the `Err(task_error)` arm.
            while let Some(s) = x.ready_tasks.pop_front() {
                let handle = self.start_task(s);
                x.pending_tasks.push(handle);
            }
            return Some(Point::Select);
        }
        // Bug 1: `let task_handle = self.execute_task_with_retry(task).await?;` runs each task to
        // its end before the next one starts; `pending_tasks` only ever holds finished results.
        match x.pending_tasks.last() {
            Some(handle) if handle.call.in_flight() => return None,
            Some(Handle { step, call: Call::Returned(Err(failure)), .. }) if !self.fixed(Bug::EarlyReturn) => {
                // Bug 2: the `?` returns the error from `execute_workflow`; nothing is compensated.
                self.step_failed(*step, failure);
                self.finish(Ending::Failed);
                return Some(Point::Returned);
            }
            // Bug 2 fixed: `pending_tasks.push(future::ready(self.execute_task_with_retry(task).await))`
            // — still one after another, but the error now goes through `select_all`.
            _ => {}
        }
        match x.ready_tasks.pop_front() {
            Some(s) => {
                let handle = self.start_task(s);
                x.pending_tasks.push(handle);
                Some(Point::For)
            }
            None => Some(Point::Select),
        }
    }

    /// `let (result, _index, remaining) = select_all(pending_tasks).await;` and the `match result`.
    fn select_all(&mut self, x: &mut Execution) -> Option<Point> {
        if x.pending_tasks.is_empty() {
            return Some(Point::While);
        }
        // The first ready future in the vector's order; `remaining` is the rest, as `swap_remove` leaves it.
        let i = x.pending_tasks.iter().position(|h| !h.call.in_flight())?;
        let handle = x.pending_tasks.swap_remove(i);
        match handle.call {
            Call::Returned(Ok(attempt)) => {
                self.mark_task_completed(x, handle.step, attempt);
                Some(Point::While)
            }
            Call::Returned(Err(failure)) => {
                self.record_failure(x, handle.step, &failure);
                x.failure = Some((handle.step, failure));
                if self.fixed(Bug::SiblingsAbandoned) {
                    return Some(Point::Draining);
                }
                // Bug 7: compensation starts now, while the other tasks are still in flight, and once
                // the workflow is marked failed the loop ends and drops them: whatever they do is
                // never seen, never compensated.
                x.pending_tasks.clear();
                Some(self.handle_task_failure(x))
            }
            Call::Awaiting { .. } | Call::Sleeping { .. } => None, // not ready: `position` skipped these
        }
    }

    /// Bug 7 fixed: before compensating, await what is still in `pending_tasks` and record it.
    fn drain(&mut self, x: &mut Execution) -> Option<Point> {
        if x.pending_tasks.iter().any(|h| h.call.in_flight()) {
            return None;
        }
        for handle in std::mem::take(&mut x.pending_tasks) {
            match handle.call {
                Call::Returned(Ok(attempt)) => self.mark_task_completed(x, handle.step, attempt),
                Call::Returned(Err(failure)) => self.record_failure(x, handle.step, &failure),
                Call::Awaiting { .. } | Call::Sleeping { .. } => {} // none: checked above
            }
        }
        Some(self.handle_task_failure(x))
    }

    /// The loop has seen a task's error: record the step as failed (and, if its failure was
    /// indefinite, as one whose work may have happened).
    fn record_failure(&mut self, x: &mut Execution, s: usize, failure: &Failure) {
        self.step_failed(s, failure);
        if failure.indefinite {
            x.context.took_effect.push(s);
        }
        x.context.status[s] = TaskStatus::Failed;
    }

    fn mark_task_completed(&mut self, x: &mut Execution, s: usize, attempt: u64) {
        x.context.status[s] = TaskStatus::Completed;
        x.context.took_effect.push(s);
        let info = (self.def.steps[s].kind == StepKind::FireAndForget).then_some(Info::Published);
        self.step(s, StepStatus::Completed, Some(attempt), info);
    }

    // -- handle_task_failure --------------------------------------------------------------------------

    fn handle_task_failure(&mut self, x: &mut Execution) -> Point {
        let failed = x.failure.as_ref().map(|(s, _)| *s);
        let steps: Vec<usize> = if self.fixed(Bug::CompensatesFailedStep) {
            // The fix: the compensations of every step that took effect, the last one first.
            x.context.took_effect.iter().rev().copied().collect()
        } else {
            // Bug 4: `context.get_compensation_tasks_for(error.task_id)` — the step that failed.
            failed.into_iter().collect()
        };
        let tasks = steps
            .into_iter()
            .flat_map(|step| (0..self.def.actions(step)).map(move |action| CompensationTask { step, action }))
            .collect();
        x.compensation = Compensation { tasks, ..Compensation::default() };
        Point::Compensating
    }

    /// `for compensation_task in compensation_tasks { match self.execute_single_task(..).await { .. } }`,
    /// one at a time, each awaited; then `context.mark_workflow_failed(error)`.
    fn compensate(&mut self, x: &mut Execution) -> Option<Point> {
        loop {
            match x.compensation.current.take() {
                None => {}
                Some((task, Call::Returned(Ok(_)))) => {
                    // "Compensation task completed successfully": a log line, the listing's only record.
                    let c = &mut x.compensation;
                    if task.action + 1 == self.def.actions(task.step) && !c.failed.contains(&task.step) {
                        c.compensated = true;
                        self.step(task.step, StepStatus::Compensated, None, None);
                    }
                }
                Some((task, Call::Returned(Err(failure)))) => {
                    x.compensation.failed.push(task.step);
                    if self.fixed(Bug::CompensationFailureLogged) {
                        // The fix: after its retries, report the compensation as given up.
                        x.compensation.gave_up = true;
                        let info = Info::Error(failure.error);
                        self.step(task.step, StepStatus::Exhausted, Some(failure.attempt), Some(info));
                    }
                    // Bug 5: `tracing::error!(.., "Compensation task failed - manual intervention
                    // required")` and on to the next one; no one is told.
                }
                Some(busy) => {
                    x.compensation.current = Some(busy);
                    return None;
                }
            }
            let task = match x.compensation.tasks.pop_front() {
                Some(task) => task,
                None => break,
            };
            self.invoke(task.step, Phase::Undo, task.action, 1, Some(self.def.steps[task.step].timeout_us));
            x.compensation.current = Some((task, Call::Awaiting { attempt: 1 }));
        }
        let c = &x.compensation;
        let status = if !self.fixed(Bug::CompensationFailureLogged) {
            Ending::Failed // Bug 5: `mark_workflow_failed`, whatever the compensations did
        } else if c.gave_up {
            Ending::NeedsIntervention
        } else if c.compensated {
            Ending::Compensated
        } else {
            Ending::Failed
        };
        self.finish(status);
        Some(Point::Returned)
    }

    fn compensation_result(
        &mut self,
        x: &mut Execution,
        s: usize,
        action: u64,
        attempt: u64,
        outcome: Outcome,
        error: Option<&str>,
    ) {
        let task = CompensationTask { step: s, action };
        if x.point != Point::Compensating || x.compensation.current != Some((task, Call::Awaiting { attempt })) {
            return; // a duplicate, or late
        }
        // The listing calls `execute_single_task` once; with bug 5 fixed, the compensation is
        // retried with the workflow's `compensation_retry` attempts before anyone gives up.
        let max_attempts = if self.fixed(Bug::CompensationFailureLogged) { self.def.compensation_attempts } else { 1 };
        let call = match outcome {
            Outcome::Ok => Call::Returned(Ok(attempt)),
            Outcome::Error => {
                let failure = Failure { attempt, indefinite: false, error: error.unwrap_or("Error").to_owned() };
                self.retry_or_return(s, Phase::Undo, action, max_attempts, failure)
            }
            Outcome::Timeout if self.fixed(Bug::CompensationWithoutDeadline) => {
                let failure = Failure { attempt, indefinite: true, error: "Timeout".into() };
                self.retry_or_return(s, Phase::Undo, action, max_attempts, failure)
            }
            // Bug 8: the compensation call has no `timeout(..)`. The world gives up on the reply at
            // the step's deadline and will never deliver one; the listing waits for it for ever.
            Outcome::Timeout => return,
        };
        x.compensation.current = Some((task, call));
    }

    fn compensation_timer(&mut self, x: &mut Execution, s: usize, action: u64, attempt: u64) {
        let task = CompensationTask { step: s, action };
        if x.point == Point::Compensating && x.compensation.current == Some((task, Call::Sleeping { attempt })) {
            self.invoke(s, Phase::Undo, action, attempt, Some(self.def.steps[s].timeout_us));
            x.compensation.current = Some((task, Call::Awaiting { attempt }));
        }
    }

    // -- commands ---------------------------------------------------------------------------------

    fn name(&self, s: usize) -> &'d str {
        &self.def.steps[s].name
    }

    fn invoke(&mut self, s: usize, phase: Phase, action: u64, attempt: u64, timeout_us: Option<u64>) {
        let step = self.name(s);
        self.out.push(Command::Invoke { instance: self.instance, step, phase, action, attempt, timeout_us });
    }

    fn step(&mut self, s: usize, status: StepStatus, attempt: Option<u64>, info: Option<Info>) {
        self.out.push(Command::Step { instance: self.instance, step: self.name(s), status, attempt, info });
    }

    fn step_failed(&mut self, s: usize, failure: &Failure) {
        let info = if failure.indefinite { Info::Indefinite } else { Info::Definite };
        self.step(s, StepStatus::Failed, Some(failure.attempt), Some(info));
    }

    fn finish(&mut self, status: Ending) {
        self.out.push(Command::Finish { instance: self.instance, status });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The seed workflow's shape: validate (3 attempts) → reserve ∥ payment (compensable) → ship → confirm
    /// (fire-and-forget); compensations get 2 attempts.
    fn engine(fixes: &str) -> Engine {
        let policy = |n: u64| {
            json!({"max_attempts": n, "backoff": "exponential", "initial_us": 1_000_000, "coefficient_milli": 2000,
                   "max_us": 100_000_000, "jitter": "none", "non_retryable": []})
        };
        let step = |name: &str, kind: &str, deps: &[&str], attempts: u64, undo: usize| {
            json!({"name": name, "type": kind, "depends_on": deps, "timeout_us": 5_000_000, "retry": policy(attempts),
                   "compensation": vec![json!({"service": "s", "topic": null, "endpoint": "/undo"}); undo]})
        };
        let workflow = json!({"steps": [
            step("validate", "sync-task", &[], 3, 0),
            step("reserve", "async-task", &["validate"], 1, 1),
            step("pay", "sync-task", &["validate"], 1, 1),
            step("ship", "async-task", &["reserve", "pay"], 1, 0),
            step("confirm", "fire-and-forget", &["ship"], 1, 0),
        ], "compensation_retry": policy(2)});
        let workflow = serde_json::from_value(workflow).expect("a valid workflow");
        Engine::new(workflow, Fixes::parse(fixes).expect("valid fixes")).expect("a valid definition")
    }

    fn start() -> Event {
        Event::Start { instance: 0 }
    }

    fn result(step: &str, phase: Phase, attempt: u64, outcome: Outcome) -> Event {
        let error = (outcome == Outcome::Error).then(|| "ServiceError".to_owned());
        Event::Result { instance: 0, step: step.into(), phase, action: 0, attempt, outcome, error }
    }

    fn ok(step: &str) -> Event {
        result(step, Phase::Do, 1, Outcome::Ok)
    }

    fn fail(step: &str, attempt: u64) -> Event {
        result(step, Phase::Do, attempt, Outcome::Error)
    }

    fn timeout(step: &str, attempt: u64) -> Event {
        result(step, Phase::Do, attempt, Outcome::Timeout)
    }

    fn undo(step: &str, attempt: u64, outcome: Outcome) -> Event {
        result(step, Phase::Undo, attempt, outcome)
    }

    fn timer(step: &str, phase: Phase, attempt: u64) -> Event {
        Event::Timer { instance: 0, step: step.into(), phase, action: 0, attempt }
    }

    /// A command, short: "invoke pay do 1", "timer validate do 2 1000000", "step failed pay 1 definite", "finish failed".
    fn short(c: &Command<'_>) -> String {
        match c {
            Command::Invoke { step, phase, attempt, .. } => format!("invoke {step} {phase} {attempt}"),
            Command::Timer { step, phase, attempt, delay_us, .. } => {
                format!("timer {step} {phase} {attempt} {delay_us}")
            }
            Command::Step { step, status, attempt, info, .. } => {
                let status = serde_json::to_value(status).expect("a status");
                let mut s = format!("step {} {step}", status.as_str().unwrap_or_default());
                if let Some(a) = attempt {
                    s += &format!(" {a}");
                }
                if let Some(i) = info {
                    s += &format!(" {}", serde_json::to_value(i).expect("info").as_str().unwrap_or_default());
                }
                s
            }
            Command::Finish { status, .. } => {
                format!("finish {}", serde_json::to_value(status).expect("a status").as_str().unwrap_or_default())
            }
        }
    }

    /// Feed each activation (one event each) and collect what each one answered.
    fn play(fixes: &str, activations: &[(Event, bool)]) -> Vec<Vec<String>> {
        let mut engine = engine(fixes);
        activations
            .iter()
            .map(|(event, replay)| {
                let out = engine.activate(std::slice::from_ref(event), *replay).expect("valid input");
                out.iter().map(short).collect()
            })
            .collect()
    }

    fn live(events: Vec<Event>) -> Vec<(Event, bool)> {
        events.into_iter().map(|e| (e, false)).collect()
    }

    /// The last activation's commands, after `events`.
    fn last(fixes: &str, events: Vec<Event>) -> Vec<String> {
        play(fixes, &live(events)).pop().unwrap_or_default()
    }

    #[test]
    fn calculate_delay_is_exponential_from_one_second_capped_at_100() {
        let s = SECOND_US;
        for (attempt, delay) in [(0, s), (1, s), (2, 2 * s), (3, 4 * s), (7, 64 * s), (8, 100 * s), (u64::MAX, 100 * s)]
        {
            assert_eq!(calculate_delay(attempt), delay, "attempt {attempt}");
        }
    }

    #[test]
    fn bug_1_the_parallel_steps_run_one_after_another() {
        let events = || vec![start(), ok("validate"), ok("reserve"), ok("pay")];
        assert_eq!(
            play("", &live(events())),
            [
                vec!["invoke validate do 1"],
                vec!["step completed validate 1", "invoke reserve do 1"],
                vec!["invoke pay do 1"], // only now, and reserve is not recorded until pay is back
                vec!["step completed reserve 1", "step completed pay 1", "invoke ship do 1"],
            ]
        );
        assert_eq!(
            play("1", &live(events())),
            [
                vec!["invoke validate do 1"],
                vec!["step completed validate 1", "invoke reserve do 1", "invoke pay do 1"],
                vec!["step completed reserve 1"],
                vec!["step completed pay 1", "invoke ship do 1"],
            ]
        );
    }

    #[test]
    fn a_run_without_faults_completes_and_confirm_is_published() {
        for fixes in ["", "1,2,3,4,5,6,7,8"] {
            let out = last(fixes, vec![start(), ok("validate"), ok("reserve"), ok("pay"), ok("ship")]);
            let want = ["step completed ship 1", "invoke confirm do 1", "step completed confirm 1 published"];
            assert_eq!(out, [&want[..], &["finish completed"]].concat(), "{fixes:?}");
        }
    }

    #[test]
    fn bugs_2_and_4_which_steps_get_compensated() {
        let events = || vec![start(), ok("validate"), ok("reserve"), fail("pay", 1)];
        let cases: &[(&str, &[&str])] = &[
            // Bug 2: the `?` returns; reserve's result is never even recorded.
            ("", &["step failed pay 1 definite", "finish failed"]),
            // Bug 4: handle_task_failure undoes the step that failed.
            ("2", &["step completed reserve 1", "step failed pay 1 definite", "invoke pay undo 1"]),
            ("1", &["step failed pay 1 definite", "invoke pay undo 1"]),
            ("2,4", &["step completed reserve 1", "step failed pay 1 definite", "invoke reserve undo 1"]),
        ];
        for (fixes, want) in cases {
            assert_eq!(last(fixes, events()), *want, "SEED_FIXES={fixes}");
        }
    }

    #[test]
    fn bug_3_a_timeout_is_not_retried_nor_indefinite() {
        assert_eq!(
            last("", vec![start(), timeout("validate", 1)]),
            ["step failed validate 1 definite", "finish failed"]
        );
        assert_eq!(last("3", vec![start(), timeout("validate", 1)]), ["timer validate do 2 1000000"]);
        assert_eq!(
            last("3", vec![start(), timeout("validate", 1), timer("validate", Phase::Do, 2), fail("validate", 2)]),
            ["timer validate do 3 2000000"]
        );
        // Out of attempts, a step that timed out is owed a compensation with 3 and 4 fixed.
        let events = || vec![start(), ok("validate"), ok("reserve"), timeout("pay", 1)];
        assert_eq!(last("1,2,4", events()), ["step failed pay 1 definite", "invoke reserve undo 1"]);
        assert_eq!(last("1,2,3,4", events()), ["step failed pay 1 indefinite", "invoke pay undo 1"]);
    }

    #[test]
    fn bug_5_a_failed_compensation_is_only_logged() {
        let events =
            || vec![start(), ok("validate"), ok("reserve"), ok("pay"), fail("ship", 1), undo("pay", 1, Outcome::Error)];
        assert_eq!(last("1,2,4", events()), ["invoke reserve undo 1"]);
        let mut more = events();
        more.push(undo("reserve", 1, Outcome::Ok));
        assert_eq!(last("1,2,4", more), ["step compensated reserve", "finish failed"]);
        // Fixed: retried (compensation_retry: 2 attempts), then given up on, and a human is asked for.
        assert_eq!(last("1,2,4,5", events()), ["timer pay undo 2 1000000"]);
        let mut more = events();
        more.extend([timer("pay", Phase::Undo, 2), undo("pay", 2, Outcome::Error), undo("reserve", 1, Outcome::Ok)]);
        assert_eq!(
            play("1,2,4,5", &live(more)).split_off(6),
            [
                vec!["invoke pay undo 2"],
                vec!["step exhausted pay 2 ServiceError", "invoke reserve undo 1"],
                vec!["step compensated reserve", "finish needs_intervention"],
            ]
        );
    }

    #[test]
    fn bug_6_what_a_restarted_process_learns_from_a_replay_is_lost() {
        let activations = [(start(), true), (ok("validate"), true), (ok("reserve"), false)];
        assert_eq!(play("", &activations)[2], Vec::<String>::new());
        assert_eq!(play("6", &activations)[2], ["invoke pay do 1"]);
        // An instance started after the restart is driven as usual.
        assert_eq!(
            play("", &[(start(), false), (ok("validate"), false)])[1],
            ["step completed validate 1", "invoke reserve do 1"]
        );
    }

    #[test]
    fn bug_7_a_failure_abandons_the_tasks_in_flight() {
        let events = || vec![start(), ok("validate"), fail("reserve", 1), ok("pay")];
        assert_eq!(
            play("1,2,4", &live(events())).split_off(2),
            [vec!["step failed reserve 1 definite", "finish failed"], vec![]]
        );
        assert_eq!(
            play("1,2,4,7", &live(events())).split_off(2),
            [vec!["step failed reserve 1 definite"], vec!["step completed pay 1", "invoke pay undo 1"]]
        );
    }

    #[test]
    fn bug_8_a_compensation_that_times_out_is_awaited_for_ever() {
        // ship fails; pay's refund (undone first: it completed last) times out.
        let events = || {
            vec![start(), ok("validate"), ok("reserve"), ok("pay"), fail("ship", 1), undo("pay", 1, Outcome::Timeout)]
        };
        assert_eq!(last("1,2,4", events()), Vec::<String>::new());
        assert_eq!(last("1,2,4,8", events()), ["invoke reserve undo 1"]);
    }

    #[test]
    fn duplicates_and_late_results_change_nothing() {
        assert_eq!(last("1", vec![start(), ok("validate"), ok("validate")]), Vec::<String>::new());
        assert_eq!(
            last("1", vec![start(), ok("validate"), ok("pay"), result("pay", Phase::Do, 1, Outcome::Error)]),
            Vec::<String>::new()
        );
        assert_eq!(last("3", vec![start(), timeout("validate", 1), ok("validate")]), Vec::<String>::new());
        assert_eq!(last("", vec![start(), timer("validate", Phase::Do, 2)]), Vec::<String>::new());
    }

    #[test]
    fn refuses_bad_input() {
        let mut engine = engine("");
        assert_eq!(engine.activate(&[ok("validate")], false), Err(Error::UnknownInstance(0)));
        engine.activate(&[start()], false).expect("a start");
        assert_eq!(engine.activate(&[start()], false), Err(Error::StartedTwice(0)));
        assert_eq!(engine.activate(&[ok("nope")], false), Err(Error::UnknownStep("nope".into())));
    }
}
