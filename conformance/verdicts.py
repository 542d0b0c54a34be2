"""Verdicts as conformance suites grade them, and the exceptions that carry them out of a case:
PASS, FAIL (the implementation does not conform), INCONCLUSIVE (it never got to the point under
test), NOT APPLICABLE (a feature it does not declare), ERROR (the harness or the environment
failed) and INFORMATIONAL (it passed, with a finding that is no failure, such as A3)."""

from __future__ import annotations

import enum
import json
from typing import Any

from conformance.catalog import Requirement
from conformance.roles.exchange import HttpExchange


class Verdict(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    NOT_APPLICABLE = "NOT APPLICABLE"
    ERROR = "ERROR"
    INFORMATIONAL = "INFORMATIONAL"


# How verdicts roll up into a requirement's verdict: the worst of its cases, in this order.
SEVERITY = [
    Verdict.ERROR,
    Verdict.FAIL,
    Verdict.INCONCLUSIVE,
    Verdict.INFORMATIONAL,
    Verdict.PASS,
    Verdict.NOT_APPLICABLE,
]


def worst(verdicts: list[Verdict]) -> Verdict:
    """The verdict that decides a roll-up (NOT APPLICABLE when there is nothing)."""
    return min(verdicts, key=SEVERITY.index, default=Verdict.NOT_APPLICABLE)


MAX_LINES = 120  # of each side of an expected/received comparison


def _block(value: Any) -> list[str]:
    if value is None:
        return ["(nothing)"]
    if isinstance(value, str):
        lines = value.splitlines() or [""]
    else:
        lines = json.dumps(value, indent=2, ensure_ascii=False, default=str).splitlines()
    lines = [line if len(line) <= 300 else line[:299] + "…" for line in lines[:MAX_LINES]]
    return lines + ([f"… ({MAX_LINES} lines shown)"] if len(lines) == MAX_LINES else [])


def side_by_side(expected: Any, received: Any, width: int = 48) -> str:
    """Expected and received in two columns, as a person compares them."""
    left, right = _block(expected), _block(received)
    rows = [f"  {'expected':<{width}} | received", f"  {'-' * width} | {'-' * width}"]
    for index in range(max(len(left), len(right))):
        a = left[index] if index < len(left) else ""
        b = right[index] if index < len(right) else ""
        if len(a) > width:
            a = a[: width - 1] + "…"
        rows.append(f"  {a:<{width}} | {b}")
    return "\n".join(rows)


class CaseOutcome(Exception):
    """Base of the exceptions that end a case with a verdict other than PASS."""

    verdict = Verdict.ERROR

    def __init__(
        self,
        step: str,
        problems: list[str],
        requirements: tuple[Requirement, ...] = (),
        expected: Any = None,
        received: Any = None,
        exchanges: tuple[HttpExchange, ...] = (),
        output: str = "",
    ) -> None:
        self.step = step
        self.problems = problems
        self.requirements = requirements
        self.expected = expected
        self.received = received
        self.exchanges = exchanges
        self.output = output
        super().__init__(f"{self.verdict.value} at {step}: {'; '.join(problems)}")

    def report(self) -> str:
        """The failure as Tavern prints one: step, requirements, problems, expected beside
        received, the HTTP exchange, what the implementation printed."""
        lines = [f"{self.verdict.value} at {self.step}"]
        for requirement in self.requirements:
            lines.append(
                f"  requirement {requirement.id} ({requirement.level}, binds {requirement.binds}): "
                f"\u201c{requirement.text}\u201d"
                + (f" [{requirement.detail}]" if requirement.detail else "")
            )
        lines.append("  problems:")
        lines += [f"    - {p}" for p in self.problems]
        if self.expected is not None or self.received is not None:
            lines.append(side_by_side(self.expected, self.received))
        for exchange in self.exchanges:
            lines.append("  HTTP exchange:")
            lines.append("    " + exchange.describe().replace("\n", "\n    "))
        if self.output:
            lines.append("  implementation output (last lines):")
            lines.append("    " + self.output.strip().replace("\n", "\n    "))
        return "\n".join(lines)


class NonConformance(CaseOutcome, AssertionError):
    """The implementation broke a requirement: FAIL."""

    verdict = Verdict.FAIL


class Inconclusive(CaseOutcome):
    """The implementation never reached the point under test: INCONCLUSIVE."""

    verdict = Verdict.INCONCLUSIVE


class CaseError(CaseOutcome):
    """The case itself cannot run as written (a send with nothing to answer…): ERROR."""

    verdict = Verdict.ERROR
