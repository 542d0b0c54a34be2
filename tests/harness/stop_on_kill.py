"""Plugin for the mutant runs: `--stop-on-kill ID` stops the run at the first case record that
kills the mutant (`killed_by`: FAIL, ID in its `failed` list and named in its message)."""

from __future__ import annotations

import pytest

from conformance.engine.records import CaseRecord, Verdict
from conformance.plugin.hooks import RECORD_PROPERTY

STOPPED = "the mutant was killed by"
_SESSION: list[pytest.Session] = []


def kills(record: CaseRecord, requirement: str) -> bool:
    """Whether `record` kills a mutant that breaks `requirement`: the case FAILed, saw the
    requirement broken (its own or observed on the way) and its message names it."""
    return (
        record.verdict is Verdict.FAIL
        and requirement in record.failed
        and requirement in record.message
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--stop-on-kill", metavar="REQUIREMENT", help="stop at the first kill")


def pytest_sessionstart(session: pytest.Session) -> None:
    _SESSION[:] = [session]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not _SESSION:
        return
    session = _SESSION[0]
    requirement = session.config.getoption("stop_on_kill")
    if not requirement:
        return
    for name, value in report.user_properties:
        if name == RECORD_PROPERTY and kills(CaseRecord.from_json(value), requirement):
            session.shouldstop = f"{STOPPED} {report.nodeid}"
