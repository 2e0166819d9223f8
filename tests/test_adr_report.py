"""engine.adr.report: one ADR's evidence, run once, told three ways — and the views agree with `adr check`."""

import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import pytest
from matplotlib.figure import Figure

from engine import adr
from engine.adr import report
from engine.messaging import compare_messaging
from engine.views.communication import HARMS, plot_cost_risk

from conftest import ROOT

NOTEBOOK_ADR = ROOT / "notebooks" / "phase3" / "adr-communication" / "0001-use-apache-kafka-for-order-events.md"
OUTLINE = ROOT / "tests" / "fixtures" / "adr" / "outline" / "0001-message-queue-vs-event-store-for-order-processing.md"

#: A short window keeps each messaging run to a few hundredths of a second.
FAULTS = """  workload: {window: 900, burst: {at: 200, duration: 200, factor: 20}}
  days: 30
  broker_crash: {at: 300, restart_after: 60}
  consumer_bug: {start: 250, end: 400, repair_after: 100}"""

ADR_TEXT = f"""# 1. Use a log for order events

Date: 2026-01-20

## Status

Accepted

## Context

Orders, ten thousand a day. We are evaluating:

1. Message queue (SQS)
2. Replicated log (Apache Kafka)

## Decision

We will use Apache Kafka.

## Consequences

Storage grows.

## Success Metrics

- lost orders: 0 per 10,000 orders
- p95 latency < 5 s

## Evidence

```evidence
about: the log
model: messaging
params:
  option: log
{FAULTS}
  idempotent: true
seed: 3
claims:
  - lost_orders == 0
  - rebuilt == true
  - storage_gb < 1GB
```

```evidence
model: messaging
params:
  option: queue
{FAULTS}
  idempotent: true
seed: 3
claims:
  - rebuilt == false
```

```evidence
about: a saga run
model: saga
workflow: ../../notebooks/workflows/order-fulfillment.yaml
params: {{orders: 20, arrival_rate: 10}}
seed: 5
faults:
  - crash: orchestrator
    at: 1s
    restart_after: 1s
claims:
  - violations == 0
```

```evidence
model: messaging
params: {{option: log, consumers: 0}}
claims:
  - lost_orders == 0
```
"""


@pytest.fixture(scope="module")
def adr_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("log") / "docs" / "adr"
    d.mkdir(parents=True)
    path = d / "0001-use-a-log-for-order-events.md"
    path.write_text(ADR_TEXT)
    # the saga block's workflow path is relative to the ADR: give it one
    wf = d.parent.parent / "notebooks" / "workflows"
    wf.mkdir(parents=True)
    (wf / "order-fulfillment.yaml").write_text((ROOT / "notebooks" / "workflows" / "order-fulfillment.yaml")
                                               .read_text())
    return path


@pytest.fixture(scope="module")
def runs(adr_file):
    return report.run_evidence(adr_file)


def test_the_module_says_what_it_exports():
    assert report.__all__ == ["BlockRun", "run_evidence", "fingerprint", "verdict_table", "for_engineers",
                              "for_executives", "for_auditors", "by_option", "NAMES", "FAULT_PARAMS"]
    for name in report.__all__:
        assert hasattr(report, name)


def test_each_block_runs_once_with_the_verdicts_adr_check_gives(runs, adr_file):
    assert [r.number for r in runs] == [1, 2, 3, 4]
    doc = adr.parse_adr(adr_file.read_text(), str(adr_file))
    for run, block in zip(runs[:3], doc.evidence):
        expected = adr.run_block(block.text, adr_file.parent)
        assert [(str(r.claim.text), r.measured, r.held) for r in run.results] == \
               [(str(r.claim.text), r.measured, r.held) for r in expected]
        assert run.line == block.line
    assert runs[0].held and runs[1].held and runs[2].held
    assert runs[3].error and "consumers" in runs[3].error and not runs[3].held


def test_a_block_separates_faults_from_settings(runs):
    log, _, saga, _ = runs
    assert log.model == "messaging" and log.seed == 3 and log.about == "the log"
    assert set(log.faults) == {"broker_crash", "consumer_bug"}
    assert "broker_crash" not in log.params and log.params["option"] == "log"
    assert saga.faults == {"faults": [{"crash": "orchestrator", "at": "1s", "restart_after": "1s"}]}
    assert saga.params["workflow"].endswith("order-fulfillment.yaml")


