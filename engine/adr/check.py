"""`adr check`: every problem in a log of ADRs, at once, as ``file:line: error[CODE] message``.

Checks what a reviewer would otherwise check by eye: Nygard's sections are all there and say something,
the status is one people agree on, supersession links point at ADRs that exist and link back, numbers are
unique, dates parse, the decision names one of the options it considered, every success metric has a
number and a unit — and, with `evidence=True`, that every claim in an evidence block still holds.
"""

from __future__ import annotations

import datetime
import pathlib
import re
from dataclasses import dataclass

from ..errors import did_you_mean
from .document import ADR, parse_adr
from .evidence import EvidenceError, run_block, spec_problems

__all__ = ["CODES", "Problem", "check_adrs", "STATUSES", "REQUIRED"]

#: Every problem code, with what it means. docs/adr.md mirrors this table.
CODES = {
    "not-utf8": "The file is not UTF-8 text.",
    "no-title": "There is no `# Title` line.",
    "bad-filename": "The file is not named `NNNN-title-in-kebab-case.md`, or its number disagrees with the title's.",
    "duplicate-number": "Two ADRs in the log have the same number.",
    "missing-section": "A required section (Status, Context, Decision, Consequences) is missing.",
    "empty-section": "A required section is there but says nothing (or only a placeholder: TBD, the template's text).",
    "duplicate-section": "A section appears twice.",
    "unknown-status": "The status is not Proposed, Accepted, Rejected, Deprecated or Superseded.",
    "superseded-without-link": "The status is Superseded but no `Superseded by` link says by what.",
    "status-contradicts-link": "A `Superseded by` link in an ADR not Superseded, or `Supersedes` in one not yet Accepted.",
    "broken-link": "A `Supersedes` / `Superseded by` link names an ADR that is not in the log.",
    "one-way-link": "A supersession link whose target does not link back.",
    "bad-date": "A date that does not parse as YYYY-MM-DD.",
    "decision-names-no-option": "The decision names none of the options the ADR says it considered.",
    "metric-without-number": "A success metric with no number: nothing can be measured against it.",
    "metric-without-unit": "A success metric with a number but no unit: 5 what?",
    "bad-evidence": "An evidence block that cannot run: bad YAML, unknown model or metric, a malformed claim.",
    "claim-broken": "An evidence block ran and one of its claims did not hold (`adr check --evidence`).",
}

REQUIRED = ("status", "context", "decision", "consequences")
#: Nygard's statuses and adr-tools' (which adds Superseded); MADR's `status:` uses the same words.
STATUSES = ("Proposed", "Accepted", "Rejected", "Deprecated", "Superseded")
_FILENAME = re.compile(r"^(\d{4})-[a-z0-9]+(?:-[a-z0-9]+)*\.md$")
_UNITS = re.compile(
    r"(%|‰|\b(?:ms|s|sec|secs|seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|"
    r"[kKMG]i?B|bytes?|TB|RPS|QPS|TPS|nines)\b|[/ ]?(?:per|/)\s*(?:second|sec|s|minute|min|hour|day)\b|"
    r"\b(?:messages|msgs?|orders|requests|reqs|events|errors|users|instances)(?:/| per )\w+|"
    r"\bper\s+[\d,.]*\s*[a-z]+|[$€£]\s*\d)", re.I)  # "0 per 10,000 orders", "3 per day"
_NUMBER = re.compile(r"\d")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: error[{self.code}] {self.message}" if self.line else \
            f"{self.file}: error[{self.code}] {self.message}"


#: What an unwritten section says: placeholders, and adr-tools' template sentences left as they were.
_PLACEHOLDERS = {"tbd", "todo", "tbc", "n/a", "na", "…", "...", "-", "?", "xxx", "fixme", "we will …",
                 "the issue motivating this decision, and any context that influences or constrains the decision.",
                 "the change that we're proposing or have agreed to implement.",
                 "what becomes easier or more difficult to do and any risks introduced by the change that will "
                 "need to be mitigated."}


def _unwritten(text: str) -> bool:
    return re.sub(r"\s+", " ", _plain(text)).strip().strip("*_").lower() in _PLACEHOLDERS | {""}


def _plain(text: str) -> str:
    """Markdown without HTML comments (a template's guidance is not content)."""
    return re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)  # keep lines


def _options(adr: ADR) -> list[str]:
    """The options the ADR says it weighed: MADR's Considered Options (list items or ### headings),
    Alternatives Considered, or a numbered list in the Context ("We are evaluating: 1. …")."""
    names = []
    s = adr.section("considered options")
    if s is not None:
        names += re.findall(r"^\s*(?:[-*+]|\d+[.)])\s+(.+?)\s*$", _plain(s.body), re.M)
        names += [x.heading for x in adr.sections if x.level > s.level and s.line < x.line <= s.line
                  + s.body.count("\n") + 1]
    context = adr.section("context")
    if context is not None:
        names += re.findall(r"^\s*\d+[.)]\s+(.+?)\s*$", _plain(context.body), re.M)
    return [n for n in names if n.strip()]


