"""A directory of ADRs, as adr-tools keeps one: `NNNN-title-in-kebab-case.md`, numbered in order."""

from __future__ import annotations

import datetime
import pathlib
import re

from .document import parse_adr

__all__ = ["new_adr", "list_adrs", "TEMPLATE"]

#: Nygard's template, with MADR's optional sections and an evidence block to fill in.
TEMPLATE = """# {number}. {title}

Date: {date}

## Status

Proposed

## Context

<!-- What forces are at play: the requirements (with numbers), the constraints, what is being decided and why
now. `adr check` reports this section as empty until you write it. -->

## Decision Drivers

<!-- - the quality attributes that matter most, e.g. "no lost orders", "p95 end-to-end latency < 5 s" -->

## Considered Options

<!-- 1. Option A
2. Option B -->

## Decision

<!-- "We will …", naming one of the considered options. -->

## Consequences

<!-- What becomes easier and what becomes harder because of this decision: good and bad. -->

## Success Metrics

<!-- - each with a number and a unit: "p95 end-to-end latency < 5 s" -->

## Evidence

<!-- An evidence block reruns a simulation and checks its claims (`adr check --evidence`):

```evidence
model: saga
workflow: ../../notebooks/workflows/order-fulfillment.yaml
params: {{orders: 200, arrival_rate: 20}}
seed: 1
claims:
  - p95_latency < 5s
```
-->
"""


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if not slug:
        raise ValueError(f"the title {title!r} has no letters or digits to name the file with")
    return slug


def list_adrs(directory) -> list[dict]:
    """Each ADR in the directory, in number order: number, title, status, file."""
    out = []
    for path in sorted(pathlib.Path(directory).glob("[0-9][0-9][0-9][0-9]-*.md")):
        adr = parse_adr(path.read_text(encoding="utf-8", errors="replace"), str(path))
        out.append({"number": int(path.name[:4]), "title": adr.title or "(no title)",
                    "status": adr.status[0] or "(no status)", "file": path.name})
    return out


def new_adr(directory, title: str, *, date: datetime.date) -> pathlib.Path:
    """Write the next-numbered ADR from the template, dated `date`; return its path.
    (The caller passes the date: the engine reads no clock; the command line passes today's.)"""
    if not isinstance(title, str) or not title.strip():
        raise ValueError('an ADR needs a title, e.g. adr new "Use a log for order events"')
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    number = max((a["number"] for a in list_adrs(directory)), default=0) + 1
    path = directory / f"{number:04d}-{_slug(title)}.md"
    day = date.isoformat()
    path.write_text(TEMPLATE.format(number=number, title=title.strip(), date=day), encoding="utf-8")
    return path
