"""Whether a case applies to an implementation: the features its conformance statement
declares (A6), the ixit facts and the hooks its DUT file gives. A case that does not apply is NOT
APPLICABLE, with the reason, and never runs."""

from __future__ import annotations

from conformance.dut import DutFile
from conformance.engine.model import Case
from conformance.engine.records import CaseRecord, Verdict
from conformance.engine.substitute import placeholders


def not_applicable(case: Case, name: str, reason: str) -> CaseRecord:
    """The record of a case that does not apply to its DUT."""
    return CaseRecord(
        name=name,
        case=case.id,
        title=case.title,
        role=case.role,
        verdict=Verdict.NOT_APPLICABLE,
        requirements=list(case.verified()),
        assumptions=list(case.assumptions),
        message=f"NOT APPLICABLE: {reason}",
        file=str(case.path),
        origin=case.origin,
    )


def applicability(case: Case, dut: DutFile) -> str | None:
    """Why `case` does not apply to `dut` (a feature, ixit fact or hook it lacks), or None."""
    missing = [f for f in case.requires if not f.startswith("!") and not dut.declares(f)]
    if missing:
        return f"{dut.name} does not declare {', '.join(missing)} ({dut.path.name}: features)"
    present = [f[1:] for f in case.requires if f.startswith("!") and dut.declares(f[1:])]
    if present:
        listed = ", ".join(present)
        return f"{dut.name} declares {listed}; this case is for implementations without it"
    facts = sorted(ixit_needed(case) - set(dut.ixit))
    if facts:
        return f"{dut.name} gives no ixit {', '.join(facts)} ({dut.path.name}: ixit)"
    hooks = sorted(h for h in case.hooks_needed() if not dut.has(h))
    if hooks:
        return f"{dut.name} has no {case.role}.{' / '.join(hooks)} command ({dut.path.name})"
    return None


def ixit_needed(case: Case) -> set[str]:
    """The ixit facts the case's placeholders use."""
    used = placeholders([s.data for s in case.all_steps()]) | placeholders(case.content)
    return {name.removeprefix("ixit.") for name in used if name.startswith("ixit.")}
