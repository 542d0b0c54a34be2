"""The registry of the network tests' background jobs (conftest.py hands them pytest's hooks):
each job gets its own folder and the session's certificates."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.jobs import Jobs
from tests.network.pki import Pki, pki_in

JOBS = Jobs("network", marker="network_job", workers=6)  # the runs mostly wait on their DUTs
Work = Callable[[Path, Pki], Any]


def session_pki(root: Path) -> Pki:
    """The certificates of the session whose job folders are under `root`."""
    return pki_in(root / "pki")


def network_job(name: str) -> Callable[[Work], Work]:
    """Register `work(folder, pki)` as the job `name`; a test marked
    `@pytest.mark.network_job(name)` gets its result from `network_jobs.result(name)`."""

    def register(work: Work) -> Work:
        @functools.wraps(work)
        def in_folder(folder: Path) -> Any:
            return work(folder, session_pki(folder.parent))

        JOBS.job(name)(in_folder)
        return work

    return register
