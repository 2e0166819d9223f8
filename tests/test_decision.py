"""engine.decision: scenarios judged on runs, a decision matrix, the weights that flip it, stale reads by age."""

import random

import pytest

import engine
from engine import decision

OPTIONS = ["queue", "log", "eventstore"]


def matrix(weights=None, scores=None):
    return decision.DecisionMatrix(
        OPTIONS, ["audit", "cost", "latency"], weights or {"audit": 2, "cost": 1, "latency": 1},
        scores or {"queue": {"audit": 0, "cost": 1, "latency": 1}, "log": {"audit": 1, "cost": 0.5, "latency": 0.6},
                   "eventstore": {"audit": 1, "cost": 0.4, "latency": 0.8}})


def brute_winner(m, criterion, t):
    return m.reweighted(criterion, t).winner


# -- the matrix -------------------------------------------------------------------------------------------

def test_all_names_exist():
    assert all(hasattr(decision, name) for name in decision.__all__)
    assert len(set(decision.__all__)) == len(decision.__all__)


def test_weights_are_normalised_and_totals_are_weighted_sums():
    m = matrix()
    assert m.weights == {"audit": 0.5, "cost": 0.25, "latency": 0.25}
    assert m.totals() == pytest.approx({"queue": 0.5, "log": 0.775, "eventstore": 0.8})
    assert m.ranking()[0] == ("eventstore", pytest.approx(0.8))
    assert m.winner == "eventstore"


def test_lists_in_criteria_order_are_the_same_as_dicts():
    a = matrix()
    b = decision.DecisionMatrix(OPTIONS, ["audit", "cost", "latency"], [2, 1, 1],
                                {"queue": [0, 1, 1], "log": [1, 0.5, 0.6], "eventstore": [1, 0.4, 0.8]})
    assert a.totals() == b.totals() and a.sensitivity() == b.sensitivity()


def test_a_flip_is_found_exactly():
    # queue: 1 - t, log: 1/2 + t/2 as audit's weight t moves: they cross at exactly 1/3
    m = decision.DecisionMatrix(["log", "queue"], ["audit", "cost"], {"audit": 2, "cost": 1},
                                {"queue": {"audit": 0, "cost": 1}, "log": {"audit": 1, "cost": 0.5}})
    s = m.sensitivity()["audit"]
    assert s.winner == "log" and s.weight == 2 / 3
    assert s.lower == decision.Flip(at=1 / 3, winner="queue", change=1 / 3 - 2 / 3)
    assert s.higher is None
    assert s.nearest is s.lower
    assert brute_winner(m, "audit", 1 / 3 + 1e-9) == "log"
    assert brute_winner(m, "audit", 1 / 3 - 1e-9) == "queue"
    assert m.lines("audit") == {"log": (0.5, 0.5), "queue": (1.0, -1.0)}


def test_the_new_winner_is_the_first_line_to_cross_the_winners():
    s = matrix().sensitivity()
    # cost's weight rising from 1/4: log crosses eventstore at 0.4, before queue crosses either (0.47, 0.52)
    assert s["cost"].lower is None
    assert s["cost"].higher.winner == "log" and s["cost"].higher.at == pytest.approx(0.4)
    assert brute_winner(matrix(), "cost", 0.5) == "log" and brute_winner(matrix(), "cost", 0.52) == "queue"
    # latency's weight falling from 1/4: log overtakes eventstore at 1/7
    assert s["latency"].lower.winner == "log" and s["latency"].lower.at == pytest.approx(1 / 7)
    assert s["latency"].higher.winner == "queue"


def strictly_ahead(m, criterion, t):
    """Options whose total is strictly above the current winner's at weight t (floats, a little slack)."""
    totals = m.reweighted(criterion, t).totals()
    return [o for o in m.options if totals[o] > totals[m.winner] + 1e-9]


def test_flips_agree_with_a_brute_force_scan_on_random_matrices():
    rng = random.Random(7)
    for _ in range(60):
        crit = ["a", "b", "c", "d"][: rng.randint(2, 4)]
        opts = ["p", "q", "r"][: rng.randint(2, 3)]
        m = decision.DecisionMatrix(opts, crit, [rng.randint(0, 5) or 1 for _ in crit],
                                    {o: [rng.randint(0, 10) / 10 for _ in crit] for o in opts})
        for c, s in m.sensitivity().items():
            assert s.winner == m.winner
            grid = [k / 400 for k in range(401)]
            lost = [t for t in grid if strictly_ahead(m, c, t)]
            below, above = [t for t in lost if t < s.weight], [t for t in lost if t > s.weight]
            if s.lower is None:
                assert not below
            else:
                assert max(below, default=0) <= s.lower.at
                assert s.lower.winner in strictly_ahead(m, c, s.lower.at - 1e-6)
            if s.higher is None:
                assert not above
            else:
                assert min(above, default=1) >= s.higher.at
                assert s.higher.winner in strictly_ahead(m, c, s.higher.at + 1e-6)


