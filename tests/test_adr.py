"""ADRs checked like code: the rejection corpus (code and line), a sound log, evidence rerun, the CLI."""

import re

import pytest

from engine import adr
from engine.cli import main

from conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "adr"
CORPUS = FIXTURES / "corpus"

#: case directory → every (code, line) `adr check --evidence` must report, and nothing else.
EXPECTED = {
    "bad-date": [("bad-date", 3)],
    "decision-names-no-option": [("decision-names-no-option", 16)],
    "duplicate-section": [("duplicate-section", 28)],
    "duplicates": [("duplicate-number", 1), ("duplicate-number", 1)],
    "empty-context": [("empty-section", 9)],
    "evidence-bad-claim": [("bad-evidence", 31)],
    "evidence-claim-broken": [("claim-broken", 31)],
    "evidence-duration-without-unit": [("bad-evidence", 31)],
    "evidence-unknown-metric": [("bad-evidence", 31)],
    "evidence-unknown-model": [("bad-evidence", 31)],
    "evidence-yaml-error": [("bad-evidence", 32)],
    "links": [("one-way-link", 9), ("broken-link", 9)],
    "metric-without-number": [("metric-without-number", 26)],
    "metric-without-unit": [("metric-without-unit", 26)],
    "no-status": [("missing-section", 0)],
    "no-title": [("no-title", 1)],
    "not-utf8": [("not-utf8", 0)],
    "number-disagrees-with-title": [("bad-filename", 1)],
    "review-date-without-a-date": [("bad-date", 28)],
    "superseded-without-link": [("superseded-without-link", 7)],
    "unknown-status": [("unknown-status", 7)],
    "status-contradicts-link": [("status-contradicts-link", 9)],
    "placeholder-context": [("empty-section", 9)],
}


