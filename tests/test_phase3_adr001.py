"""Phase 3, notebook 2: the outline's ADR-001 as a fixture, and the rewrite whose evidence must keep holding."""

import subprocess
import sys

from engine import adr

from conftest import ROOT

OUTLINE = next((ROOT / "tests" / "fixtures" / "adr" / "outline").glob("*.md"))
REWRITTEN = ROOT / "notebooks" / "phase3" / "adr"
FAULTS = ("broker_crash", "consumer_crash", "consumer_bug", "slow_consumer")


def test_the_outlines_adr_001_parses_as_written():
    doc = adr.parse_adr(OUTLINE.read_text(encoding="utf-8"), OUTLINE.name)
    assert (doc.number, doc.title) == (1, "Message Queue vs Event Store for Order Processing")
    assert doc.status[0] == "Accepted"
    for name in ("context", "decision", "consequences", "considered options", "metrics", "review date"):
        assert doc.section(name) is not None, name
    assert doc.evidence == ()                        # claims, but nothing to rerun
    assert adr.check_adrs([OUTLINE]) == []           # clean in form: form is not substance


def test_the_rewritten_adr_001_passes_adr_check_with_its_evidence_rerun():
    files = sorted(REWRITTEN.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert [f.name for f in files] == ["0001-order-events-on-a-log-with-an-archive.md"]
    assert adr.check_adrs([REWRITTEN], evidence=True) == []


def test_the_rewritten_adr_has_evidence_for_each_fault_and_for_the_stock_level():
    doc = adr.parse_adr((REWRITTEN / "0001-order-events-on-a-log-with-an-archive.md").read_text(encoding="utf-8"))
    blocks = [b.text for b in doc.evidence]
    for fault in FAULTS:
        assert any(fault in text for text in blocks), fault
    assert sum("model: kv" in text for text in blocks) == 2           # AP and CP under one partition
    assert any("option: queue" in text for text in blocks)            # the rejected option, measured


def test_adr_check_on_the_command_line_exits_0():
    done = subprocess.run([sys.executable, "-m", "engine", "adr", "check", "--evidence", str(REWRITTEN)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
