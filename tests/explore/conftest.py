"""Exploration runs in the background (tests/explore/runs.py registers them): the ones the
selected tests use start when collection ends; tests wait for theirs."""

from __future__ import annotations

import pytest

from tests.explore.runs import JOBS
from tests.jobs import Pool


def pytest_configure(config: pytest.Config) -> None:
    JOBS.install(config)


@pytest.fixture(scope="session")
def explorations(request: pytest.FixtureRequest) -> Pool:
    return JOBS.pool(request.config)
