"""Architecture Decision Records as files checked like code (Phase 3).

    from engine import adr
    problems = adr.check_adrs(["docs/adr"], evidence=True)   # [] when every ADR is sound
    for p in problems: print(p)                              # file:line: error[CODE] message

ADRs are Markdown in the conventions people already use (Nygard's sections, MADR's optional ones,
adr-tools' file names); an ADR may embed ```evidence blocks whose claims `check_adrs(..., evidence=True)`
reruns. The command line: ``python -m engine adr new|list|check``.
"""

from .check import CODES, REQUIRED, STATUSES, Problem, check_adrs
from .document import ADR, EvidenceBlock, Link, Section, canonical, parse_adr
from .evidence import MODELS, Claim, ClaimResult, EvidenceError, measure, parse_claim, run_block, spec_problems
from .log import TEMPLATE, list_adrs, new_adr

__all__ = ["ADR", "Section", "EvidenceBlock", "Link", "parse_adr", "canonical", "check_adrs", "Problem", "CODES",
           "REQUIRED", "STATUSES", "MODELS", "Claim", "ClaimResult", "EvidenceError", "parse_claim", "measure", "run_block",
           "spec_problems", "new_adr", "list_adrs", "TEMPLATE"]
