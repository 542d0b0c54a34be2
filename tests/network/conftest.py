"""The network tests' background jobs: each is a real run (the command line, real processes,
loopback TLS) that a test waits for; the jobs the selected tests use start together once
collection is done, so the slow runs overlap."""

from __future__ import annotations

import pytest

from tests.jobs import Pool
from tests.network.jobs import JOBS, session_pki
from tests.network.pki import Pki


def pytest_configure(config: pytest.Config) -> None:
    JOBS.install(config)


@pytest.fixture(scope="session")
def network_jobs(request: pytest.FixtureRequest) -> Pool:
    return JOBS.pool(request.config)


@pytest.fixture(scope="session")
def pki(network_jobs: Pool) -> Pki:
    return session_pki(network_jobs.root)