def test_only_the_blocks_asked_for_run(adr_file, runs):
    [second] = report.run_evidence(adr_file, blocks=[2])
    assert second.number == 2 and second.fingerprint == runs[1].fingerprint


def test_the_fingerprint_is_reproduced_by_the_call_the_auditor_is_given(runs):
    from engine.messaging import simulate_messaging  # noqa: F401  (the call's namespace)

    metrics = eval(runs[0].call, {"simulate_messaging": simulate_messaging})
    assert report.fingerprint(metrics) == runs[0].fingerprint
    assert report.fingerprint({"a": 1.0}) != report.fingerprint({"a": 1.0000001})


def test_the_rerun_command_prints_the_fingerprint_in_a_fresh_process(adr_file, runs):
    log = report.for_auditors(adr_file, runs=runs)
    command = re.search(r"rerun it \(prints the fingerprint\): `(python -c .*?)`$", log, re.M).group(1)
    code = re.match(r'python -c "(.*)"$', command).group(1)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == runs[0].fingerprint, done.stderr


def test_for_engineers_is_the_adr_with_each_verdict_under_its_block(adr_file, runs):
    md = report.for_engineers(adr_file, runs=runs)
    original = adr_file.read_text().splitlines()
    kept = [line for line in md.splitlines() if not line.startswith(">") and line.strip()]
    assert kept == [line for line in original if line.strip()]  # nothing of the ADR lost or changed
    assert "4 evidence block(s), 5 claim(s): all held; 1 block(s) could not run" in md
    assert md.index("# 1. Use a log") < md.index("Date: 2026-01-20") < md.index("**Evidence rerun:**")
    first_fence_end = md.index("```\n", md.index("```evidence"))
    assert md.index("> **Rerun of block 1**") > first_fence_end
    assert "> | `rebuilt == true` | True | held |" in md
    assert "> **Block 4 could not run:**" in md
    assert md == report.for_engineers(adr_file, runs=runs)


def test_for_engineers_runs_the_evidence_itself_when_not_given_runs(adr_file, runs):
    assert report.for_engineers(adr_file) == report.for_engineers(adr_file, runs=runs)


def test_a_broken_claim_is_shown_to_every_reader(tmp_path, runs):
    path = tmp_path / "0001-use-a-log-for-order-events.md"
    first_two = ADR_TEXT.split("```evidence\nabout: a saga run")[0]     # the log and the queue blocks
    path.write_text(first_two.replace("storage_gb < 1GB", "storage_gb > 1000GB"))
    mine = report.run_evidence(path)
    assert not mine[0].held
    assert "| `storage_gb > 1000GB` |" in report.for_engineers(path, runs=mine)
    assert "**BROKEN**" in report.for_auditors(path, runs=mine)
    assert "1 BROKEN" in report.for_auditors(path, runs=mine)
    text = report.for_executives(mine[:2], decision="log")
    assert "**Warning:** 1 of 3 claims" in text


def test_for_auditors_lists_everything_needed_to_rerun_a_block(adr_file, runs):
    log = report.for_auditors(adr_file, runs=runs)
    assert log.startswith("# Evidence log: Use a log for order events\n")
    assert f"`python -m engine adr check --evidence {adr_file}`" in log
    assert "(status Accepted, dated 2026-01-20)" in log
    block1 = log[log.index("## Block 1"):log.index("## Block 2")]
    for needle in ("model: `messaging`; seed: `3`", '`option: "log"`',
                   '`broker_crash: {"at": 300, "restart_after": 60}`',
                   f"fingerprint `{runs[0].fingerprint}`", "simulate_messaging('log', seed=3,",
                   "broker_crash={'at': 300, 'restart_after': 60}", "| `lost_orders == 0` | 0 | held |"):
        assert needle in block1, needle
    assert "simulate(load_workflow(" in log and "FaultPlan.from_yaml(" in log
    assert "- **could not run:**" in log
    assert log.rstrip().endswith("- p95 latency < 5 s")  # the targets no run measures
    assert log == report.for_auditors(adr_file, runs=runs)