def test_a_tie_reached_only_at_the_end_of_the_range_is_no_flip():
    # b ties a only when all the weight is on x (both score 1 there): a keeps winning everywhere else
    m = decision.DecisionMatrix(["a", "b"], ["x", "y"], [1, 1], {"a": [1, 1], "b": [1, 0]})
    s = m.sensitivity()
    assert s["x"].higher is None and s["y"].lower is None


def test_a_tie_at_the_current_weight_flips_at_once_even_at_zero():
    m = decision.DecisionMatrix(["a", "b"], ["x", "y"], [0, 1], {"a": [0, 1], "b": [1, 1]})
    assert m.winner == "a"
    assert m.sensitivity()["x"].higher == decision.Flip(0.0, "b", 0.0)


def test_a_dominant_option_never_flips():
    m = decision.DecisionMatrix(["a", "b"], ["x", "y"], [1, 1], {"a": [1, 1], "b": [0.5, 0.9]})
    assert all(s.lower is None and s.higher is None and s.nearest is None for s in m.sensitivity().values())
    assert "a wins at every weight" in str(m.sensitivity()["x"])


def test_ties_keep_the_order_of_options_and_flip_at_zero_change():
    m = decision.DecisionMatrix(["a", "b"], ["x", "y"], [1, 1], {"a": [1, 0], "b": [0, 1]})
    assert m.winner == "a"
    s = m.sensitivity()
    assert s["x"].lower == decision.Flip(0.5, "b", 0.0) and s["x"].higher is None
    assert s["y"].higher == decision.Flip(0.5, "b", 0.0)


def test_a_criterion_holding_all_the_weight_spreads_the_rest_equally():
    m = decision.DecisionMatrix(["a", "b"], ["x", "y", "z"], [1, 0, 0], {"a": [1, 0, 0], "b": [0, 1, 1]})
    assert m.lines("x") == {"a": (0.0, 1.0), "b": (1.0, -1.0)}
    assert m.sensitivity()["x"].lower == decision.Flip(0.5, "b", -0.5)


def test_reweighted_keeps_the_others_in_proportion():
    m = matrix().reweighted("audit", 0.2)
    assert m.weights == pytest.approx({"audit": 0.2, "cost": 0.4, "latency": 0.4})


def test_table_prints_weights_scores_and_totals():
    text = matrix().table()
    assert text.splitlines()[0].split() == ["criterion", "weight", "queue", "log", "eventstore"]
    assert "weighted total" in text and "0.800" in text


def test_the_same_input_gives_the_same_answer():
    a, b = matrix(), matrix()
    assert a.sensitivity() == b.sensitivity() and a.ranking() == b.ranking() and str(a) == str(b)
    shuffled = {"eventstore": {"latency": 0.8, "cost": 0.4, "audit": 1},
                "log": {"cost": 0.5, "audit": 1, "latency": 0.6}, "queue": {"latency": 1, "audit": 0, "cost": 1}}
    assert matrix(scores=shuffled).sensitivity() == a.sensitivity()


