"""Checkpoints: right answers pass, plausible wrong ones are caught, nothing ever raises at the learner."""

import json
import sys

import pytest

from engine.checkpoint import check, progress
from engine.checkpoint.generate import exercise_from_solution

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import checkpoint_answers as answers  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("SDE_PROGRESS", str(tmp_path / "progress.json"))


@pytest.mark.parametrize("exercise", sorted(answers.RIGHT))
def test_right_answers_pass(exercise):
    result = check(exercise, answers.RIGHT[exercise])
    assert result.ok, result


WRONG = [(ex, fn) for ex, fns in sorted(answers.WRONG.items()) for fn in fns]


@pytest.mark.parametrize("exercise,answer", WRONG, ids=[f"{e}-{f.__name__}" for e, f in WRONG])
def test_plausible_wrong_answers_are_caught_with_a_hint(exercise, answer):
    first = check(exercise, answer)
    assert not first.ok and first.hint and "✅" not in str(first)
    second = check(exercise, answer)
    assert second.hint != first.hint  # the second wrong answer gets the more specific hint


def test_specific_messages_for_common_mistakes():
    assert "seconds instead of milliseconds" in check("1.1", answers.measure_in_seconds).message
    assert "same for every seed" in check("1.1", answers.measure_hard_coded).message
    assert "a fraction where a percentage is expected" in check("1.4", answers.outage_fraction).message
    assert "keep the outline's steps" in check("1.2", answers.safe_by_deleting_payment).message
    assert "still charged 1×" in check("1.2", answers.safe_without_refund).message


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("answer,fragment", [
    (stub, "not done yet"),
    (lambda *a: 1 / 0, "your function raised ZeroDivisionError: division by zero"),
    (lambda *a: None, "must return"),
    (42, "pass your function itself"),
])
def test_unfinished_or_broken_answers_get_messages_not_tracebacks(answer, fragment):
    for exercise in ("1.1", "1.2", "1.3", "1.4"):
        result = check(exercise, answer)
        assert not result.ok
        assert fragment in str(result) or (fragment == "must return" and result.message)


@pytest.mark.parametrize("answer,fragment", [
    (stub, "not done yet"),
    (lambda *a: {}, "no prediction for"),
    (lambda *a: {("data-race", "go"): "runtime"}, "no answer for"),
    (lambda *a: {"orchestrator": {"language": "cobol"}}, "no choice for"),
])
def test_phase2_checks_answer_bad_shapes_with_messages(answer, fragment):
    results = [check(ex, answer) for ex in ("2.1", "2.2", "2.3")]
    assert not any(r.ok for r in results)
    assert any(fragment in str(r) for r in results), [str(r) for r in results]


def test_phase2_messages_name_the_mechanism_not_the_number():
    wrong = str(check("2.1", answers.predict_nothing_blocks))
    assert "one thread" in wrong and "too low" in wrong
    assert "no compiler" not in str(check("2.2", answers.classify_right))
    misquote = str(check("2.3", answers.choose_misquoting))
    assert "the recorded run does not say that" in misquote
    bad_cite = dict(answers.choose_right(), orchestrator={"language": "go", "why": "w " * 20,
                                                          "cites": [("go/goroutines", "speed", 1.0)]})
    assert "'speed' is not a recorded metric" in str(check("2.3", lambda: bad_cite))


def test_phase3_messages_explain_the_gap_and_never_give_the_answer():
    flat = str(check("3.1", answers.debt_twenty_percent))
    assert "kept paying down debt in the last" in flat and "the best policy" in flat
    assert "paid too little early" in str(check("3.1", answers.debt_never))
    assert "must return the fraction" in str(check("3.1", lambda s: 2))
    assert "an oversell" in str(check("3.2", answers.consistency_all_ap))
    assert "its replica was cut off" in str(check("3.2", answers.consistency_all_cp))
    assert "'consistency': 'cp' or 'ap'" in str(check("3.2", lambda: {k: "strong" for k in
                                                                      ("stock-level", "user-profile", "like-count")}))
    missing = str(check("3.3", answers.adr_without_evidence))
    assert "no ```evidence block" in missing and "Model answer" not in missing
    assert "BROKEN: duplicate_effects == 0 (measured" in str(check("3.3", answers.adr_broken_claim))
    assert "returns the ADR's Markdown" in str(check("3.3", lambda: None))


def test_the_debt_model_rewards_paying_early_and_stopping_late():
    from engine.debt import DebtModel, best_debt_policy, simulate_debt

    model = DebtModel()
    best = simulate_debt(best_debt_policy(model), model)
    assert best.features > simulate_debt(lambda s: 0.2, model).features > simulate_debt(lambda s: 0, model).features
    assert best.history[0]["fraction"] > 0.3 and all(q["fraction"] == 0 for q in best.history[-3:])
    assert simulate_debt(answers.debt_marginal, model).features / best.features > 0.98
    with pytest.raises(ValueError, match="quarters is a whole number"):
        DebtModel(quarters=0)


def test_unknown_checkpoint():
    assert "there is no checkpoint '7.7'" in check("7.7", stub).message


def test_progress_counts_tries_and_passes():
    check("1.3", answers.policy_too_few)
    check("1.3", answers.policy_right)
    check("1.5", answers.choose_sync)
    text = str(progress())
    assert "1.3" in text and "passed" in text and "tried 1 time(s), not passed yet" in text
    assert text.endswith("1 of 11 passed")


def test_exercises_are_generated_from_solutions_and_up_to_date():
    for solution in sorted((ROOT / "solutions").glob("*.ipynb")):
        exercise = ROOT / "exercises" / solution.name
        assert exercise.exists(), f"run `make exercises`: {exercise.name} is missing"
        want = exercise_from_solution(json.loads(solution.read_text()))
        have = json.loads(exercise.read_text())
        src = lambda nb: [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]  # noqa: E731
        assert src(have) == src(want), f"{exercise.name} is out of date: run `make exercises`"
        text = exercise.read_text()
        assert "BEGIN SOLUTION" not in text and "Model answer" not in text and "instructor" not in text


def test_committed_notebooks_show_not_done_in_exercises_and_passes_in_solutions():
    for folder, expected in (("exercises", "not done yet"), ("solutions", "✅")):
        for path in (ROOT / folder).glob("*.ipynb"):
            for cell in json.loads(path.read_text())["cells"]:
                source = "".join(cell["source"])
                if cell["cell_type"] == "code" and source.strip().splitlines()[-1].startswith("check("):
                    out = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in cell["outputs"])
                    assert expected in out, (path.name, source, out)
