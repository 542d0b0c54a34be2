"""The pytest nodes: a case file collects one item per case and parameter set, named by the case
ID (node ID `client/get.yaml::DM20-C-GET-001`, so `-k DM20-C-GET-001` selects it). An item skips
itself as NOT APPLICABLE when the DUT lacks what the case requires, runs the case through the
engine, and shows its failure as the engine wrote it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.engine.applicability import not_applicable
from conformance.engine.harness import Harness
from conformance.engine.loader import dedupe, load_case_file
from conformance.engine.model import Case
from conformance.engine.records import CaseRecord, Origin, Verdict
from conformance.inputs import InputError, Problem
from conformance.report.allure_support import AllureSteps, case_marks

HARNESS = pytest.StashKey[Harness]()


def vendor_roots(config: pytest.Config) -> list[Path]:
    """The vendor case folders of the run (`--cases`)."""
    return [Path(d).resolve() for d in config.getoption("cases")]


def level_marker(level: str) -> str:
    """`MUST NOT` -> `MUST_NOT`: a requirement level as a marker name."""
    return level.replace(" ", "_")


class CaseFile(pytest.File):
    """A YAML case file."""

    def collect(self) -> list[CaseItem]:
        harness = self.config.stash[HARNESS]
        resolved = self.path.resolve()
        vendor = any(resolved.is_relative_to(root) for root in vendor_roots(self.config))
        origin = Origin.VENDOR if vendor else Origin.OFFICIAL
        try:
            cases = load_case_file(self.path, harness.catalog, harness.profile, origin)
        except InputError as exc:
            raise CaseFileError(str(exc)) from None
        items = []
        for case in cases:
            for (_, params), name in zip(case.variants(), case.run_names(), strict=True):
                items.append(CaseItem.from_parent(self, name=name, case=case, params=params))
        return items

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CaseFileError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class CaseFileError(Exception):
    """A case file that cannot be used; the message names file, line and problem."""


class CaseFailed(AssertionError):
    """A case run that ended with a verdict that fails: its record says how."""

    def __init__(self, record: CaseRecord) -> None:
        super().__init__(f"{record.verdict.value}: {record.name}")
        self.record = record


class CaseItem(pytest.Item):
    """One case with one parameter set."""

    def __init__(self, *, case: Case, params: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.params = params
        self.record: CaseRecord | None = None
        harness = self.config.stash[HARNESS]
        self.add_marker(case.role)
        named = case.commands_used() | {f.lstrip("!") for f in case.requires}
        for command in sorted(c for c in named if harness.profile.command(c)):
            self.add_marker(command)
        for requirement in case.verified():
            entry = harness.catalog.get(requirement)
            if entry:
                self.add_marker(level_marker(entry.level))
        for mark in case_marks(case, harness.catalog):
            self.add_marker(mark)
        self.extra_keyword_matches.update(case.verified())  # -k DM20-6.3-002 selects

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, (self.case.line or 1) - 1, f"{self.name}: {self.case.title}"

    def setup(self) -> None:
        reason = self.config.stash[HARNESS].not_applicable(self.case)
        if reason:
            self.record = not_applicable(self.case, self.name, reason)
            pytest.skip(f"NOT APPLICABLE: {reason}")

    def runtest(self) -> None:
        harness = self.config.stash[HARNESS]
        self.record = harness.run_case(self.case, self.params, self.name, [AllureSteps()])
        if self.record.verdict.failing:
            raise CaseFailed(self.record)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CaseFailed):
            return f"{self.name}: {self.case.title}\n{excinfo.value.record.message}"
        return super().repr_failure(excinfo, style=style)

    def record_for(self, report: pytest.TestReport) -> CaseRecord | None:
        """The record a report of this item carries (setup: not applicable or an error)."""
        record = None
        if report.when == "setup" and report.skipped:
            record = self.record
        elif report.when == "setup" and report.failed:
            record = CaseRecord(
                self.name, self.case.id, self.case.title, self.case.role, Verdict.ERROR,
                message=report.longreprtext,
            )  # fmt: skip
        elif report.when == "call":
            record = self.record or CaseRecord(
                self.name, self.case.id, self.case.title, self.case.role,
                Verdict.ERROR if report.failed else Verdict.PASS, message=report.longreprtext,
            )  # fmt: skip
        if record is not None:
            record.nodeid = report.nodeid
            record.seconds = round(report.duration, 3)
            record.origin = self.case.origin
            record.file = str(self.case.path)
        return record


def dedupe_items(items: list[pytest.Item]) -> list[Problem]:
    """Drop official items a vendor case overrides; every other ID used twice is a problem."""
    cases = list({id(i.case): i.case for i in items if isinstance(i, CaseItem)}.values())
    kept, problems = dedupe(cases, [])
    keep = {id(c) for c in kept}
    items[:] = [i for i in items if not isinstance(i, CaseItem) or id(i.case) in keep]
    return problems
