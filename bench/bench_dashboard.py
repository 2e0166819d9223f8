"""How long does a dashboard update take? Simulate + check + draw, at two sizes.

A learner moves a slider; the dashboard re-runs the scenario, checks the
invariants and redraws the timeline. The target: a default-size update well
under 0.15 s. Printed as medians of interleaved repetitions, with the share
of each part, so a regression shows where it came from.

Run: ``make bench`` (or ``python bench/bench_dashboard.py``).
"""

from __future__ import annotations

import pathlib
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from engine.views import cap_playground, failure_dashboard, storm_control  # noqa: E402


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(repeats: int = 9) -> None:
    wf = engine.load_workflow(ROOT / "notebooks" / "workflows" / "order-fulfillment.yaml")
    print("failure dashboard update (payment failures 30%, orchestrator crash), median of", repeats)
    print(f"  {'orders':>6} {'update':>9} {'simulate':>9} {'check':>7} {'draw':>7}")
    for orders, rate in ((200, 20.0), (500, 50.0)):
        dash = failure_dashboard(wf, orders=orders, arrival_rate=rate)
        dash.services["payment-service"]["failure_rate"].value = 0.3
        dash.crash["on"].value = True
        scenario = dash.scenario()
        parts: dict[str, list[float]] = {"update": [], "simulate": [], "check": [], "draw": []}
        for _ in range(repeats):
            parts["update"].append(timed(dash.update))
            parts["simulate"].append(timed(lambda: scenario.run(wf)))
            run = scenario.run(wf)
            parts["check"].append(timed(lambda: (run.summary(), run.check())))
            parts["draw"].append(timed(dash._redraw))
        med = {k: statistics.median(v) * 1000 for k, v in parts.items()}
        print(f"  {orders:>6} {med['update']:>7.1f}ms {med['simulate']:>7.1f}ms {med['check']:>5.1f}ms "
              f"{med['draw']:>5.1f}ms")
    cap, storm = cap_playground(), storm_control()
    cap.consistency.value = "ap"
    print("other widgets, one update (simulate + check + draw), median of", repeats)
    for name, widget in (("CAP playground (AP, split)", cap), ("retry-storm control (3 attempts)", storm)):
        print(f"  {name:<34}{statistics.median(timed(widget.update) for _ in range(repeats)) * 1000:>7.1f} ms")


if __name__ == "__main__":
    main()
