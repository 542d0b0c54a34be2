"""The harness tests' background jobs (slow suite runs, tests/harness/helpers.py registers them):
they start once collection knows who needs them; tests wait for theirs."""

from __future__ import annotations

import pytest

from tests.harness.helpers import JOBS
from tests.jobs import Pool


def pytest_configure(config: pytest.Config) -> None:
    JOBS.configure(config)


def pytest_collection_finish(session: pytest.Session) -> None:
    JOBS.collected(session)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    JOBS.finished(session, exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    JOBS.unconfigure(config)


@pytest.fixture(scope="session")
def jobs(request: pytest.FixtureRequest) -> Pool:
    return JOBS.pool(request.config)
