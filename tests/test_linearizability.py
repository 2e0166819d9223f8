"""The linearizability checker on hand-written histories, and on the replicated register."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import FaultPlan
from engine.kv import simulate_kv
from engine.linearizability import check_linearizable


def history(*ops):
    """ops: (process, f, value, start, end, type) → Jepsen-style events, in time order."""
    events = []
    for p, f, v, t0, t1, kind in ops:
        events.append({"process": p, "type": "invoke", "f": f, "value": v if f == "write" else None, "time": t0})
        if kind is not None:
            events.append({"process": p, "type": kind, "f": f, "value": v, "time": t1})
    return sorted(events, key=lambda e: e["time"])


def test_sequential_history_is_linearizable():
    h = history(("a", "write", 1, 0, 1, "ok"), ("b", "read", 1, 2, 3, "ok"), ("a", "write", 2, 4, 5, "ok"),
                ("b", "read", 2, 6, 7, "ok"))
    assert check_linearizable(h).valid


def test_initial_value_is_none():
    assert check_linearizable(history(("a", "read", None, 0, 1, "ok"))).valid
    assert not check_linearizable(history(("a", "read", 7, 0, 1, "ok"))).valid


def test_concurrent_operations_may_take_effect_in_either_order():
    h = history(("a", "write", 1, 0, 10, "ok"), ("b", "read", None, 1, 2, "ok"), ("c", "read", 1, 3, 4, "ok"))
    assert check_linearizable(h).valid


def test_stale_read_is_caught_with_a_minimal_counterexample():
    h = history(("a", "write", 1, 0, 1, "ok"), ("c", "write", 9, 0.2, 0.5, "ok"), ("a", "write", 2, 2, 3, "ok"),
                ("b", "read", 1, 4, 5, "ok"))
    result = check_linearizable(h)
    assert not result.valid
    assert [(o.f, o.value) for o in result.counterexample] == [("write", 1), ("write", 2), ("read", 1)]
    assert "stale read" in result.explanation and str(result).startswith("linearizable? false")


def test_reads_going_back_in_time_are_caught():
    h = history(("a", "write", 1, 0, 10, "ok"), ("b", "read", 1, 1, 2, "ok"), ("c", "read", None, 3, 4, "ok"))
    assert not check_linearizable(h).valid


def test_failed_writes_did_not_happen_and_indefinite_ones_may_have():
    failed = history(("a", "write", 1, 0, 1, "fail"), ("b", "read", 1, 2, 3, "ok"))
    assert not check_linearizable(failed).valid
    info = history(("a", "write", 1, 0, 1, "info"), ("b", "read", 1, 5, 6, "ok"))
    assert check_linearizable(info).valid  # a timed-out write may take effect late...
    never = history(("a", "write", 1, 0, 1, "info"), ("b", "read", None, 5, 6, "ok"))
    assert check_linearizable(never).valid  # ...or never
    unfinished = history(("a", "write", 1, 0, None, None), ("b", "read", 1, 5, 6, "ok"))
    assert check_linearizable(unfinished).valid


@pytest.mark.parametrize("bad,fragment", [
    ([{"process": "a", "type": "ok", "f": "read", "value": 1, "time": 0}], "nothing in flight"),
    ([{"process": "a", "type": "begin", "f": "read", "time": 0}], "type must be one of"),
    ([{"process": "a", "type": "invoke", "f": "cas", "time": 0}], "f must be read or write"),
    ([{"process": "a", "type": "invoke", "f": "read"}], "lacks time"),
    ([{"process": "a", "type": "invoke", "f": "read", "time": 0}] * 2, "invoked again"),
])
def test_malformed_histories_get_clear_messages(bad, fragment):
    with pytest.raises(ValueError, match=fragment):
        check_linearizable(bad)


SPLIT = FaultPlan().split(["client-a", "replica-1"], ["client-b", "replica-2", "replica-3"], start=1.0, end=4.0)


def test_cp_minority_side_is_unavailable_and_history_linearizable():
    run = simulate_kv(consistency="cp", faults=SPLIT, seed=1)
    assert run.check().valid and not run.stale_reads()
    assert run.availability["client-b"] == 1.0 > run.availability["client-a"]
    assert run.converged


def test_ap_stays_available_but_serves_stale_reads_then_converges():
    run = simulate_kv(consistency="ap", faults=SPLIT, seed=1)
    assert run.availability == {"client-a": 1.0, "client-b": 1.0}
    assert run.stale_reads()
    result = run.check()
    assert not result.valid and "stale read" in result.explanation
    assert run.converged  # anti-entropy after the heal


def test_siblings_keep_both_sides_writes():
    run = simulate_kv(consistency="ap", conflicts="siblings", faults=SPLIT, seed=1)
    final = set(run.replicas.values())
    assert len(final) == 1 and isinstance(final.pop(), tuple)  # converged, with two sibling values


def test_quorums_without_write_back_are_not_linearizable():
    net = {"latency": "5ms", "links": {"client-a->replica-2": "300ms", "client-a->replica-3": "300ms",
                                       "client-c->replica-1": "300ms"}}
    kw = dict(consistency="cp", ops_per_client=8, clients=("client-a", "client-b", "client-c"), network=net,
              think=0.05, timeout=2.0)
    bad = [s for s in range(30) if not simulate_kv(write_back=False, seed=s, **kw).check().valid]
    assert bad, "R + W > N without read repair should show a new-old inversion"
    assert all(simulate_kv(write_back=True, seed=s, **kw).check().valid for s in bad)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0, 5), st.floats(0.1, 4), st.sampled_from([3, 5]))
def test_cp_is_linearizable_under_random_partitions(seed, start, length, n):
    replicas = [f"replica-{k + 1}" for k in range(n)]
    cut = replicas[: n // 2]
    plan = FaultPlan().split(["client-a", *cut], ["client-b", *replicas[n // 2:]], start=start, end=start + length)
    run = simulate_kv(n=n, consistency="cp", faults=plan, seed=seed, ops_per_client=8,
                      network={"dist": "exponential", "mean": "5ms"})
    assert run.check().valid


def test_same_seed_same_history():
    a = simulate_kv(consistency="ap", faults=SPLIT, seed=4)
    b = simulate_kv(consistency="ap", faults=SPLIT, seed=4)
    assert a.history == b.history and a.trace.digest() == b.trace.digest()


def test_bad_settings_are_explained():
    with pytest.raises(ValueError, match="consistency is 'cp' or 'ap'"):
        simulate_kv(consistency="strong")
    with pytest.raises(ValueError, match="between 1 and N=3"):
        simulate_kv(r=4)