def test_every_corpus_case_has_an_expectation():
    cases = {p.name for p in CORPUS.iterdir() if p.is_dir()} - {"adr-one"}
    assert cases == set(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_the_corpus_is_rejected_with_code_and_line(case):
    problems = adr.check_adrs([CORPUS / case], evidence=True)
    assert sorted((p.code, p.line) for p in problems) == sorted(EXPECTED[case]), [str(p) for p in problems]
    for p in problems:
        assert re.match(r"^\S+\.md(:\d+)?: error\[[a-z0-9-]+\] \S", str(p)), str(p)
        assert p.code in adr.CODES


def test_a_badly_named_file_is_reported_when_checked_by_name():
    [problem] = adr.check_adrs([CORPUS / "adr-one" / "ADR one.md"])
    assert problem.code == "bad-filename" and "NNNN-title-in-kebab-case.md" in problem.message


def test_messages_say_how_to_fix_it():
    def message(case):
        return str(adr.check_adrs([CORPUS / case], evidence=True)[0])
    assert "did you mean 'Accepted'?" in message("unknown-status")
    assert "did you mean 'p95_latency'?" in message("evidence-unknown-metric")
    assert "give the unit, e.g. 5s or 5ms" in message("evidence-duration-without-unit")
    assert "BROKEN: p95_latency < 10ms (measured" in message("evidence-claim-broken")
    assert "A queue (RabbitMQ); A log (Kafka)" in message("decision-names-no-option")


def test_a_sound_log_passes_with_its_evidence_and_madr_front_matter():
    assert adr.check_adrs([FIXTURES / "valid"], evidence=True) == []
    assert adr.check_adrs([FIXTURES / "valid-adr-tools"]) == []  # adr-tools spells it "Superceded"
    # two directories are two logs: the same numbers in each are no duplicates
    assert adr.check_adrs([FIXTURES / "valid", FIXTURES / "valid-adr-tools"]) == []
    madr = adr.parse_adr((FIXTURES / "valid" / "0003-madr-style.md").read_text())
    assert madr.status[0] == "Proposed" and madr.section("decision").heading == "Decision Outcome"
    first = adr.parse_adr((FIXTURES / "valid" / "0001-use-a-log-for-order-events.md").read_text())
    assert [(link.kind, link.number) for link in first.links] == [("superseded by", 2)]


def test_the_outlines_adr_001_parses_and_is_sound_in_form():
    path = next((FIXTURES / "outline").glob("*.md"))
    doc = adr.parse_adr(path.read_text(), str(path))
    assert doc.number == 1 and doc.title == "Message Queue vs Event Store for Order Processing"
    assert doc.status[0] == "Accepted" and doc.section("considered options") is not None
    assert [s.name for s in doc.sections if s.level == 2][:4] == ["status", "context", "decision", "consequences"]
    assert adr.check_adrs([path]) == []  # its weaknesses are in its claims, which Phase 3 tests by running them


@pytest.mark.parametrize("text,metric,op,value,unit", [
    ("p95_latency < 5s", "p95_latency", "<", 5.0, "s"),
    ("p95_latency <= 200ms", "p95_latency", "<=", 0.2, "s"),
    ("completed_pct >= 99.9%", "completed_pct", ">=", 99.9, "%"),
    ("violations == 0", "violations", "==", 0.0, "count"),
    ("reproducible == true", "reproducible", "==", True, "bool"),
])
def test_claims_parse_with_their_units(text, metric, op, value, unit):
    units = adr.MODELS["saga"][1]
    claim = adr.parse_claim(text, units)
    assert (claim.metric, claim.op, claim.value, claim.unit) == (metric, op, value, unit)


@pytest.mark.parametrize("text,fragment", [
    ("completed_pct >= 99", "is a percentage: write 99%"),
    ("reproducible == 1", "is true or false"),
    ("violations < 5s", "is a duration but violations is measured in count"),
    ("p95_latency ~ 5s", "is not 'metric op value'"),
    (42, "a claim is a string"),
])
def test_malformed_claims_say_what_is_wrong(text, fragment):
    with pytest.raises(adr.EvidenceError, match=re.escape(fragment)):
        adr.parse_claim(text, adr.MODELS["saga"][1])


def test_the_command_line_new_list_check(tmp_path, capsys):
    log = tmp_path / "adr"
    assert main(["adr", "new", "Use a log for order events", "--dir", str(log)]) == 0
    assert main(["adr", "new", "Keep orders in an event store", "--dir", str(log)]) == 0
    assert sorted(p.name for p in log.iterdir()) == ["0001-use-a-log-for-order-events.md",
                                                      "0002-keep-orders-in-an-event-store.md"]
    capsys.readouterr()
    assert main(["adr", "list", "--dir", str(log)]) == 0
    assert "2  Proposed    Keep orders in an event store" in capsys.readouterr().out
    # the template is a start, not an ADR: check says what is still to write
    assert main(["adr", "check", str(log)]) == 1
    assert "error[" in capsys.readouterr().out
    assert main(["adr", "check", str(FIXTURES / "valid")]) == 0
    assert main(["adr", "check", str(tmp_path / "missing.md")]) == 2
    assert main(["adr", "new", "!!!", "--dir", str(log)]) == 2


def test_the_codes_table_in_the_docs_is_the_checkers():
    text = (ROOT / "docs" / "adr.md").read_text()
    documented = dict(re.findall(r"^\| `([a-z0-9-]+)` \| (.+?) \|$", text, re.M))
    assert documented == adr.CODES


def test_the_projects_own_decisions_pass_with_their_evidence():
    problems = adr.check_adrs([ROOT / "docs" / "adr"], evidence=True)
    assert problems == [], "\n".join(map(str, problems))
    assert len(adr.list_adrs(ROOT / "docs" / "adr")) >= 4


def test_evidence_runs_the_messaging_options_with_their_faults(tmp_path):
    block = ("model: messaging\nparams: {option: queue, consumer_bug: [1500, 1800]}\nseed: 1\n"
             "claims:\n  - rebuilt == true\n  - storage_gb < 5GB\n  - lost_orders == 0\n")
    results = {r.claim.metric: r.held for r in adr.run_block(block, tmp_path)}
    assert results == {"rebuilt": False, "storage_gb": True, "lost_orders": True}  # a queue cannot replay
    with pytest.raises(adr.EvidenceError, match="needs params: {option: ...}"):
        adr.run_block("model: messaging\nclaims: [lost_orders == 0]\n", tmp_path)
    assert adr.spec_problems("model: messaging\nclaims: [lost_order == 0]\n")[0].args[0].count("did you mean")


def test_an_option_is_named_by_its_name_not_by_a_common_word_in_it(tmp_path):
    text = (FIXTURES / "valid" / "0001-use-a-log-for-order-events.md").read_text()
    text = text.replace("Superseded by [2. Keep orders in an event store](0002-keep-orders-in-an-event-store.md)",
                        "Accepted")
    text = text.replace("1. A queue (RabbitMQ)\n2. A log (Kafka)", "1. Publish after commit\n2. Change data capture")
    path = tmp_path / "0001-outbox.md"
    path.write_text(text.replace("We will use Kafka, keyed by order id.",
                                 "We will write the event in the state change's own transaction."))
    assert [p.code for p in adr.check_adrs([path])] == ["decision-names-no-option"]
    path.write_text(text.replace("We will use Kafka, keyed by order id.", "We will use change data capture."))
    assert adr.check_adrs([path]) == []
    path.write_text(text.replace("We will use Kafka, keyed by order id.", "We take option 2."))
    assert adr.check_adrs([path]) == []


def test_a_status_nobody_uses_is_reported_whole(tmp_path):
    path = tmp_path / "0001-x.md"
    path.write_text("---\nstatus: on hold\n---\n" + (FIXTURES / "valid" / "0003-madr-style.md").read_text()
                    .split("---\n", 2)[2].replace("# 3.", "# 1."))
    [problem] = adr.check_adrs([path])
    assert problem.code == "unknown-status" and "'On hold'" in problem.message
