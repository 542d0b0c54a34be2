"""The network tests' background jobs: each is a real run (the command line, real processes,
loopback TLS) that a test waits for; the jobs the selected tests use start together once
collection is done, so the slow runs overlap."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.network.jobs import NetworkJobs
from tests.network.pki import Pki

POOL_KEY = pytest.StashKey[NetworkJobs]()
FAILED_KEY = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "network_job(*names): the test reads the result of these network jobs"
    )


def _jobs(config: pytest.Config) -> NetworkJobs:
    if POOL_KEY not in config.stash:
        config.stash[POOL_KEY] = NetworkJobs(Path(tempfile.mkdtemp(prefix="dm20-network-tests-")))
    return config.stash[POOL_KEY]


def pytest_collection_finish(session: pytest.Session) -> None:
    wanted = {
        name
        for item in session.items
        for mark in item.iter_markers("network_job")
        for name in mark.args
    }
    if wanted:
        jobs = _jobs(session.config)
        for name in sorted(wanted):
            jobs.start(name)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[FAILED_KEY] = exitstatus != 0


def pytest_unconfigure(config: pytest.Config) -> None:
    jobs = config.stash.get(POOL_KEY, None)
    if jobs is None:
        return
    jobs.close()
    if config.stash.get(FAILED_KEY, True):
        print(f"\nnetwork tests: job folders kept in {jobs.root}")
    else:
        shutil.rmtree(jobs.root, ignore_errors=True)


@pytest.fixture(scope="session")
def network_jobs(request: pytest.FixtureRequest) -> Iterator[NetworkJobs]:
    yield _jobs(request.config)


@pytest.fixture(scope="session")
def pki(network_jobs: NetworkJobs) -> Pki:
    return network_jobs.pki
