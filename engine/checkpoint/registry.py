"""Running a check: calling the learner's function safely, keeping hints and progress."""

from __future__ import annotations

import json
import os
import pathlib
from dataclasses import dataclass
from typing import Callable

__all__ = ["Exercise", "CheckResult", "Progress", "Wrong", "NotDone", "call", "check", "progress", "scenario",
           "EXERCISES", "register"]


class NotDone(Exception):
    """The answer still raises NotImplementedError."""


class Wrong(Exception):
    """The answer ran, and a hidden case shows it is wrong; the message says how, not what is right."""


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    run: Callable  # run(answer) -> a sentence saying what was verified; raises Wrong or NotDone
    hints: tuple[str, str]  # the first after one wrong answer, the second (more specific) after more
    scenario: Callable | None = None  # what the learner needs to compute the answer


EXERCISES: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    EXERCISES[exercise.id] = exercise
    return exercise


def call(answer, *args):
    """Call the learner's function; turn anything it raises into NotDone or Wrong, never a traceback."""
    try:
        return answer(*args)
    except NotImplementedError:
        raise NotDone() from None
    except (Wrong, NotDone):
        raise
    except Exception as exc:  # noqa: BLE001 - a learner's bug becomes a message, not a traceback
        text = str(exc).strip().splitlines()
        first = text[0] if text else ""
        more = f" (and {len(text) - 1} more line(s))" if len(text) > 1 else ""
        raise Wrong(f"your function raised {type(exc).__name__}: {first}{more}") from None


@dataclass
class CheckResult:
    id: str
    ok: bool
    message: str
    hint: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            return f"✅ {self.id} passed — {self.message}"
        text = f"❌ {self.id}: {self.message}"
        return f"{text}\n   hint: {self.hint}" if self.hint else text

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


def _store_path() -> pathlib.Path:
    return pathlib.Path(os.environ.get("SDE_PROGRESS") or pathlib.Path.home() / ".system-design-expert" /
                        "progress.json")


def _load() -> dict:
    try:
        return json.loads(_store_path().read_text())
    except (OSError, ValueError):
        return {}


def _save(data: dict) -> None:
    path = _store_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1, sort_keys=True))
    except OSError:
        pass  # progress is a convenience: a read-only home must not break a check


def _register_all() -> None:
    from . import phase1, phase2, phase3  # noqa: F401 - importing a phase registers its exercises


def _choices() -> str:
    return ", ".join(sorted(EXERCISES))


def check(exercise_id: str, answer) -> CheckResult:
    """Run `answer` (a function) against checkpoint `exercise_id`'s hidden cases."""
    _register_all()

    exercise = EXERCISES.get(str(exercise_id))
    if exercise is None:
        return CheckResult(str(exercise_id), False, f"there is no checkpoint {exercise_id!r}; they are {_choices()}")
    if not callable(answer):
        return CheckResult(exercise.id, False, "pass your function itself, without calling it — "
                           f"e.g. check({exercise.id!r}, my_answer), not check({exercise.id!r}, my_answer())")
    data = _load()
    record = data.setdefault(exercise.id, {"passed": False, "tries": 0})
    try:
        verified = exercise.run(answer)
    except NotDone:
        return CheckResult(exercise.id, False, "not done yet — replace `raise NotImplementedError` with your "
                           "answer, then run this cell again")
    except Wrong as wrong:
        record["tries"] += 1
        _save(data)
        hint = exercise.hints[0] if record["tries"] == 1 else exercise.hints[1]
        return CheckResult(exercise.id, False, str(wrong), hint)
    record["tries"] += 1
    record["passed"] = True
    _save(data)
    return CheckResult(exercise.id, True, verified)


def scenario(exercise_id: str):
    """What exercise `exercise_id` asks you to simulate (settings, workflows)."""
    _register_all()

    exercise = EXERCISES.get(str(exercise_id))
    if exercise is None or exercise.scenario is None:
        raise ValueError(f"checkpoint {exercise_id!r} has no scenario; checkpoints with one: "
                         f"{', '.join(k for k, e in sorted(EXERCISES.items()) if e.scenario)}")
    return exercise.scenario()


@dataclass
class Progress:
    rows: list[tuple[str, str, str]]

    def __str__(self) -> str:
        width = max(len(title) for _, title, _ in self.rows)
        lines = [f"{'':2}{'checkpoint':<11}{'':<{width}}  status"]
        for ex_id, title, status in self.rows:
            mark = "✅" if status == "passed" else "·" if status == "not tried" else "❌"
            lines.append(f"{mark} {ex_id:<10} {title:<{width}}  {status}")
        done = sum(status == "passed" for *_, status in self.rows)
        lines.append(f"{done} of {len(self.rows)} passed")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


def progress() -> Progress:
    """Every checkpoint and where you stand: passed, tried (how often), or not tried."""
    _register_all()

    data = _load()
    rows = []
    for ex_id in sorted(EXERCISES):
        record = data.get(ex_id)
        if record is None or not record.get("tries"):
            status = "not tried"
        elif record.get("passed"):
            status = "passed"
        else:
            status = f"tried {record['tries']} time(s), not passed yet"
        rows.append((ex_id, EXERCISES[ex_id].title, status))
    return Progress(rows)
