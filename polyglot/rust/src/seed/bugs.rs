//! The listing's bugs, numbered as in `polyglot/LISTINGS.md` (Rust section), and which ones
//! `$SEED_FIXES` asks the port to fix ("1,3" fixes bugs 1 and 3; nothing set fixes nothing).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// 1. `self.execute_task_with_retry(task).await?` in the ready-task loop runs each task to its end
    ///    before starting the next: the "parallel" steps run one after another.
    Sequential = 1,
    /// 2. The `?` on that line returns from `execute_workflow` on an exhausted retry: nothing that
    ///    completed is compensated.
    EarlyReturn = 2,
    /// 3. `Err(_timeout) => return Err(..)`: a timeout is neither retried nor treated as indefinite.
    TimeoutNotRetried = 3,
    /// 4. `get_compensation_tasks_for(error.task_id)`: the failed step's compensations, not the completed ones'.
    CompensatesFailedStep = 4,
    /// 5. A failed compensation is only logged; the workflow is then marked failed.
    CompensationFailureLogged = 5,
    /// 6. The `event_store` is never written or read: the state lives in memory, a crash loses it.
    StateInMemory = 6,
    /// 7. On a failure the loop ends and `pending_tasks` is dropped: tasks still in flight are abandoned,
    ///    and compensation starts without waiting for them.
    SiblingsAbandoned = 7,
    /// 8. The compensation call (`execute_single_task`) has no `timeout(..)`: a reply that never comes
    ///    blocks `handle_task_failure` forever.
    CompensationWithoutDeadline = 8,
}

impl Bug {
    pub const ALL: [Bug; 8] = [
        Bug::Sequential,
        Bug::EarlyReturn,
        Bug::TimeoutNotRetried,
        Bug::CompensatesFailedStep,
        Bug::CompensationFailureLogged,
        Bug::StateInMemory,
        Bug::SiblingsAbandoned,
        Bug::CompensationWithoutDeadline,
    ];

    pub fn number(self) -> u8 {
        self as u8
    }

    fn from_number(n: u8) -> Option<Bug> {
        Bug::ALL.iter().copied().find(|b| b.number() == n)
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bug {}", self.number())
    }
}

/// The set of bugs fixed in this run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fixes(u16);

impl Fixes {
    /// Every bug fixed.
    #[cfg(test)]
    pub fn all() -> Fixes {
        Bug::ALL.iter().fold(Fixes::default(), |f, &b| f.with(b))
    }

    pub fn with(self, bug: Bug) -> Fixes {
        Fixes(self.0 | 1 << bug.number())
    }

    pub fn fixed(self, bug: Bug) -> bool {
        self.0 & 1 << bug.number() != 0
    }

    /// `$SEED_FIXES`: bug numbers separated by commas ("1,3"); blanks around them and empty items are allowed.
    pub fn parse(spec: &str) -> Result<Fixes, String> {
        spec.split(',').map(str::trim).filter(|item| !item.is_empty()).try_fold(Fixes::default(), |fixes, item| {
            item.parse::<u8>().ok().and_then(Bug::from_number).map(|bug| fixes.with(bug)).ok_or_else(|| {
                format!("SEED_FIXES: {item:?} is not a bug of the Rust listing (1 to {})", Bug::ALL.len())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_fix_list() {
        let cases: &[(&str, &[Bug])] = &[
            ("", &[]),
            ("1", &[Bug::Sequential]),
            ("1,3", &[Bug::Sequential, Bug::TimeoutNotRetried]),
            (" 8 , 2,,", &[Bug::EarlyReturn, Bug::CompensationWithoutDeadline]),
        ];
        for (spec, bugs) in cases {
            let fixes = Fixes::parse(spec).expect("a valid list");
            for bug in Bug::ALL {
                assert_eq!(fixes.fixed(bug), bugs.contains(&bug), "{spec:?} {bug}");
            }
        }
        assert!(Bug::ALL.iter().all(|&b| Fixes::all().fixed(b)));
    }

    #[test]
    fn refuses_what_is_not_a_bug() {
        for spec in ["0", "9", "x", "1;2", "-1", "300"] {
            let error = Fixes::parse(spec).expect_err(spec);
            assert!(error.starts_with("SEED_FIXES:"), "{error}");
        }
    }
}
