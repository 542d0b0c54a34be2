"""Parallel runs: with pytest-xdist (`-n 2`) every port, state folder and report file is per
worker, and the whole suite gets the same verdicts as the serial run (the same IDs passed and
failed in each case), in one merged report."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.helpers import CliRun, cli_run, job, name_of


@job("suite-parallel", weight=100)
def parallel_suite(folder: Path) -> CliRun:
    return cli_run(folder, "-n", "2")


def outcomes(result: CliRun) -> dict[str, tuple[str, list[str], list[str]]]:
    """Case name -> (verdict, IDs passed, IDs failed)."""
    return {name_of(r): (r.verdict.value, r.passed, r.failed) for r in result.records}


@pytest.mark.uses_job("suite", "suite-parallel")
def test_two_workers_give_the_serial_verdicts(jobs) -> None:
    serial: CliRun = jobs.result("suite")
    parallel: CliRun = jobs.result("suite-parallel")
    assert parallel.ran.returncode == 0, parallel.ran.tail()
    assert len(parallel.records) == len(serial.records) == len(serial.expected)
    assert outcomes(parallel) == outcomes(serial)
    workers = {p.name for p in (parallel.reports / "work").iterdir() if p.is_dir()}
    assert workers == {"gw0", "gw1"}, workers  # each worker kept its own work folder
    report = parallel.reports / "report.json"
    assert report.is_file() and (parallel.reports / "junit.xml").is_file()
