"""Monte Carlo sweeps: seeds × parameter grid, on any `concurrent.futures.Executor`.

    rows = engine.sweep(wf, seeds=range(20), orders=200, arrival_rate=20,
                        grid={"services.payment-service.failure_rate": [0.0, 0.1, 0.2],
                              "mode": ["orchestration", "choreography"]})

Each row is a plain dict: the seed, the grid values, the run's summary
(status counts, latency percentiles, attempts, messages…) and the invariant
verdict. Rows come back in grid order whatever order they finish in.

By default the runs go to local processes. Any executor works: a
`ThreadPoolExecutor`, `"serial"` to run inline, or a Dask cluster's
``client.get_executor()`` when one machine is not enough.
"""

from __future__ import annotations

import copy
import itertools
import os
from concurrent.futures import Executor, ProcessPoolExecutor

__all__ = ["sweep", "expand_grid"]


def expand_grid(grid: dict | None) -> list[dict]:
    """Every combination of the grid's values, in a stable order."""
    if not grid:
        return [{}]
    keys = list(grid)
    for k in keys:
        if isinstance(grid[k], (str, bytes)) or not hasattr(grid[k], "__iter__"):
            raise ValueError(f"grid[{k!r}] must be a list of values to try, got {grid[k]!r}")
    return [dict(zip(keys, combo)) for combo in itertools.product(*(list(grid[k]) for k in keys))]


def _set(kwargs: dict, key: str, value) -> None:
    """Set a simulate() argument; dotted keys reach into mappings: services.payment-service.failure_rate."""
    head, _, rest = key.partition(".")
    if not rest:
        kwargs[head] = value
        return
    target = kwargs.setdefault(head, {})
    if target is None:
        target = kwargs[head] = {}
    parts = rest.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _one(task) -> dict:
    from .simulate import simulate

    wf, seed, point, fixed, measure = task
    kwargs = copy.deepcopy(fixed)
    for key, value in point.items():
        _set(kwargs, key, value)
    run = simulate(wf, seed=seed, **kwargs)
    summary = run.summary()
    report = run.check()
    row = {"seed": seed, **point}
    row.update({f"status.{k}": v for k, v in summary.statuses.items()})
    row.update({f"latency.{k}": v for k, v in summary.latency.items()})
    for name in ("attempts", "retries", "timeouts", "messages", "dead_letters", "effects",
                 "duplicate_effects", "compensations"):
        row[name] = getattr(summary, name)
    row["dropped"] = sum(summary.dropped.values())
    row["ok"] = report.ok
    row["violations"] = len(report.violations)
    if measure is not None:
        row.update(measure(run))
    return row


class _Serial(Executor):
    """Runs each task inline: for tiny sweeps, debugging, and where processes are unwelcome."""

    def submit(self, fn, *args, **kwargs):
        from concurrent.futures import Future

        future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def sweep(workflow, *, seeds=range(10), grid: dict | None = None, executor: Executor | str | None = None,
          workers: int | None = None, progress: bool = True, measure=None, **fixed) -> list[dict]:
    """Simulate every seed × grid point; return one plain dict per run.

    `fixed` are further `simulate` arguments shared by every run. `measure`,
    if given, is a function of the `Run` returning a dict of extra columns; it
    must be importable (defined in a module) to travel to worker processes.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("sweep needs at least one seed")
    for key in fixed:
        if key in ("seed", "wf"):
            raise ValueError(f"{key} is set by sweep itself; use seeds= for seeds")
    points = expand_grid(grid)
    tasks = [(workflow, seed, point, fixed, measure) for point in points for seed in seeds]
    own = executor is None
    if own:
        executor = ProcessPoolExecutor(max_workers=workers or min(len(tasks), os.cpu_count() or 1))
    elif executor == "serial":
        executor = _Serial()
    rows: list[dict | None] = [None] * len(tasks)
    bar = _bar(len(tasks)) if progress else None
    try:
        futures = {executor.submit(_one, task): n for n, task in enumerate(tasks)}
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            rows[futures[future]] = future.result()
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if own:
            executor.shutdown(cancel_futures=True)
    return rows  # type: ignore[return-value]


def _bar(total: int):
    from tqdm.auto import tqdm  # deferred: a notebook gets a widget, a terminal a text bar

    return tqdm(total=total, desc="simulating", unit="run")
