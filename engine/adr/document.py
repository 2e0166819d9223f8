"""An ADR as a document: title, number, sections with their lines, status, links, evidence blocks.

Reads the conventions people already use, without asking them to change:

* Nygard's sections — Title, Status, Context, Decision, Consequences — as `##` headings under a `#` title
  (adr-tools writes ``# 1. Record architecture decisions`` and a ``Date: 2024-01-01`` line);
* MADR's names for the same things (Context and Problem Statement, Decision Outcome) and its optional
  sections (Decision Drivers, Considered Options, Pros and Cons of the Options), with or without its YAML
  front matter (``status:``, ``date:``);
* supersession written as adr-tools writes it: ``Superseded by [2. Title](0002-title.md)``.

Parsing never fails: whatever is malformed is left for the checker to report, with its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["ADR", "Section", "EvidenceBlock", "Link", "parse_adr", "canonical"]

#: Section names as written → the name the checker knows them by (lower case, no punctuation).
ALIASES = {
    "context and problem statement": "context",
    "decision outcome": "decision",
    "alternatives considered": "considered options",
    "options considered": "considered options",
    "alternatives": "considered options",
    "pros and cons of the options": "pros and cons",
    "success metrics": "metrics",
    "monitoring and success metrics": "metrics",
    "metrics": "metrics",
}

_TITLE = re.compile(r"^#\s+(?:(?:ADR[-\s]?)?0*(\d+)[.:]?\s+)?(.*?)\s*$", re.I)
_HEADING = re.compile(r"^(#{2,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^(```+|~~~+)\s*([\w-]*)")
_LINK = re.compile(r"\b(super[sc]eded by|super[sc]edes|amended by|amends)\b:?\s*(.*)", re.I)
#: adr-tools spells it "Superceded" (and "Supercedes"): read both spellings as the same thing.
_SPELLING = {"superceded": "superseded", "supercedes": "supersedes", "superceded by": "superseded by"}
_KNOWN = ("proposed", "accepted", "rejected", "deprecated", "superseded", "superceded")


def _status_of(line: str) -> str:
    words = re.findall(r"[A-Za-z]+", line)
    if words and words[0].lower() in _KNOWN:
        return _SPELLING.get(words[0].lower(), words[0].lower()).capitalize()
    return " ".join(words).capitalize()
_TARGET = re.compile(r"\]\(([^)\s]+)\)|\bADR[-\s]?0*(\d+)\b|\b0*(\d{1,4})[-.]", re.I)
_DATE_LINE = re.compile(r"^date:\s*(.*?)\s*$", re.I)


def canonical(name: str) -> str:
    """The name a section is known by: lower case, no trailing colon, MADR's names mapped to Nygard's."""
    key = re.sub(r"[\s_]+", " ", name.strip().rstrip(":").strip().lower())
    return ALIASES.get(key, key)


@dataclass(frozen=True)
class Section:
    """A `##` section (or `###` under one): its heading as written, its line and its body."""

    name: str
    heading: str
    line: int
    level: int
    body: str
    body_line: int

    @property
    def text(self) -> str:
        """The body without blank lines at either end."""
        return self.body.strip()


@dataclass(frozen=True)
class EvidenceBlock:
    """A fenced ```evidence block: its YAML text and the line of its first YAML line."""

    text: str
    line: int


@dataclass(frozen=True)
class Link:
    """A supersession link: `kind` is "superseded by", "supersedes", "amended by" or "amends"."""

    kind: str
    target: str
    line: int
    number: int | None = None


@dataclass(frozen=True)
class ADR:
    """One parsed ADR. Line numbers are 1-based; 0 means "not in the file"."""

    source: str
    text: str
    title: str | None
    title_line: int
    number: int | None
    sections: tuple[Section, ...]
    front_matter: str | None
    front_matter_line: int
    evidence: tuple[EvidenceBlock, ...]
    dates: tuple[tuple[str, int], ...] = field(default=())

    def section(self, name: str) -> Section | None:
        """The first section known as `name` (see `canonical`), at any level."""
        return next((s for s in self.sections if s.name == canonical(name)), None)

    @property
    def status(self) -> tuple[str | None, int]:
        """The status and its line, from the Status section or else the front matter: the first word when
        it is a status people use (adr-tools writes "Superseded by [2. …](…)"), else the whole line."""
        s = self.section("status")
        if s is not None:
            for k, line in enumerate(s.body.splitlines()):
                if re.search(r"[A-Za-z]", line) and not line.strip().startswith("<!--"):
                    return _status_of(line), s.body_line + k
            return None, s.line
        if self.front_matter is not None:
            for k, line in enumerate(self.front_matter.splitlines()):
                m = re.match(r"^status:\s*['\"]?(.*?)['\"]?\s*$", line.strip(), re.I)
                if m and m.group(1):
                    return _status_of(m.group(1)), self.front_matter_line + k
        return None, 0

    @property
    def links(self) -> tuple[Link, ...]:
        """Supersession links written in the Status section (or the front matter)."""
        out = []
        s = self.section("status")
        lines = []
        if s is not None:
            lines += [(s.body_line + k, line) for k, line in enumerate(s.body.splitlines())]
        if self.front_matter is not None:
            lines += [(self.front_matter_line + k, line) for k, line in enumerate(self.front_matter.splitlines())]
        for number, line in lines:
            m = _LINK.search(line)
            if not m:
                continue
            md_link = re.search(r"\]\(([^)\s]+)\)", m.group(2))  # a Markdown link names the file: prefer it
            t = md_link or _TARGET.search(m.group(2))
            target = next((g for g in t.groups() if g), None) if t else m.group(2).strip()
            digits = re.match(r"^(?:.*/)?0*(\d+)", target or "")
            kind = _SPELLING.get(m.group(1).lower(), m.group(1).lower())
            out.append(Link(kind, target or "", number, int(digits.group(1)) if digits else None))
        return tuple(out)


def parse_adr(text: str, source: str = "<string>") -> ADR:
    """Parse Markdown into an `ADR`; never raises on malformed input (the checker reports it)."""
    lines = text.splitlines()
    front, front_line, start = None, 0, 0
    if lines and lines[0].strip() == "---":
        end = next((k for k in range(1, len(lines)) if lines[k].strip() in ("---", "...")), None)
        if end is not None:
            front, front_line, start = "\n".join(lines[1:end]), 2, end + 1
    title, title_line, number = None, 0, None
    heads: list[tuple[int, int, str]] = []  # (line index, level, heading)
    evidence, dates = [], []
    fence, fence_kind, fence_start = None, "", 0
    comment = False  # inside <!-- … -->: guidance, not content (a template's example fence stays inert)
    for k in range(start, len(lines)):
        line = lines[k]
        if fence is None and comment:
            comment = "-->" not in line
            continue
        if fence is None and "<!--" in line and "-->" not in line.split("<!--", 1)[1]:
            comment = True
            if not line.split("<!--", 1)[0].strip():
                continue
        m = _FENCE.match(line.strip())
        if fence is None and m:
            fence, fence_kind, fence_start = m.group(1), m.group(2).lower(), k
            continue
        if fence is not None:
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                if fence_kind == "evidence":
                    evidence.append(EvidenceBlock("\n".join(lines[fence_start + 1:k]), fence_start + 2))
                fence = None
            continue
        if title is None and re.match(r"^#\s", line):
            m = _TITLE.match(line)
            title, title_line = m.group(2), k + 1
            number = int(m.group(1)) if m.group(1) else None
            continue
        h = _HEADING.match(line)
        if h:
            heads.append((k, len(h.group(1)), h.group(2)))
            continue
        d = _DATE_LINE.match(line.strip())
        if d and (not heads or heads[-1][2].lower().startswith("status")):
            dates.append((d.group(1), k + 1))
    if fence is not None and fence_kind == "evidence":  # unclosed: keep it, the checker says so
        evidence.append(EvidenceBlock("\n".join(lines[fence_start + 1:]), fence_start + 2))
    sections = []
    for j, (k, level, heading) in enumerate(heads):
        # a section's body runs to the next heading of the same or a higher level
        end = next((kk for kk, lv, _ in heads[j + 1:] if lv <= level), len(lines))
        sections.append(Section(canonical(heading), heading, k + 1, level, "\n".join(lines[k + 1:end]), k + 2))
    if front is not None:
        for k, line in enumerate(front.splitlines()):
            m = re.match(r"^date:\s*['\"]?(.*?)['\"]?\s*$", line.strip(), re.I)
            if m:
                dates.append((m.group(1), front_line + k))
    return ADR(source, text, title, title_line, number, tuple(sections), front, front_line, tuple(evidence),
               tuple(dates))