def test_for_auditors_of_an_adr_without_evidence_says_nothing_can_be_rerun():
    log = report.for_auditors(OUTLINE)
    assert "no evidence blocks: nothing in this ADR can be rerun" in log and "undated" in log
    assert "- Message throughput: Target 1000+ messages/second" in log


def test_for_executives_numbers_come_from_the_records(runs):
    text = report.for_executives(runs[:2], decision="log")
    log, queue = runs[0].metrics, runs[1].metrics
    assert text.startswith("**Decision:** use Apache Kafka (a replicated log) for order events.")
    assert f"({log['orders']:,} orders)" in text
    assert f"left {queue['wrong_state_orders']:,} of {queue['orders']:,} orders" in text
    assert "(it cannot replay)" in text
    assert "$" not in text and "per GB-month" not in text  # no money without a price
    assert "not in these numbers" in text


def test_money_appears_only_with_a_price_and_the_text_says_it_was_assumed(runs):
    text = report.for_executives(runs[:2], decision="log", price_per_gb_month=0.25, currency="€")
    assert "At €0.25 per GB-month (a price assumed for this summary, not a quote)" in text
    gb = runs[0].metrics["storage_gb"]
    assert f"about €{gb * 0.25:,.2f} a month" in text
    with pytest.raises(ValueError, match="price_per_gb_month"):
        report.for_executives(runs[:2], decision="log", price_per_gb_month=-1)


def test_for_executives_takes_compare_messaging_records():
    recs = compare_messaging(seed=2, workload={"window": 600}, consumer_bug={"start": 100, "end": 200})
    text = report.for_executives(recs, decision="eventstore", because="The team has run it before.")
    assert "use an event store (EventStoreDB)" in text and "The team has run it before." in text
    assert "the period simulated" in text  # plain records carry no horizon


def test_for_executives_refuses_records_it_cannot_compare(runs):
    with pytest.raises(ValueError, match="two records for option 'log'"):
        report.for_executives([runs[0], runs[0]], decision="log")
    with pytest.raises(ValueError, match="decision 'kafka' is not among"):
        report.for_executives(runs[:2], decision="kafka")
    with pytest.raises(ValueError, match="needs an 'option'"):
        report.for_executives([{"orders": 1}], decision="log")


def test_the_executive_chart_is_labelled_and_marks_the_decision(runs):
    fig = plot_cost_risk(runs[:2], decision="log", price_per_gb_month=0.1)
    assert isinstance(fig, Figure)
    cost, risk, audit = fig.axes
    assert "per GB-month, assumed" in cost.get_xlabel() and "orders harmed" in risk.get_xlabel()
    assert "%" in audit.get_xlabel() and fig._suptitle.get_text().startswith("Cost and risk")
    labels = [t.get_text() for t in cost.get_yticklabels()]
    assert labels[-1].endswith("✔ chosen") and "Kafka" in labels[-1]  # the decision on top
    assert [t.get_text() for t in risk.get_legend().get_texts()] == [h[1] for h in HARMS]
    fig.savefig(__import__("io").BytesIO(), format="png")  # it renders


def test_the_notebook_adr_passes_its_evidence_and_all_three_views_agree():
    assert adr.check_adrs([NOTEBOOK_ADR], evidence=True) == []
    runs = report.run_evidence(NOTEBOOK_ADR)
    assert all(r.held for r in runs) and len(runs) == 4
    eng, aud = report.for_engineers(NOTEBOOK_ADR, runs=runs), report.for_auditors(NOTEBOOK_ADR, runs=runs)
    for r in runs:
        assert r.fingerprint in eng and r.fingerprint in aud
    exe = report.for_executives(runs[:3], decision="log", growth=runs[3])
    assert f"{runs[0].metrics['orders']:,} orders" in exe and "All 10 claims" in exe
    assert f"**Growth:** in one simulated hour at 100,000 orders a day with a 20× burst, with no faults " \
           f"({runs[3].metrics['orders']:,} orders)" in exe
    with pytest.raises(ValueError, match="growth is a run of the decided option"):
        report.for_executives(runs[:3], decision="queue", growth=runs[3])
