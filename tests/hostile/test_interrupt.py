"""Nothing is lost: a run stopped by SIGINT or SIGTERM in the middle still ends within a bound,
writes every report file (results/*.jsonl, junit.xml, report.json, report.html, Allure results)
for every case that reached a verdict, and leaves no process of the implementation behind. And a
case that makes the harness's own code raise gets ERROR while the run goes on."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conformance.dut import bundled_dut
from conformance.engine.records import CaseRecord, Verdict
from conformance.report.results import read_results
from tests.hostile.support import (
    REPO,
    kill_all,
    pytest_argv,
    run_harness,
    settle,
    start,
    stop_group,
)

RECORDS_BEFORE_SIGNAL = 3
WAIT_FOR_RECORDS_S = 90
TIMEOUT_S = 5  # the run's --timeout: a case of the samples takes a few seconds at most
SAMPLE_TIMEOUT_S = 10  # the samples' own timeout_s: they start slowly on a loaded machine
STOP_BOUND_S = 3 * TIMEOUT_S + 15  # the case under way, its processes' stop, the reports


def names(records: list[CaseRecord]) -> set[str]:
    return {r.name for r in records}


def junit_names(path: Path) -> set[str]:
    return {case.get("name") for case in ET.parse(path).getroot().iter("testcase")}


def report_names(path: Path) -> set[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {c["name"] for c in data["cases"]}


def allure_results(folder: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*-result.json")]


def allure_cases(folder: Path) -> Counter[str]:
    """How many Allure results each case ID has (its variants share the ID)."""
    found: Counter[str] = Counter()
    for result in allure_results(folder):
        ids = [label["value"] for label in result.get("labels", []) if label["name"] == "as_id"]
        found.update(ids[:1])
    return found


def wait_for_records(run_root: Path, proc: subprocess.Popen, count: int) -> list[CaseRecord]:
    deadline = time.monotonic() + WAIT_FOR_RECORDS_S
    while time.monotonic() < deadline and proc.poll() is None:
        folders = [p for p in run_root.glob("*") if (p / "results").is_dir()]
        if folders and len(read_results(folders[0])) >= count:
            return read_results(folders[0])
        time.sleep(0.1)
    return []


@dataclass
class Stopped:
    """A run of the samples stopped by a signal once it had 3 records."""

    reports: Path
    before: list[CaseRecord] = field(default_factory=list)  # the records when the signal went
    code: int | None = None  # exit status, None if it did not stop within the bound
    took: float = 0.0
    left: list[tuple[int, str]] = field(default_factory=list)
    output: str = ""


def stop_a_run(role: str, sig: signal.Signals, folder: Path) -> Stopped:
    reports = folder / "reports"
    argv = [sys.executable, "-m", "conformance.cli", "run", "--role", role]
    argv += ["--reports", str(reports), "--timeout", str(TIMEOUT_S)]
    stopped = Stopped(reports)
    proc = start(argv, folder, folder / "output.txt")
    try:
        stopped.before = wait_for_records(reports, proc, RECORDS_BEFORE_SIGNAL)
        if len(stopped.before) >= RECORDS_BEFORE_SIGNAL and proc.poll() is None:
            os.kill(proc.pid, sig)
            began = time.monotonic()
            with contextlib.suppress(subprocess.TimeoutExpired):
                stopped.code = proc.wait(STOP_BOUND_S)
            stopped.took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            stop_group(proc)
        stopped.left = settle(str(reports))  # every DUT command has a path below reports/
        kill_all(stopped.left)
    stopped.output = (folder / "output.txt").read_text(encoding="utf-8", errors="replace")
    return stopped


SIGNALS = [(role, sig) for sig in (signal.SIGINT, signal.SIGTERM) for role in ("client", "server")]


@pytest.fixture(scope="module")
def stopped_runs(tmp_path_factory: pytest.TempPathFactory):
    """The four stopped runs, started together."""
    with ThreadPoolExecutor(len(SIGNALS)) as pool:
        futures = {
            (role, sig): pool.submit(
                stop_a_run, role, sig, tmp_path_factory.mktemp(f"{role}-{sig.name}")
            )
            for role, sig in SIGNALS
        }
        yield futures


@pytest.mark.parametrize(
    ("role", "sig"), [pytest.param(r, s, id=f"{r}-{s.name}") for r, s in SIGNALS]
)
def test_stopped_run_loses_nothing(role: str, sig: signal.Signals, stopped_runs) -> None:
    stopped: Stopped = stopped_runs[(role, sig)].result()
    output = stopped.output[-2000:]
    assert len(stopped.before) >= RECORDS_BEFORE_SIGNAL, f"never 3 records:\n{output}"
    assert stopped.took, f"the run ended before it could be stopped:\n{output}"
    assert stopped.code is not None, f"still running {STOP_BOUND_S} s after {sig.name}"
    assert stopped.code != 0, f"exit status 0 after {sig.name}"
    assert not stopped.left, f"left behind after {sig.name}: {[c for _, c in stopped.left]}"
    run = next(p for p in stopped.reports.iterdir() if p.is_dir())
    records = read_results(run)
    assert len(records) >= len(stopped.before)
    assert all(isinstance(r.verdict, Verdict) for r in records)
    recorded = names(records)
    for path in ("junit.xml", "report.json", "report.html"):
        assert (run / path).is_file(), f"no {path} after {sig.name} ({stopped.took:.1f} s)"
    assert recorded <= junit_names(run / "junit.xml")
    assert recorded <= report_names(run / "report.json")
    html = (run / "report.html").read_text(encoding="utf-8")
    assert all(name.split("[")[0] in html for name in recorded)
    # the signal only asks the run to stop: the case under way ends with every report of it
    assert not Counter(r.case for r in records) - allure_cases(run / "allure-results")


# -- a case that makes the harness's own code raise --------------------------------------------
VENDOR_CASES = """\
- id: DM20-C-VENDOR-001
  title: a send with no request to answer (a case error)
  role: client
  requirements: [DM20-6.3-002]
  steps:
    - start: session
    - send: commands
      commands: [[END]]
