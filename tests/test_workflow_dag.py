import pytest

from engine import parse_workflow


def test_seed_dag_shape(wf):
    g = wf.graph
    assert sorted(g.edges) == sorted([("validate-order", "reserve-inventory"), ("validate-order", "process-payment"),
                                      ("reserve-inventory", "ship-order"), ("process-payment", "ship-order"),
                                      ("ship-order", "send-confirmation")])
    assert wf.generations == (("validate-order",), ("reserve-inventory", "process-payment"),
                              ("ship-order",), ("send-confirmation",))
    assert wf.topological_order[0] == "validate-order"


def test_critical_path_for_given_latencies(wf):
    latencies = {"validate-order": 0.1, "reserve-inventory": 2.0, "process-payment": 0.5, "ship-order": 1.0}
    path = wf.critical_path(latencies)
    assert path.steps == ("validate-order", "reserve-inventory", "ship-order")
    assert path.length == pytest.approx(3.1)  # fire-and-forget costs nothing: nobody waits
    faster_inventory = dict(latencies, **{"reserve-inventory": 0.2})
    assert wf.critical_path(faster_inventory).steps[1] == "process-payment"


def test_critical_path_by_service_or_function(wf):
    by_service = wf.critical_path({"order-service": 1, "inventory-service": 1, "payment-service": 3,
                                   "shipping-service": 1})
    assert by_service.steps[:2] == ("validate-order", "process-payment") and by_service.length == 5
    assert wf.critical_path(lambda step: 1.0).length == 3.0
    with pytest.raises(KeyError, match="no latency given"):
        wf.critical_path({"validate-order": 1})


def test_ancestors_and_dependents(wf):
    assert wf.ancestors("ship-order") == ("validate-order", "reserve-inventory", "process-payment")
    assert wf.dependents["validate-order"] == ("reserve-inventory", "process-payment")


def test_service_names_in_order_of_mention(wf):
    assert wf.service_names == ("order-service", "inventory-service", "payment-service", "shipping-service",
                                "notification-service")


def test_generations_of_a_wide_dag():
    steps = "\n".join(f"  - {{name: s{i}, type: sync-task, service: svc, endpoint: /x"
                      + (f", depends_on: [s{(i - 1) // 2}]" if i else "") + "}" for i in range(15))
    wf = parse_workflow(f"name: tree\nversion: '1.0'\nworkflow:\n{steps}\n")
    assert [len(g) for g in wf.generations] == [1, 2, 4, 8]
