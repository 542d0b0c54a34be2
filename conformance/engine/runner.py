"""What every case run shares, whichever role the harness plays: the substitution table, the
dispatch of each step to its kind's handler (engine/steps.py), the rules the core saw broken on
the way (every one counts, filed under its own ID), the case's own expectations with each
mismatch filed under the ID it breaks, `save`, and the record the run ends with."""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

from conformance.catalog import Catalog
from conformance.core import rules
from conformance.core.judge import MAX_REORDERED, pairing
from conformance.core.rules import Finding
from conformance.dut import DutFile
from conformance.engine.events import Listener
from conformance.engine.matching import mismatches, pick
from conformance.engine.model import Case, Step
from conformance.engine.operator import Operator
from conformance.engine.outcomes import Problem, StepFailure, explain
from conformance.engine.records import CaseRecord, FindingRecord, Verdict
from conformance.engine.substitute import SubstitutionError, flatten, profile_names, substitute
from conformance.profiles import Profile
from conformance.roles.exchange import HttpExchange
from conformance.roles.network import Network

CASE_RULE = "case"  # the rule of a finding that is a case's own expectation


@dataclass
class Settings:
    """Everything a run of one case needs from outside the case file."""

    dut: DutFile
    profile: Profile
    catalog: Catalog
    workdir: Path
    timeout_s: float
    stop: threading.Event = field(default_factory=threading.Event)  # set: the run is stopping
    listener: Listener = field(default_factory=Listener)
    names: dict[str, Any] = field(default_factory=dict)  # extra placeholders (server_url, …)
    network: Network = field(default_factory=Network)  # where the reference server listens
    operator: Operator = field(default_factory=Operator)  # who carries out manual steps
    case_name: str = ""  # the case with its parameters, as reports name it


def in_another_order(expected: list[Any], received: list[Any]) -> list[int] | None:
    """Where the received items (statuses, INCLUDE parts) are the expected ones in another order:
    for each expected item, the index of the received one that matches it; None otherwise."""
    if len(received) != len(expected) or len(received) > MAX_REORDERED:
        return None
    paired = pairing(len(expected), lambda e, r: not mismatches(expected[e], received[r]))
    return None if paired is None else [paired[e] for e in range(len(expected))]


