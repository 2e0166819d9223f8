"""docs/dsl.md's "Diagnostic codes" table is engine.errors.CODES, row for row."""

import re
from pathlib import Path

from engine.errors import CODES

DOC = Path(__file__).parent.parent / "docs" / "dsl.md"
ROW = re.compile(r"^\| `([^`]+)` \| (.*) \|$")


def documented_codes() -> list[tuple[str, str]]:
    section = DOC.read_text().split("### Diagnostic codes", 1)[1]
    lines = section.strip().splitlines()
    assert lines[:2] == ["| Code | Meaning |", "|---|---|"], "the table must start right after the heading"
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break  # the table ends at the first line that is not a row
        match = ROW.match(line)
        assert match, f"not a '| `code` | meaning |' row: {line!r}"
        rows.append(match.groups())
    return rows


def test_docs_code_table_equals_codes():
    assert documented_codes() == list(CODES.items())
