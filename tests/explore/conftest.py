"""Exploration runs in the background (tests/explore/runs.py registers them): the ones the
selected tests use start when collection ends; tests wait for theirs."""

from __future__ import annotations

import pytest

from tests.explore.runs import JOBS
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
def explorations(request: pytest.FixtureRequest) -> Pool:
    return JOBS.pool(request.config)
