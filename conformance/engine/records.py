"""What a case run leaves behind, as types: the verdict, the findings filed by the ID they break,
and the record of one case run that every report reads (results/*.jsonl, report.json, Allure,
junit). Verdicts are graded as conformance suites grade them: PASS, FAIL (the implementation does
not conform), INCONCLUSIVE (it never got to the point under test), NOT APPLICABLE (it does not
declare what the case needs), ERROR (the case or the harness failed) and INFORMATIONAL (it passed,
with a finding that is no failure, such as A3)."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Verdict(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"
    NOT_APPLICABLE = "NOT APPLICABLE"
    ERROR = "ERROR"
    INFORMATIONAL = "INFORMATIONAL"

    @property
    def failing(self) -> bool:
        """Whether the verdict fails a run (unless the gate waives it)."""
        return self in (Verdict.FAIL, Verdict.ERROR, Verdict.INCONCLUSIVE)

    @property
    def passing(self) -> bool:
        return self in (Verdict.PASS, Verdict.INFORMATIONAL)


# How verdicts roll up: the worst of them, in this order.
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


class Origin(enum.StrEnum):
    """Where a case comes from: the suite itself, or a vendor's folder (`--cases`)."""

    OFFICIAL = "official"
    VENDOR = "vendor"


@dataclass
class FindingRecord:
    """A rule seen broken (or remarked on) in a case: filed under `basis`, counted where it
    repeated, with the first time it was seen."""

    basis: str  # the requirement or assumption it breaks
    rule: str  # the rule's key (core/rules.py), or "case" for a case's own expectation
    message: str
    grade: str  # "fail" | "info"
    step: str  # where it was first seen
    count: int = 1

    @property
    def failed(self) -> bool:
        return self.grade == "fail"

    def __str__(self) -> str:
        times = f" (seen {self.count} times)" if self.count > 1 else ""
        return f"[{self.basis}] {self.message}{times}"


@dataclass
class CaseRecord:
    """One case run (one parameter set): its verdict, what it verified, what it broke."""

    name: str  # case ID with its parameters, e.g. DM20-C-DEFAULT-001[who=User]
    case: str
    title: str
    role: str
    verdict: Verdict
    requirements: list[str] = field(default_factory=list)  # what the case verifies
    assumptions: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # IDs it saw broken (its own and observed)
    passed: list[str] = field(default_factory=list)  # IDs it exercised and saw kept
    findings: list[FindingRecord] = field(default_factory=list)
    message: str = ""  # the failure, as a person reads it; the reason when not applicable
    seconds: float = 0.0
    file: str = ""
    origin: Origin = Origin.OFFICIAL
    nodeid: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["origin"] = self.origin.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseRecord:
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        values["verdict"] = Verdict(data["verdict"])
        values["origin"] = Origin(data.get("origin", Origin.OFFICIAL.value))
        values["findings"] = [FindingRecord(**f) for f in data.get("findings", [])]
        return cls(**values)

    @property
    def infos(self) -> list[FindingRecord]:
        return [f for f in self.findings if not f.failed]
