from concurrent.futures import ThreadPoolExecutor

import pytest

from engine import sweep
from engine.sweep import expand_grid


def extra(run):
    return {"instances": len(run.instances)}


def test_grid_expansion_is_ordered():
    assert expand_grid({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    with pytest.raises(ValueError, match="list of values"):
        expand_grid({"a": 3})


def test_sweep_rows_in_grid_order_with_processes(wf):
    rows = sweep(wf, seeds=range(3), orders=40, arrival_rate=20, progress=False, measure=extra,
                 grid={"services.payment-service.failure_rate": [0.0, 0.5], "mode": ["orchestration", "choreography"]})
    assert len(rows) == 12
    assert [r["seed"] for r in rows[:3]] == [0, 1, 2]
    assert all(r["ok"] and r["instances"] == 40 for r in rows)
    clean = [r for r in rows if r["services.payment-service.failure_rate"] == 0.0]
    faulty = [r for r in rows if r["services.payment-service.failure_rate"] == 0.5]
    assert all(r["status.completed"] == 40 for r in clean)
    assert sum(r["status.compensated"] for r in faulty) > 20


def test_sweep_is_deterministic_across_executors(wf):
    kw = dict(seeds=range(2), orders=20, progress=False, grid={"arrival_rate": [5, 10]})
    serial = sweep(wf, executor="serial", **kw)
    assert serial == sweep(wf, executor=ThreadPoolExecutor(2), **kw) == sweep(wf, **kw)


def test_sweep_progress_bar_runs(wf, capsys):
    sweep(wf, seeds=range(2), orders=5, executor="serial", progress=True)
    assert "simulating" in capsys.readouterr().err


def test_sweep_rejects_seed_as_a_fixed_argument(wf):
    with pytest.raises(ValueError, match="seeds="):
        sweep(wf, seed=3)
