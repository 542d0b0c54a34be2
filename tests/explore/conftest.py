"""Exploration runs in the background: the ones the selected tests use start when collection
ends, a few at once (each is mostly waiting on its DUT's processes); tests wait for theirs."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

WORKERS = 3
JOBS: dict[str, tuple[Callable[[Path], Any], float]] = {}  # name -> (work, weight)
KEY = pytest.StashKey["Explorations"]()


def job(name: str, weight: float = 1.0) -> Callable[[Callable[[Path], Any]], Callable[[Path], Any]]:
    """Register `work(folder)` as the background job `name` (heavier ones start first)."""

    def register(work: Callable[[Path], Any]) -> Callable[[Path], Any]:
        JOBS[name] = (work, weight)
        return work

    return register


class Explorations:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="explore-job")
        self.futures: dict[str, Future[Any]] = {}

    def start(self, name: str) -> None:
        if name not in self.futures:
            folder = self.root / name.replace(":", "-")
            folder.mkdir(parents=True, exist_ok=True)
            self.futures[name] = self.pool.submit(JOBS[name][0], folder)

    def result(self, name: str) -> Any:
        self.start(name)
        return self.futures[name].result()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "explores(*names): the test reads the result of these exploration runs"
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    wanted: dict[str, None] = {}
    for item in session.items:
        for mark in item.iter_markers("explores"):
            wanted.update(dict.fromkeys(mark.args))
    if not wanted:
        return
    root = Path(tempfile.mkdtemp(prefix="dm20-explore-tests-"))
    runs = Explorations(root)
    session.config.stash[KEY] = runs
    for name in sorted(wanted, key=lambda n: -JOBS[n][1]):
        runs.start(name)


@pytest.fixture(scope="session")
def explorations(request: pytest.FixtureRequest) -> Iterator[Explorations]:
    runs = request.config.stash.get(KEY, None)
    if runs is None:
        runs = Explorations(Path(tempfile.mkdtemp(prefix="dm20-explore-tests-")))
        request.config.stash[KEY] = runs
    yield runs
    runs.pool.shutdown(wait=True, cancel_futures=True)
    shutil.rmtree(runs.root, ignore_errors=True)
