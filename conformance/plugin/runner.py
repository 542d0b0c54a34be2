"""What every case run shares, whichever role the harness plays: the substitution table, the
requirements a step verifies, turning judge findings and mismatches into verdicts, `save`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import allure

from conformance.catalog import Catalog
from conformance.core.judge import FAIL, INFO, Finding
from conformance.dut import DutFile
from conformance.plugin.cases import Case, Step
from conformance.plugin.matching import mismatches, pick
from conformance.plugin.substitute import SubstitutionError, flatten, profile_names, substitute
from conformance.profiles import Profile
from conformance.report.allure_support import attach_exchange
from conformance.roles.exchange import HttpExchange
from conformance.verdicts import CaseError, Inconclusive, NonConformance, Verdict


@dataclass
class CaseResult:
    """How a case ended when it did not raise: PASS or INFORMATIONAL, with what it noticed."""

    verdict: Verdict
    infos: list[Finding] = field(default_factory=list)
    observations: list[Finding] = field(default_factory=list)
    exchanges: list[HttpExchange] = field(default_factory=list)


@dataclass
class Settings:
    """Everything a run of one case needs from outside the case file."""

    dut: DutFile
    profile: Profile
    catalog: Catalog
    workdir: Path
    timeout_s: float
    stop: threading.Event = field(default_factory=threading.Event)  # set: the run is stopping


class CaseRun:
    """One run of one case (one parameter set); subclasses add the role's steps."""

    def __init__(self, case: Case, params: dict[str, Any], settings: Settings) -> None:
        self.case = case
        self.settings = settings
        self.profile = settings.profile
        self.timeout_s = settings.timeout_s
        self.names: dict[str, Any] = {
            **profile_names(settings.profile),
            **flatten("ixit", settings.dut.ixit),
            **params,
        }
        self.result = CaseResult(Verdict.PASS)
        self.step: Step | None = None
        self.attached = 0  # exchanges already attached to the Allure steps

    # -- the steps -----------------------------------------------------------------------------
    def run(self) -> CaseResult:
        """Run every step in order; raise a CaseOutcome for any verdict but PASS/INFORMATIONAL."""
        for step in self.case.steps:
            self.step = step
            with allure.step(step.label):
                try:
                    getattr(self, f"step_{step.action}" + (f"_{step.what}" if step.what else ""))(
                        step
                    )
                finally:
                    for exchange in self.transcript()[self.attached :]:
                        attach_exchange(exchange)
                    self.attached = len(self.transcript())
        self.step = None
        if self.result.infos:
            self.result.verdict = Verdict.INFORMATIONAL
        return self.result

    def transcript(self) -> list[HttpExchange]:
        """Every exchange of the case so far, in order; the role runners say where they are."""
        return []

    @property
    def label(self) -> str:
        return self.step.label if self.step else "end of case"

    def check_stop(self) -> None:
        """End the case now if the run is stopping (a signal): its wait would hold the run up."""
        if self.settings.stop.is_set():
            self.fail(
                ["the run was stopped (a signal) while waiting for the implementation"],
                inconclusive=True,
            )

    def sub(self, value: Any) -> Any:
        """`value` with the case's placeholders filled in."""
        try:
            return substitute(value, self.names)
        except SubstitutionError as exc:
            raise CaseError(self.label, [str(exc)]) from None

    def scope(self, step: Step | None = None) -> tuple[str, ...]:
        """The requirements a step verifies: its own `verifies`, else the case's."""
        step = step or self.step
        return (
            tuple(step.data.get("verifies") or self.case.requirements)
            if step
            else self.case.requirements
        )

    def requirements(self, ids: tuple[str, ...] | list[str]) -> tuple:
        catalog = self.settings.catalog
        return tuple(catalog[i] for i in dict.fromkeys(ids) if i in catalog)

    # -- verdicts ------------------------------------------------------------------------------
    def fail(
        self,
        problems: list[str],
        *,
        ids: tuple[str, ...] | None = None,
        expected: Any = None,
        received: Any = None,
        exchanges: tuple[HttpExchange, ...] = (),
        output: str = "",
        inconclusive: bool = False,
    ) -> None:
        kind = Inconclusive if inconclusive else NonConformance
        raise kind(
            self.label,
            problems,
            self.requirements(ids or self.scope()),
            expected,
            received,
            exchanges,
            output,
        )

    def judge(
        self, findings: list[Finding], exchanges: tuple[HttpExchange, ...] = (), output: str = ""
    ) -> None:
        """Findings on requirements this step verifies fail the case; findings on others are
        kept as observations; `info` findings make the verdict INFORMATIONAL."""
        scope = set(self.scope())
        failing = [f for f in findings if f.grade == FAIL and f.requirement in scope]
        self.result.observations += [
            f for f in findings if f.grade == FAIL and f.requirement not in scope
        ]
        self.result.infos += [f for f in findings if f.grade == INFO and f not in self.result.infos]
        if failing:
            self.fail(
                [str(f) for f in failing],
                ids=tuple(f.requirement for f in failing),
                exchanges=exchanges,
                output=output,
            )

    def match(
        self,
        expected: Any,
        received: Any,
        exchanges: tuple[HttpExchange, ...] = (),
        output: str = "",
    ) -> None:
        """Fail the step unless `received` matches `expected` (partially, see matching.py)."""
        problems = mismatches(expected, received)
        if problems:
            self.fail(
                problems, expected=expected, received=received, exchanges=exchanges, output=output
            )

    def save(self, step: Step, view: Any) -> None:
        """Keep the values a step's `save` names, for later steps' placeholders."""
        for name, path in (step.data.get("save") or {}).items():
            try:
                self.names[name] = pick(view, path)
            except KeyError as exc:
                self.fail([f"save {name}: {exc}"], received=view)

    def expected_statuses(self, statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A case's statuses (`code` a profile status name or a number) as the received view."""
        out = []
        for status in self.sub(statuses):
            code = status["code"]
            if isinstance(code, str):
                if code not in self.profile.status:
                    raise CaseError(
                        self.label,
                        [f"unknown status name {code!r} ({', '.join(self.profile.status)})"],
                    )
                code = self.profile.status[code]
            out.append({**status, "code": code})
        return out

    def expected_alerts(self, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A case's alerts (`type` a profile alert name or a URN) as the received view."""
        return [
            {**a, "type": self.profile.alerts.get(a["type"], a["type"])} for a in self.sub(alerts)
        ]