class CaseRun:
    """One run of one case (one parameter set); the role runners add the steps' handlers."""

    def __init__(self, case: Case, params: dict[str, Any], settings: Settings) -> None:
        self.case = case
        self.params = params
        self.settings = settings
        self.profile = settings.profile
        self.timeout_s = settings.timeout_s
        self.names: dict[str, Any] = {
            **profile_names(settings.profile),
            **flatten("ixit", settings.dut.ixit),
            **settings.names,
            **params,
        }
        self.step: Step | None = None
        self.observed: dict[tuple[str, str], FindingRecord] = {}
        self.completed: list[Step] = []
        self.reported: set[int] = set()  # exchanges already handed to the listener (by id)

    # -- running -------------------------------------------------------------------------------
    def run(self) -> CaseRecord:
        """Run every step in order; the record says how it ended (it never raises)."""
        self.settings.listener.case_started(self.case, self.params)
        started = time.monotonic()
        failure: StepFailure | None = None
        try:
            self.execute()
        except StepFailure as exc:
            failure = exc
        except Exception as exc:  # a harness defect must not end the run: ERROR, with the trace
            failure = StepFailure(
                Verdict.ERROR,
                self.label,
                [Problem((), f"the harness failed: {type(exc).__name__}: {exc}")],
                notes=[traceback.format_exc(limit=6)],
            )
        finally:
            self.report_exchanges(finished=True)
        record = self.record(failure, time.monotonic() - started)
        self.settings.listener.case_ended(record)
        return record

    def execute(self) -> None:
        """The role's run of the steps (with whatever it needs around them)."""
        self.run_steps(self.case.steps)

    def bind_params(self) -> None:
        """Fill the placeholders inside the parameter values (a value may name a URL or fact
        known only once the run has started)."""
        for name, value in self.params.items():
            self.names[name] = self.sub(value)

    def run_steps(self, steps: tuple[Step, ...]) -> None:
        for step in steps:
            self.run_step(step)

    def run_step(self, step: Step) -> None:
        outer, self.step = self.step, step
        listener = self.settings.listener
        listener.step_started(step.label)
        problem = None
        try:
            getattr(self, step.kind.handler)(step)
            self.completed.append(step)
        except StepFailure as exc:
            problem = str(exc)
            raise
        finally:
            self.report_exchanges()
            listener.step_ended(step.label, problem)
            self.step = outer

    def transcript(self, finished: bool = False) -> list[HttpExchange]:
        """The exchanges of the case so far that are complete (every one once the case is
        `finished`), in order; the role runners say where they are."""
        return []

    def report_exchanges(self, finished: bool = False) -> None:
        """Hand the listener each exchange once, when it is complete: a request the harness
        answers in a later step is reported with that step, its answer and all."""
        for exchange in self.transcript(finished):
            if id(exchange) not in self.reported:
                self.reported.add(id(exchange))
                self.settings.listener.exchange(exchange)

    @property
    def label(self) -> str:
        return self.step.label if self.step else "the start of the case"

    def check_stop(self) -> None:
        """End the case now if the run is stopping (a signal): its wait would hold the run up."""
        if self.settings.stop.is_set():
            self.fail(
                [
                    Problem(
                        (), "the run was stopped (a signal) while waiting for the implementation"
                    )
                ],
                verdict=Verdict.INCONCLUSIVE,
            )

    def sub(self, value: Any) -> Any:
        """`value` with the case's placeholders filled in."""
        try:
            return substitute(value, self.names)
        except SubstitutionError as exc:
            self.fail([Problem((), str(exc))], verdict=Verdict.ERROR)

    def scope(self, step: Step | None = None) -> tuple[str, ...]:
        """The IDs a step verifies: its own `verifies`, else the case's requirements."""
        step = step or self.step
        return (step.verifies if step else ()) or self.case.requirements

    # -- verdicts ------------------------------------------------------------------------------
    def fail(
        self,
        problems: list[Problem],
        *,
        verdict: Verdict = Verdict.FAIL,
        expected: Any = None,
        received: Any = None,
        exchanges: tuple[HttpExchange, ...] = (),
        output: str = "",
    ) -> NoReturn:
        raise StepFailure(verdict, self.label, problems, expected, received, exchanges, output)

    def problem(self, text: str, bases: tuple[str, ...] | None = None) -> Problem:
        """A problem of the step that is running, filed under `bases` (default: its scope) but
        never under a MAY sentence the scope names: that is exercised, it cannot be broken (the
        loader sees that a scope names something else too)."""
        catalog = self.settings.catalog
        scope = self.scope() if bases is None else bases
        kept = tuple(b for b in scope if not ((e := catalog.get(b)) and e.permission))
        return Problem(kept, text)

    def observe(self, findings: list[Finding]) -> None:
        """Keep what the core saw: every rule broken counts, under its own ID, whatever the case
        verifies; a remark that is no failure (A3) is kept as information. A rule resting on an
        assumption the profile relaxes (`relaxed:`) is not applied."""
        for finding in rules.in_force(findings, self.profile):
            key = (finding.rule.key, finding.message)
            if key in self.observed:
                self.observed[key].count += 1
            else:
                self.observed[key] = FindingRecord(
                    finding.requirement,
                    finding.rule.key,
                    finding.message,
                    finding.grade.value,
                    self.label,
                )

    def withdraw(self, findings: list[Finding]) -> None:
        """Take back what `observe` kept of `findings`: a case showed the premise they were
        judged on (status i is command i's) to be what is wrong."""
        for finding in findings:
            key = (finding.rule.key, finding.message)
            record = self.observed.get(key)
            if record is not None:
                record.count -= 1
                if record.count == 0:
                    del self.observed[key]

    def match(
        self,
        expected: dict[str, Any],
        received: dict[str, Any],
        exchanges: tuple[HttpExchange, ...] = (),
        output: str = "",
        statuses: tuple[Any, Any] | None = None,
    ) -> None:
        """Fail the step unless `received` matches `expected` (partially, see matching.py).
        `statuses` (expected, received) are compared apart: a wrong count is P1.3, statuses that
        fit only in another order are seed 6.3's order, any other wrong status the step's own IDs
        but seed 6.3's order (A5 where that is all the step verifies)."""
        problems = [self.problem(text) for text in mismatches(expected, received)]
        if statuses is not None:
            problems += self.status_problems(*statuses)
            expected = {**expected, "statuses": statuses[0]}
            received = {**received, "statuses": statuses[1]}
        if problems:
            self.fail(
                problems, expected=expected, received=received, exchanges=exchanges, output=output
            )

    def status_problems(self, expected: list[Any], received: list[Any] | None) -> list[Problem]:
        received = received if received is not None else []
        if len(received) != len(expected):
            return [
                Problem.of(
                    rules.STATUS_COUNT,
                    f"{len(received)} statuses where the case expects {len(expected)}",
                )
            ]
        found = mismatches(expected, received, "statuses")
        if not found:
            return []
        if in_another_order(expected, received) is not None:
            return [
                Problem.of(
                    rules.STATUS_ORDER,
                    "the statuses are those the case expects, in another order: "
                    + "; ".join(found),
                )
            ]
        # A wrong code is no wrong order: filed under the step's other IDs, else under A5.
        bases = tuple(b for b in self.scope() if b != rules.STATUS_ORDER.basis)
        row = "A5 gives each command its status codes"
        problems = [self.problem(f"{text} ({row})", bases) for text in found]
        return [p if p.bases else replace(p, bases=(rules.STATUS_CODE.basis,)) for p in problems]

    def save(self, step: Step, view: Any) -> None:
        """Keep the values a step's `save` names, for later steps' placeholders."""
        for name, path in (step.data.get("save") or {}).items():
            try:
                self.names[name] = pick(view, path)
            except KeyError as exc:
                self.fail([self.problem(f"save {name}: {exc}")], received=view)

    def code_of(self, code: Any) -> Any:
        """A case's status code (a profile status name, a number, or `{$in: [...]}` of them)
        as the received view writes it."""
        if isinstance(code, dict) and set(code) == {"$in"}:
            return {"$in": [self.code_of(c) for c in code["$in"]]}
        if isinstance(code, str):
            if code not in self.profile.status:
                self.fail(
                    [
                        Problem(
                            (), f"unknown status name {code!r} ({', '.join(self.profile.status)})"
                        )
                    ],
                    verdict=Verdict.ERROR,
                )
            return self.profile.status[code]
        return code

    def expected_statuses(self, statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A case's statuses as the received view writes them."""
        return [{**s, "code": self.code_of(s["code"])} for s in self.sub(statuses)]

    def expected_alerts(self, alerts: Any) -> Any:
        """A case's alerts (`type` a profile alert name or a URN) as the received view; a list
        (those alerts, exactly) or `{$contains: alert}` (that one among others)."""
        if isinstance(alerts, dict) and set(alerts) == {"$contains"}:
            return {"$contains": self.expected_alerts([alerts["$contains"]])[0]}
        return [
            {**a, "type": self.profile.alerts.get(a["type"], a["type"])} for a in self.sub(alerts)
        ]

    # -- the record ----------------------------------------------------------------------------
    def exercised(self, failure: StepFailure | None) -> list[str]:
        """The IDs the run checked to the end: every ID of a case that ran to its end; of one
        that stopped, the IDs of the steps that completed and named them in `verifies`."""
        if failure is None:
            return list(self.case.verified())
        found: dict[str, None] = {}
        for step in self.completed:
            found.update(dict.fromkeys(step.verifies))
        return list(found)

    def record(self, failure: StepFailure | None, seconds: float) -> CaseRecord:
        observed = list(self.observed.values())
        broken = [f for f in observed if f.failed]
        failed: dict[str, None] = {}
        if failure is not None and failure.verdict is Verdict.FAIL:
            for problem in failure.problems:
                failed.update(dict.fromkeys(problem.bases))
        failed.update(dict.fromkeys(f.basis for f in broken))
        if failure is not None:
            verdict = failure.verdict
        elif broken:
            verdict = Verdict.FAIL
        elif observed:
            verdict = Verdict.INFORMATIONAL
        else:
            verdict = Verdict.PASS
        message = ""
        if failure is not None or broken:
            message = explain(failure, observed, self.settings.catalog, self.profile)
        passed = [i for i in self.exercised(failure) if i not in failed]
        own = []
        if failure is not None and failure.verdict is Verdict.FAIL:
            own = [
                FindingRecord(b, p.rule or CASE_RULE, p.text, "fail", failure.step)
                for p in failure.problems
                for b in p.bases
            ]
        return CaseRecord(
            name="",
            case=self.case.id,
            title=self.case.title,
            role=self.case.role,
            verdict=verdict,
            requirements=list(self.case.verified()),
            assumptions=list(self.case.assumptions),
            failed=list(failed),
            passed=passed,
            findings=own + observed,
            message=message,
            seconds=round(seconds, 3),
            file=str(self.case.path),
            origin=self.case.origin,
        )
