"""The pytest nodes: a case file collects one item per case and parameter set, named by the case
ID (node ID `client/get.yaml::DM20-C-GET-001`, so `-k DM20-C-GET-001` selects it). An item skips
itself as NOT APPLICABLE when the DUT lacks what the case requires, runs the case in the
harness's role, and prints a failure as step, requirement, expected beside received, and the
HTTP exchange."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.inputs import InputError
from conformance.plugin.cases import Case, load_case_file
from conformance.plugin.client_role import ClientRoleRun
from conformance.plugin.runner import CaseResult, Settings
from conformance.plugin.server_role import ServerRoleRun
from conformance.report.allure_support import case_marks, dynamic_labels
from conformance.verdicts import CaseOutcome

if TYPE_CHECKING:
    from conformance.plugin.session import HarnessSession


def level_marker(level: str) -> str:
    """`MUST NOT` -> `MUST_NOT`: a requirement level as a marker name."""
    return level.replace(" ", "_")


class CaseFile(pytest.File):
    """A YAML case file."""

    def collect(self) -> list[CaseItem]:
        harness: HarnessSession = self.config.stash[HARNESS]
        try:
            cases = load_case_file(self.path, harness.catalog, harness.profile)
        except InputError as exc:
            raise CaseFileError(str(exc)) from None
        items = []
        for case in cases:
            for suffix, params in case.variants():
                name = f"{case.id}[{suffix}]" if suffix else case.id
                items.append(CaseItem.from_parent(self, name=name, case=case, params=params))
        return items

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFileError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class CaseFileError(Exception):
    """A case file that cannot be used; the message names file, line and problem."""


class CaseItem(pytest.Item):
    """One case with one parameter set."""

    def __init__(self, *, case: Case, params: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.params = params
        self.result: CaseResult | None = None
        self.outcome: CaseOutcome | None = None
        harness: HarnessSession = self.config.stash[HARNESS]
        self.add_marker(case.role)
        named = case.commands_used() | {f.lstrip("!") for f in case.requires}
        for command in sorted(c for c in named if harness.profile.command(c)):
            self.add_marker(command)
        for requirement in case.requirements:
            entry = harness.catalog.get(requirement)
            if entry:
                self.add_marker(level_marker(entry.level))
        for mark in case_marks(case, harness.catalog):
            self.add_marker(mark)
        self.extra_keyword_matches.update(case.requirements)  # -k DM20-6.3-002 selects
        self.user_properties += [
            ("case", case.id),
            ("title", case.title),
            ("role", case.role),
            ("requirements", " ".join(case.requirements)),
            ("assumptions", " ".join(case.assumptions)),
        ]

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, (self.case.line or 1) - 1, f"{self.name}: {self.case.title}"

    def setup(self) -> None:
        harness: HarnessSession = self.config.stash[HARNESS]
        reason = harness.not_applicable(self.case)
        if reason:
            pytest.skip(f"NOT APPLICABLE: {reason}")

    def runtest(self) -> None:
        harness: HarnessSession = self.config.stash[HARNESS]
        dynamic_labels(self.case, harness.catalog, self.params)
        dut = harness.dut_for(self.case.role)
        settings = Settings(
            dut,
            harness.profile,
            harness.catalog,
            harness.workdir(self.name),
            harness.timeout_for(dut),
            harness.stop,
        )
        if self.case.role == "client":
            run = ClientRoleRun(self.case, self.params, settings)
        else:
            run = ServerRoleRun(self.case, self.params, settings, harness.server_under_test())
        try:
            self.result = run.run()
        except CaseOutcome as outcome:
            self.outcome = outcome
            self.result = run.result
            raise

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseOutcome):
            text = f"{self.name}: {self.case.title}\n" + excinfo.value.report()
            observations = self.result.observations if self.result else []
            if observations:
                text += "\n  observations (requirements this case does not verify):"
                text += "".join(f"\n    - {o}" for o in observations)
            return text
        return super().repr_failure(excinfo, style=style)


HARNESS = pytest.StashKey["HarnessSession"]()
