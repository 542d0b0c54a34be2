"""Plugin for the mutant runs: `--stop-on-kill ID` stops at the first FAIL naming ID."""

from __future__ import annotations

import pytest

STOPPED = "the mutant was killed by"
_SESSION: list[pytest.Session] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--stop-on-kill", metavar="REQUIREMENT", help="stop at the first kill")


def pytest_sessionstart(session: pytest.Session) -> None:
    _SESSION[:] = [session]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not _SESSION:
        return
    session = _SESSION[0]
    requirement = session.config.getoption("stop_on_kill")
    properties = dict(report.user_properties)
    if (
        requirement
        and properties.get("verdict") == "FAIL"
        and requirement in str(properties.get("requirements", "")).split()
        and requirement in report.longreprtext
    ):
        session.shouldstop = f"{STOPPED} {report.nodeid}"
