"""Checkpoint exercises that check themselves by running the learner's answer.

    from engine.checkpoint import check, progress, scenario
    check("1.3", my_policy)     # ✅, or what is wrong and a hint
    progress()                   # every checkpoint: passed, tried, or not yet

An answer is always a function, so an unfinished one (``raise
NotImplementedError``) is reported as "not done yet", never as a traceback.
The checks run the answer against the engine on cases the learner does not
see (other seeds, other faults), so an answer must compute, not guess. On a
wrong answer the learner gets a hint; on the next wrong answer, a more
specific one; never the solution.

Progress is kept in a small JSON file: ``$SDE_PROGRESS`` if set, else
``~/.system-design-expert/progress.json``.
"""

from __future__ import annotations

from .registry import EXERCISES, CheckResult, Progress, check, progress, scenario

__all__ = ["check", "progress", "scenario", "CheckResult", "Progress", "EXERCISES"]
