"""Background jobs: slow suite runs start once collection knows who needs them; tests wait."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.harness.helpers import JOBS, kill_live

WORKERS = 5  # suite runs mostly wait on their DUT processes: five at once fit two cores
JOBS_KEY = pytest.StashKey["Jobs"]()
FAILED_KEY = pytest.StashKey[bool]()


class Jobs:
    """The registered jobs of this test session, each run at most once, in its own folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="harness-job")
        self.futures: dict[str, Future[Any]] = {}

    def start(self, name: str) -> None:
        if name in self.futures:
            return
        spec = JOBS[name]
        folder = self.root / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        folder.mkdir(parents=True)
        self.futures[name] = self.pool.submit(spec.work, folder)

    def result(self, name: str) -> Any:
        """The job's result (started now if nothing started it); its exception if it failed."""
        self.start(name)
        return self.futures[name].result()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        kill_live()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "uses_job(*names): the test reads the result of these background jobs"
    )
    root = Path(tempfile.mkdtemp(prefix="dm20-harness-tests-"))
    config.stash[JOBS_KEY] = Jobs(root)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the jobs the selected tests use, heaviest first."""
    wanted: dict[str, None] = {}
    for item in session.items:
        for mark in item.iter_markers("uses_job"):
            wanted.update(dict.fromkeys(mark.args))
    jobs = session.config.stash[JOBS_KEY]
    for name in sorted(wanted, key=lambda n: -JOBS[n].weight):
        jobs.start(name)


def pytest_unconfigure(config: pytest.Config) -> None:
    jobs = config.stash.get(JOBS_KEY, None)
    if jobs is None:
        return
    jobs.close()
    if config.stash.get(FAILED_KEY, True):
        print(f"\nharness tests: background job folders kept in {jobs.root}")
    else:
        shutil.rmtree(jobs.root, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[FAILED_KEY] = exitstatus != 0


@pytest.fixture(scope="session")
def jobs(request: pytest.FixtureRequest) -> Iterator[Jobs]:
    yield request.config.stash[JOBS_KEY]
