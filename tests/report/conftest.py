"""Runs shared by the report tests: the same selection of cases against the conforming samples,
against a faulty variant of the sample client, and against the faulty variant with a baseline
that waives its failures, each with every report the harness writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.engine.loader import packaged_cases_dir
from conformance.engine.records import CaseRecord
from conformance.report.results import read_results
from tests.mutants import client_mutants  # noqa: F401  (registers the client mutants)
from tests.mutants.registry import MUTANTS, write_dut

# DM20-C-HDR-004 is left out: its header step files a missing X-OMADMDevID under DM20-6.3-002
# (its own requirement), so against this fault it reports a requirement the fault does not break.
SELECTION = "HDR-001 or HDR-002 or HDR-003 or GET-001 or DELETE-002 or EXEC-001"
FAULT = "client-no-device-id"  # breaks DM20-6.3-005
BROKEN = "DM20-6.3-005"
DROPPED_FACT = "exec_uri"  # the faulty DUT file leaves it out: DM20-C-EXEC-001 does not apply
UNREACHED = "DM20-6.2-014"  # what DM20-C-EXEC-001 verifies, and no other selected case does
# The baseline of the waived run: the broken requirement everywhere, one case by name, and an
# entry that no failure needs any more.
WAIVE_REQUIREMENT = {
    "requirement": BROKEN,
    "reason": "ticket DM-42: the device ID header comes with firmware 2.1",
    "waived_by": "Jo Vendor (QA lead)",
}
WAIVE_CASE = {"case": "DM20-C-GET-001", "reason": "ticket DM-43: GET reworked in 2.1"}
STALE = {"requirement": "DM20-6.3-002", "reason": "ticket DM-12: fixed in 1.9"}


@dataclass
class Run:
    folder: Path
    code: int
    output: str

    @property
    def records(self) -> list[CaseRecord]:
        return read_results(self.folder)

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.folder / "report.json").read_text(encoding="utf-8"))

    @property
    def html(self) -> str:
        return (self.folder / "report.html").read_text(encoding="utf-8")

    @property
    def allure(self) -> Path:
        return self.folder / "allure-results"


def run_suite(
    folder: Path, *extra: str, selection: str = SELECTION, env: dict | None = None
) -> Run:
    """One pytest run of the packaged cases with every report on."""
    folder.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        os.devnull,
        "--rootdir",
        str(folder),
        "-p",
        "no:cacheprovider",
        "-q",
        "--dm-reports",
        str(folder),
        "--alluredir",
        str(folder / "allure-results"),
        "--junitxml",
        str(folder / "junit.xml"),
        "-k",
        selection,
        *extra,
        str(packaged_cases_dir()),
    ]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return Run(folder, done.returncode, done.stdout + done.stderr)


def faulty_dut(folder: Path) -> Path:
    """The DUT file of the faulty client, without the ixit fact DM20-C-EXEC-001 needs."""
    path = write_dut(MUTANTS[FAULT], folder)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["ixit"][DROPPED_FACT]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_baseline(path: Path, *entries: dict[str, str]) -> Path:
    path.write_text(yaml.safe_dump({"deviations": list(entries)}, sort_keys=False))
    return path


def conforming_run(folder: Path) -> Run:
    return run_suite(folder)


def faulty_run(folder: Path) -> Run:
    return run_suite(folder / "run", "--dut", str(faulty_dut(folder)))


def waived_run(folder: Path) -> Run:
    baseline = write_baseline(folder / "baseline.yaml", WAIVE_REQUIREMENT, WAIVE_CASE, STALE)
    dut = faulty_dut(folder)
    return run_suite(folder / "run", "--dut", str(dut), "--dm-baseline", str(baseline))


RUNS: dict[str, Callable[[Path], Run]] = {
    "conforming": conforming_run,
    "faulty": faulty_run,
    "waived": waived_run,
}


@pytest.fixture(scope="package")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Run]]:
    """The shared runs the selected tests use, started together (they mostly wait on the DUT's
    processes); each test waits for its own."""
    futures: dict[str, Future[Run]] = {}
    pool = ThreadPoolExecutor(len(RUNS))

    def start(name: str) -> Future[Run]:
        if name not in futures:
            futures[name] = pool.submit(RUNS[name], tmp_path_factory.mktemp(name))
        return futures[name]

    if not hasattr(request.config, "workerinput"):  # under xdist, each test starts its own
        for item in request.session.items:
            for name in sorted(RUNS.keys() & set(getattr(item, "fixturenames", ()))):
                start(name)
    yield lambda name: start(name).result()
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="package")
def conforming(runs: Callable[[str], Run]) -> Run:
    return runs("conforming")


@pytest.fixture(scope="package")
def faulty(runs: Callable[[str], Run]) -> Run:
    return runs("faulty")


@pytest.fixture(scope="package")
def waived(runs: Callable[[str], Run]) -> Run:
    return runs("waived")
