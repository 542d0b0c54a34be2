"""The registry of the network tests' background jobs (conftest.py starts them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.harness.helpers import kill_live
from tests.network.pki import Pki, make_pki

Work = Callable[[Path, Pki], Any]
JOBS: dict[str, Work] = {}
WORKERS = 6  # the runs mostly wait on their DUT processes


def network_job(name: str) -> Callable[[Work], Work]:
    """Register `work(folder, pki)` as the job `name`; a test marked
    `@pytest.mark.network_job(name)` gets its result from `network_jobs.result(name)`."""

    def register(work: Work) -> Work:
        JOBS[name] = work
        return work

    return register


class NetworkJobs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pki = make_pki(root / "pki")
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="network-job")
        self.futures: dict[str, Future[Any]] = {}

    def start(self, name: str) -> None:
        if name not in self.futures:
            folder = self.root / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
            folder.mkdir(parents=True)
            self.futures[name] = self.pool.submit(JOBS[name], folder, self.pki)

    def result(self, name: str) -> Any:
        self.start(name)
        return self.futures[name].result()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        kill_live()