@pytest.mark.parametrize("args, message", [
    ((["a"], ["x"], [1], {"a": [1]}), "at least 2"),
    ((["a", "a"], ["x"], [1], {"a": [1]}), "appears twice"),
    (("ab", ["x"], [1], {}), "list of names"),
    ((["a", "b"], ["x", "y"], [1, -1], {"a": [1, 1], "b": [1, 1]}), "weight is a number >= 0"),
    ((["a", "b"], ["x", "y"], [0, 0], {"a": [1, 1], "b": [1, 1]}), "every weight is 0"),
    ((["a", "b"], ["x", "y"], [1], {"a": [1, 1], "b": [1, 1]}), "1 value(s) for 2 criteria"),
    ((["a", "b"], ["x", "y"], {"x": 1, "yy": 1}, {"a": [1, 1], "b": [1, 1]}), "did you mean 'y'"),
    ((["a", "b"], ["x", "y"], [1, 1], {"a": [1, 1]}), "no value for option 'b'"),
    ((["a", "b"], ["x", "y"], [1, 1], {"a": [1, float("nan")], "b": [1, 1]}), "finite number"),
    ((["a", "b"], ["x", "y"], [1, 1], {"a": [True, 1], "b": [1, 1]}), "finite number"),
    ((["a", "b"], ["x", "y"], [1, 1], [[1, 1], [1, 1]]), "maps each option"),
])
def test_bad_input_is_refused_with_a_clear_message(args, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decision.DecisionMatrix(*args)


def test_bad_criterion_or_weight_in_queries():
    m = matrix()
    with pytest.raises(ValueError, match="did you mean 'audit'"):
        m.lines("audti")
    with pytest.raises(ValueError, match="between 0 and 1"):
        m.reweighted("audit", 1.5)


# -- from measures to scores -----------------------------------------------------------------------------

def test_value_is_linear_between_the_anchors_and_clipped():
    assert decision.value(2.5, best=0, worst=5) == 0.5
    assert decision.value(9, best=0, worst=5) == 0.0
    assert decision.value(75, best=100, worst=0) == 0.75
    assert decision.value(True, best=1, worst=0) == 1.0
    with pytest.raises(ValueError, match="must differ"):
        decision.value(1, best=2, worst=2)
    with pytest.raises(ValueError, match="finite number"):
        decision.value("fast", best=0, worst=1)


def test_min_max_stretches_small_differences_anchors_do_not():
    p95 = {"queue": 0.05, "log": 0.10, "eventstore": 0.11}
    assert decision.normalise(p95, better="lower") == pytest.approx({"queue": 1.0, "log": 1 / 6, "eventstore": 0.0})
    anchored = decision.normalise(p95, best=0, worst=5)
    assert min(anchored.values()) > 0.97
    assert decision.normalise({"a": 3, "b": 3}, better="higher") == {"a": 1.0, "b": 1.0}


@pytest.mark.parametrize("kwargs, message", [
    ({}, "better is 'higher' or 'lower'"),
    ({"better": "lower", "best": 0, "worst": 1}, "not both"),
    ({"best": 0}, "both best= and worst="),
    ({"better": "up"}, "better is"),
])
def test_normalise_refuses_ambiguous_requests(kwargs, message):
    with pytest.raises(ValueError, match=message):
        decision.normalise({"a": 1, "b": 2}, **kwargs)


# -- quality-attribute scenarios ---------------------------------------------------------------------------

RECORDS = [{"option": "queue", "lost_orders": 0, "p95_latency": 0.2, "rebuilt": False},
           {"option": "queue", "lost_orders": 0, "p95_latency": 0.9, "rebuilt": False},
           {"option": "log", "lost_orders": 2, "p95_latency": 0.1, "rebuilt": True},
           {"option": "log", "lost_orders": 0, "p95_latency": 0.3, "rebuilt": True}]
PARTS = dict(source="an operator", stimulus="broker-1 crashes", artifact="the messaging option",
             environment="the burst", response="orders keep flowing")


def test_a_scenario_is_judged_on_every_run_and_shows_the_worst():
    s = decision.quality_scenario("availability", measure=["lost_orders == 0", "p95_latency < 0.5s"],
                                  records=RECORDS, **PARTS)
    assert s.met == {"queue": False, "log": False}
    assert s.measured("queue", "p95_latency") == 0.9
    assert s.measured("log") == 2          # the failing run's value, not the first
    assert s.runs == {"queue": 2, "log": 2}
    text = str(s)
    assert text.splitlines()[0] == "Scenario: availability"
    assert "lost_orders == 0 and p95_latency < 0.5s" in text and "NOT met" in text and "2 runs" in text


def test_a_boolean_measure_and_the_table():
    s = decision.quality_scenario("replay", measure="rebuilt == true", records=RECORDS, **PARTS)
    assert s.met == {"queue": False, "log": True}
    t = decision.scenario_table([s])
    assert t.splitlines()[1].split() == ["replay", "false", "NOT", "met", "true", "ok"]


@pytest.mark.parametrize("change, message", [
    ({"measure": "lost_order == 0"}, "did you mean 'lost_orders'"),
    ({"measure": "p95_latency < 5"}, "give the unit"),
    ({"measure": []}, "measure is a claim"),
    ({"records": []}, "records is empty"),
    ({"records": [{"lost_orders": 0}]}, "with an 'option'"),
    ({"records": [{"option": "queue"}]}, "has no metric 'lost_orders'"),
    ({"stimulus": " "}, "stimulus is a sentence"),
    ({"model": "kafka"}, "unknown model"),
])
def test_bad_scenarios_are_refused(change, message):
    kwargs = {**PARTS, "measure": "lost_orders == 0", "records": RECORDS, **change}
    with pytest.raises(ValueError, match=message):
        decision.quality_scenario("availability", **kwargs)


def test_a_scenario_from_real_runs():
    runs = engine.compare_messaging(workload={"orders_per_day": 10_000, "window": 600}, seed=3,
                                    consumer_crash={"at": 300})
    s = decision.quality_scenario("ordering", measure="ordering_violations == 0", records=runs, **PARTS)
    assert s.options == ["queue", "log", "eventstore"]
    assert s.met["log"] and s.met["eventstore"]


# -- stale reads -------------------------------------------------------------------------------------------

def kv_runs(r, w, seeds=range(3)):
    return [engine.simulate_kv(consistency="cp", r=r, w=w, write_back=False, ops_per_client=40, think=0.01,
                               clients=("client-a", "client-b", "client-c"), seed=s,
                               network={"latency": {"dist": "exponential", "mean": "5ms"}}) for s in seeds]


def test_stale_reads_by_age_add_up_and_strict_quorums_have_none():
    ones = kv_runs(1, 1)
    rows = decision.stale_by_age(ones, [0, 0.01, 0.1, 10])
    assert [(r["from"], r["to"]) for r in rows] == [(0, 0.01), (0.01, 0.1), (0.1, 10)]
    counted = sum(r["stale"] for r in rows)
    assert 0 < counted <= sum(len(run.stale_reads()) for run in ones)
    assert decision.stale_read_fraction(ones) > 0
    assert decision.stale_read_fraction(kv_runs(2, 2)) == 0
    assert decision.stale_by_age(ones, [0, 1]) == decision.stale_by_age(kv_runs(1, 1), [0, 1])


def test_stale_read_inputs_are_checked():
    with pytest.raises(ValueError, match="increasing"):
        decision.stale_by_age(kv_runs(1, 1, [0]), [0.1, 0.05])
    with pytest.raises(ValueError, match="KVRun"):
        decision.stale_read_fraction([])
    with pytest.raises(ValueError, match="no successful read"):
        decision.stale_read_fraction(engine.simulate_kv(ops_per_client=0))


# -- the plot -----------------------------------------------------------------------------------------------

def test_the_sensitivity_plot_is_labelled_and_has_a_panel_per_criterion():
    from engine.views.decision import plot_sensitivity

    fig = plot_sensitivity(matrix())
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 3
    assert all(ax.get_xlabel().startswith("weight of") and ax.get_title() for ax in panels)
    assert panels[0].get_ylabel() == "weighted total score"
    assert "winner now: eventstore" in fig._suptitle.get_text()
    assert fig._repr_png_()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="unknown criterion"):
        plot_sensitivity(matrix(), ["speed"])


