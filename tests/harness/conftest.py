"""The harness tests' background jobs (slow suite runs, tests/harness/helpers.py registers them):
they start once collection knows who needs them; tests wait for theirs."""

from __future__ import annotations

import pytest

from tests.harness.helpers import JOBS
from tests.jobs import Pool


def pytest_configure(config: pytest.Config) -> None:
    JOBS.install(config)


@pytest.fixture(scope="session")
def jobs(request: pytest.FixtureRequest) -> Pool:
    return JOBS.pool(request.config)
