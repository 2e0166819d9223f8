"""What the tests of the listings' ports (test_seed_go/rust/typescript.py) share: running a port with
some of its bugs fixed, and reading the evidence of a bug out of a run's trace and its checker report."""

import sys

from conftest import ROOT, vector

sys.path.insert(0, str(ROOT / "polyglot" / "vectors"))
import generate  # noqa: E402


def port_run(port: str, v, fixes: str = ""):
    """Run conformance vector `v` (a name or a dict) on `port`, with the fixes `fixes` ("1,3") switched on."""
    v = vector(v) if isinstance(v, str) else v
    return generate.run(v, orchestrator=port + (f"+{fixes}" if fixes else ""))


def all_but(bugs, *kept: int) -> str:
    """Every fix of `bugs` except those of `kept`."""
    return ",".join(str(b) for b in bugs if b not in kept)


def events(r, kind, step=None, instance=None):
    return [e for e in r.trace.events if e.kind == kind and (step is None or e.step == step)
            and (instance is None or e.instance == instance)]


def instances(r) -> set:
    return {i.id for i in r.instances}


def statuses(r) -> set:
    return {i.status for i in r.instances}


def violated(report, invariant, step=None, says="") -> set:
    """The instances where `invariant` is violated (at `step`, with `says` in the message)."""
    return {v.instance for v in report.violations
            if v.invariant == invariant and (step is None or v.step == step) and says in v.message}


def first(r, kind, step, attempt=None, info=None) -> dict:
    """When each instance's first `kind` event of `step` (that attempt, that info) happened."""
    out = {}
    for e in events(r, kind, step):
        if (attempt is None or e.attempt == attempt) and (info is None or e.info == info):
            out.setdefault(e.instance, e.time)
    return out
