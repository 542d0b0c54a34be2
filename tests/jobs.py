"""Background jobs of the harness's own tests: slow work (a suite run in subprocesses, a run over
loopback TLS, an exploration) that tests wait for. A folder of tests keeps one `Jobs` registry;
its conftest installs it, and the registry takes pytest's session hooks as a plugin. The jobs
the selected tests use (by the folder's marker) start together once collection is done,
heaviest first, a few at once: each mostly waits on its DUT processes. A test waits for its
job's result, or gets the job's exception. Each job works in a folder of its own; the folders
are kept when the session fails (the path is printed) and removed when it passes."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.processes import kill_live

Work = Callable[[Path], Any]


@dataclass(frozen=True)
class JobSpec:
    """A job: `work(folder)`; `weight` is about how long it takes (heavier jobs start first)."""

    name: str
    work: Work
    weight: float


class Pool:
    """The jobs of one test session, each run at most once, in root/<its name>."""

    def __init__(self, root: Path, specs: dict[str, JobSpec], workers: int, label: str) -> None:
        self.root = root
        self.specs = specs
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{label}-job")
        self.futures: dict[str, Future[Any]] = {}

    def start(self, name: str) -> None:
        if name in self.futures:
            return
        folder = self.root / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        folder.mkdir(parents=True)
        self.futures[name] = self.pool.submit(self.specs[name].work, folder)

    def result(self, name: str) -> Any:
        """The job's result (started now if nothing started it); its exception if it failed."""
        self.start(name)
        return self.futures[name].result()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        kill_live()


class Jobs:
    """The registry of one folder's jobs, and what its conftest's hooks do with them."""

    def __init__(self, label: str, marker: str, workers: int) -> None:
        self.label = label
        self.marker = marker
        self.workers = workers
        self.specs: dict[str, JobSpec] = {}
        self.key = pytest.StashKey[Pool]()
        self.failed = pytest.StashKey[bool]()

    def job(self, name: str, weight: float = 10) -> Callable[[Work], Work]:
        """Register `work(folder)` as the job `name`; a test marked with this folder's marker
        and `name` gets its result from the pool's `result(name)`."""

        def register(work: Work) -> Work:
            if name in self.specs:
                raise ValueError(f"{self.label} job {name} is defined twice")
            self.specs[name] = JobSpec(name, work, weight)
            return work

        return register

    def pool(self, config: pytest.Config) -> Pool:
        """This session's pool, made on first use."""
        if self.key not in config.stash:
            root = Path(tempfile.mkdtemp(prefix=f"dm20-{self.label}-tests-"))
            config.stash[self.key] = Pool(root, self.specs, self.workers, self.label)
        return config.stash[self.key]

    # -- pytest's hooks: a conftest calls `install`, the registry takes the session's hooks --
    def install(self, config: pytest.Config) -> None:
        """Declare the folder's marker and take this session's hooks (as a plugin)."""
        what = f"the test reads the result of these {self.label} jobs"
        config.addinivalue_line("markers", f"{self.marker}(*names): {what}")
        if not config.pluginmanager.is_registered(self):
            config.pluginmanager.register(self, f"dm20-{self.label}-jobs")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Start the jobs the selected tests use, heaviest first."""
        wanted: dict[str, None] = {}
        for item in session.items:
            for mark in item.iter_markers(self.marker):
                wanted.update(dict.fromkeys(mark.args))
        if not wanted:
            return
        pool = self.pool(session.config)
        for name in sorted(wanted, key=lambda n: -self.specs[n].weight):
            pool.start(name)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        session.config.stash[self.failed] = exitstatus != 0

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        pool = config.stash.get(self.key, None)
        if pool is None:
            return
        pool.close()
        if config.stash.get(self.failed, True):
            print(f"\n{self.label} tests: job folders kept in {pool.root}")
        else:
            shutil.rmtree(pool.root, ignore_errors=True)