def test_a_scenario_can_be_judged_again_on_other_runs():
    s = decision.quality_scenario("availability", measure="lost_orders == 0", records=RECORDS, **PARTS)
    again = s.on([{"option": "log", "lost_orders": 0}])
    assert again.met == {"log": True} and again.stimulus == s.stimulus and again.measure == s.measure
    with_unit = decision.quality_scenario("delay", measure="checkout_delay < 20s", units={"checkout_delay": "s"},
                                          records=[{"option": "q", "checkout_delay": 25.0}], **PARTS)
    assert with_unit.on([{"option": "q", "checkout_delay": 5.0}]).met == {"q": True}
    with pytest.raises(ValueError, match="units maps a metric"):
        decision.quality_scenario("delay", measure="checkout_delay < 20s", units={"checkout_delay": "seconds"},
                                  records=RECORDS, **PARTS)


def test_regions_say_who_wins_where_exactly():
    m = matrix()
    cut1, cut2 = pytest.approx(0.4), pytest.approx(16 / 31)
    assert m.regions("cost") == [(0.0, cut1, "eventstore"), (cut1, cut2, "log"), (cut2, 1.0, "queue")]
    # two lines that meet only at the end of the range: no sliver of the other option there
    tie_at_end = decision.DecisionMatrix(["a", "b"], ["x", "y"], [1, 1], {"a": [1, 0.49], "b": [1, 0]})
    assert tie_at_end.regions("x") == [(0.0, 1.0, "a")]