def _terms(option: str) -> list[str]:
    """What naming an option looks like: its whole name, the names in its parentheses ("(RabbitMQ/AWS SQS)"),
    and the proper nouns in it (a word capitalised after the first, or with capitals or digits inside) —
    not its common words, which a decision may use about anything."""
    option = re.sub(r"[*_`]", "", option).strip()
    terms = [option, re.split(r"\s*[(:—]\s*|\s+-\s+", option)[0]]  # and its name before "(", ":" or a dash
    for inside in re.findall(r"\(([^)]*)\)", option):
        terms += [t.strip() for t in re.split(r"[/,;]| or ", inside) if len(t.strip()) >= 2]
    words = re.findall(r"[A-Za-z][\w.+#-]*", re.sub(r"\([^)]*\)", "", option))
    terms += [w for k, w in enumerate(words) if len(w) >= 3 and (re.search(r"[A-Z].*[A-Z]|\d", w)
                                                                  or (k > 0 and w[0].isupper()))]
    return [t.lower() for t in terms]


def _names_an_option(decision: str, options: list[str]) -> bool:
    text = re.sub(r"[*_`]", "", decision).lower()
    if any(1 <= int(k) <= len(options) for k in re.findall(r"\boption\s+(\d+)\b", text)):
        return True  # "option 2", in a numbered list of options
    return any(re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", text) for o in options for t in _terms(o))


def _check_one(adr: ADR, path: pathlib.Path | None, out: list[Problem]) -> None:
    f = adr.source
    add = lambda line, code, message: out.append(Problem(f, line, code, message))  # noqa: E731
    if adr.title is None:
        add(1, "no-title", "no `# Title` line: start the file with `# 1. Use a message queue for orders` "
                           "(adr-tools) or `# ADR-001: …`")
    if path is not None:
        m = _FILENAME.match(path.name)
        if not m:
            add(0, "bad-filename", f"{path.name!r} is not NNNN-title-in-kebab-case.md "
                                   "(as adr-tools names them: 0001-record-architecture-decisions.md)")
        elif adr.number is not None and int(m.group(1)) != adr.number:
            add(adr.title_line, "bad-filename", f"the file is number {int(m.group(1))} but the title says "
                                                f"{adr.number}")
    seen: dict[str, int] = {}
    for s in adr.sections:
        if s.level == 2 and s.name in seen:
            add(s.line, "duplicate-section", f"a second `## {s.heading}` (the first is on line {seen[s.name]})")
        seen.setdefault(s.name, s.line)
    for name in REQUIRED:
        s = adr.section(name)
        if s is None and not (name == "status" and adr.status[0]):
            add(0, "missing-section", f"no `## {name.capitalize()}` section (Nygard's sections: Title, Status, "
                                      "Context, Decision, Consequences)")
        elif s is not None and _unwritten(s.text):
            add(s.line, "empty-section", f"`## {s.heading}` is empty: say {_EMPTY[name]}")
    status, line = adr.status
    if status is not None and status not in STATUSES:
        hint = did_you_mean(status, STATUSES)
        add(line, "unknown-status", f"status {status!r} is not one of {', '.join(STATUSES)}"
                                    + (f" ({hint})" if hint else ""))
    if status == "Superseded" and not any(link.kind == "superseded by" for link in adr.links):
        add(line, "superseded-without-link", "Superseded, but by what? Write `Superseded by [N. Title](NNNN-….md)`")
    for link in adr.links:
        if link.kind == "superseded by" and status not in (None, "Superseded"):
            add(link.line, "status-contradicts-link", f"the status is {status} but this ADR is superseded by "
                                                      f"{link.target!r}: make the status Superseded")
        elif link.kind == "supersedes" and status in ("Proposed", "Rejected"):
            add(link.line, "status-contradicts-link", f"a {status.lower()} ADR supersedes nothing yet: "
                                                      f"{link.target!r} stands until this one is Accepted")
    for value, line in adr.dates:
        if not _date(value):
            add(line, "bad-date", f"date {value!r} does not parse: write it as YYYY-MM-DD, e.g. 2024-08-01")
    review = adr.section("review date")
    if review is not None:
        found = re.findall(r"\d{4}-\d{2}-\d{2}", review.text)
        if not found or not all(_date(d) for d in found):
            add(review.line, "bad-date", "the review date has no date that parses as YYYY-MM-DD: "
                                         "'6 months from implementation' is a duration, not a date")
    decision, options = adr.section("decision"), _options(adr)
    if decision is not None and _plain(decision.text).strip() and options \
            and not _names_an_option(_plain(decision.text), options):
        add(decision.line, "decision-names-no-option", "the decision names none of the considered options ("
            + "; ".join(options[:5]) + "): say which one was chosen, in the options' own words")
    metrics = adr.section("metrics")
    if metrics is not None:
        for k, item in enumerate(_plain(metrics.body).splitlines()):
            m = re.match(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$", item)
            if not m:
                continue
            target = m.group(1).split(":", 1)[-1]
            if not _NUMBER.search(target):
                add(metrics.body_line + k, "metric-without-number",
                    f"{m.group(1).strip()!r} has no number: give a target, e.g. 'p95 < 5 s'")
            elif not _UNITS.search(target):
                add(metrics.body_line + k, "metric-without-unit",
                    f"{m.group(1).strip()!r} has no unit: seconds, %, messages/second, …?")
    for block in adr.evidence:
        for err in spec_problems(block.text):
            add(block.line + max(err.line - 1, 0), "bad-evidence", str(err))


_EMPTY = {"status": "Proposed, Accepted, Rejected, Deprecated or Superseded",
          "context": "what forces are at play: the requirements, the constraints, what is being decided",
          "decision": "what was decided, in full sentences ('We will …')",
          "consequences": "what becomes easier and what becomes harder, good and bad"}


def _date(value: str) -> bool:
    try:
        datetime.date.fromisoformat(str(value).strip())
        return True
    except ValueError:
        return False


def _number(adr: ADR, path: pathlib.Path | None) -> int | None:
    m = _FILENAME.match(path.name) if path is not None else None
    return int(m.group(1)) if m else adr.number


def check_adrs(paths, *, evidence: bool = False) -> list[Problem]:
    """Every problem in the given ADR files and directories (a directory: its NNNN-*.md files, as one log).

    Each directory is one log: numbers must be unique in it and links resolve within it (a file given alone
    belongs to the log of its directory). With `evidence`, every evidence block is run and each claim judged."""
    files: list[pathlib.Path] = []
    for p in map(pathlib.Path, paths):
        files += sorted(p.glob("[0-9][0-9][0-9][0-9]-*.md")) if p.is_dir() else [p]
    out: list[Problem] = []
    adrs: dict[pathlib.Path, ADR] = {}
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            out.append(Problem(str(path), 0, "not-utf8", f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
            continue
        except OSError as exc:
            raise FileNotFoundError(f"{path}: {exc.strerror}") from None
        adrs[path] = parse_adr(text, str(path))
    # the log: these files and their neighbours, by number
    logs: dict[pathlib.Path, dict[int, list[tuple[pathlib.Path, ADR]]]] = {}  # directory → number → ADRs
    neighbours = {q for p in adrs for q in p.parent.glob("[0-9][0-9][0-9][0-9]-*.md")} - set(adrs)
    for path in sorted(set(adrs) | neighbours):
        adr = adrs.get(path) or parse_adr(path.read_text(encoding="utf-8", errors="replace"), str(path))
        n = _number(adr, path)
        if n is not None:
            logs.setdefault(path.parent, {}).setdefault(n, []).append((path, adr))
    for path, adr in adrs.items():
        _check_one(adr, path, out)
        log = logs.get(path.parent, {})
        n = _number(adr, path)
        if n is not None and len(log.get(n, ())) > 1:
            others = ", ".join(p.name for p, _ in log[n] if p != path)
            out.append(Problem(adr.source, adr.title_line, "duplicate-number", f"number {n} is also {others}"))
        for link in adr.links:
            target = log.get(link.number, []) if link.number is not None else []
            if len(target) != 1:
                out.append(Problem(adr.source, link.line, "broken-link", f"{link.kind} {link.target!r}: "
                                   "no such ADR in the log" if not target else f"{link.kind} {link.number}: "
                                   "more than one ADR has that number"))
                continue
            back = {"superseded by": "supersedes", "supersedes": "superseded by", "amended by": "amends",
                    "amends": "amended by"}[link.kind]
            other_path, other = target[0]
            if not any(b.kind == back and b.number == n for b in other.links):
                out.append(Problem(adr.source, link.line, "one-way-link",
                                   f"{link.kind} {other_path.name}, which does not say `{back.capitalize()}` "
                                   f"this ADR ({n}) in its Status"))
        if evidence:
            for block in adr.evidence:
                if spec_problems(block.text):
                    continue  # already reported as bad-evidence
                try:
                    for result in run_block(block.text, path.parent):
                        if not result.held:
                            out.append(Problem(adr.source, block.line, "claim-broken", str(result)))
                except EvidenceError as err:
                    out.append(Problem(adr.source, block.line + max(err.line - 1, 0), "bad-evidence", str(err)))
    return sorted(out, key=lambda p: (p.file, p.line, p.code))