- id: DM20-C-VENDOR-002
  title: a parameter that gives a number where the runner calls str.lower (a TypeError-like crash)
  role: client
  requirements: [DM20-6.3-002]
  parametrize:
    number: [5]
  steps:
    - open: session
      headers_absent: ["{number}"]
    - close: session
- id: DM20-C-VENDOR-003
  title: a plain session after the broken cases
  role: client
  requirements: [DM20-6.3-002]
  steps:
    - open: session
    - close: session
"""


def test_case_that_breaks_the_runner_is_error_and_the_run_goes_on(tmp_path: Path) -> None:
    cases = tmp_path / "vendor"
    cases.mkdir()
    (cases / "vendor.yaml").write_text(VENDOR_CASES, encoding="utf-8")
    sample = yaml.safe_load(bundled_dut("client").read_text(encoding="utf-8"))
    sample["client"]["timeout_s"] = SAMPLE_TIMEOUT_S
    dut = tmp_path / "dut.yaml"
    dut.write_text(yaml.safe_dump(sample, sort_keys=False), encoding="utf-8")
    reports = tmp_path / "rep"
    argv = pytest_argv(
        reports, tmp_path, dut=dut, keyword="VENDOR", cases=[cases], timeout_s=SAMPLE_TIMEOUT_S
    )
    run = run_harness(argv, tmp_path, reports, 120, str(reports))
    assert run.finished, run.output[-3000:]
    assert "INTERNALERROR" not in run.output
    by_case = {r.case: r for r in run.records}
    assert sorted(by_case) == ["DM20-C-VENDOR-001", "DM20-C-VENDOR-002", "DM20-C-VENDOR-003"]
    assert [r.case for r in run.records] == sorted(by_case), "the cases ran out of order"
    first, second, third = (by_case[f"DM20-C-VENDOR-00{n}"] for n in (1, 2, 3))
    assert first.verdict is Verdict.ERROR
    assert "there is no request to answer" in first.message
    assert second.verdict is Verdict.ERROR and second.name == "DM20-C-VENDOR-002[number=5]"
    assert "the harness failed: AttributeError" in second.message
    assert third.verdict is Verdict.PASS, third.message
    assert run.returncode == 1, run.output[-3000:]  # the ERRORs fail the run
    assert not run.leftovers, run.leftovers


def test_every_case_variant_is_its_own_allure_test(tmp_path: Path) -> None:
    reports = tmp_path / "rep"
    argv = pytest_argv(reports, tmp_path, keyword="DM20-S-PUT-001", timeout_s=SAMPLE_TIMEOUT_S)
    argv[-1:-1] = ["--alluredir", str(tmp_path / "allure")]
    run = run_harness(argv, tmp_path, reports, 120, str(reports))
    assert run.finished, run.output[-3000:]
    assert len(run.records) == 2
    results = allure_results(tmp_path / "allure")
    assert len(results) == 2
    assert len({r["historyId"] for r in results}) == 2, "one historyId for two variants"


def test_signal_between_record_and_allure_result(tmp_path: Path) -> None:
    reports = tmp_path / "rep"
    argv = pytest_argv(
        reports,
        tmp_path,
        keyword="DM20-S-SESSION-001 or DM20-S-SESSION-002 or DM20-S-SESSION-003",
        timeout_s=SAMPLE_TIMEOUT_S,
        extra=["--alluredir", str(tmp_path / "allure"), "-p", "tests.hostile.signal_plugin"],
    )
    env = {"PYTHONPATH": str(REPO), "DM20_HOSTILE_SIGNAL_AFTER": "2"}
    run = run_harness(argv, tmp_path, reports, 120, str(reports), env)
    assert run.finished, run.output[-3000:]
    assert run.returncode == 2, run.output[-3000:]  # interrupted
    assert len(run.records) == 2, run.output[-3000:]
    assert not Counter(r.case for r in run.records) - allure_cases(tmp_path / "allure")
