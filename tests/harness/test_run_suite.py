"""`dm20-conformance run`: the whole suite against the bundled samples, --role and --cases."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from conformance.engine.loader import packaged_cases_dir
from conformance.engine.records import Origin, Verdict
from tests.harness.helpers import (
    PASSING,
    CliRun,
    cli_run,
    job,
    name_of,
    pytest_argv,
    report_dirs,
    run,
    write_yaml,
)

VENDOR_CASE = {
    "id": "DM20-C-VENDOR-001",
    "title": "A vendor's own case: the first message carries the device's ID",
    "role": "client",
    "requirements": ["DM20-6.3-005"],
    "steps": [
        {"open": "session", "headers": {"{profile.headers.device_id}": "{ixit.device_id}"}},
        {"close": "session"},
    ],
}


@job("suite-role-client", weight=5)
def role_client(folder: Path) -> CliRun:
    return cli_run(folder, "--role", "client", "-k", "GET-001")


@job("suite-vendor-cases", weight=5)
def vendor_cases(folder: Path) -> CliRun:
    write_yaml(folder / "vendor" / "acme-cases.yaml", [VENDOR_CASE])
    return cli_run(folder, "--role", "client", "--cases", "vendor", "-k", "VENDOR or GET-001")


suite = pytest.mark.uses_job("suite")


@pytest.fixture(scope="module")
def whole(jobs) -> CliRun:
    return jobs.result("suite")


@suite
def test_whole_suite_exits_zero_and_writes_one_timestamped_folder(whole: CliRun) -> None:
    assert whole.ran.returncode == 0, whole.ran.tail()
    folders = report_dirs(whole.cwd)
    assert len(folders) == 1, folders
    assert re.fullmatch(r"\d{8}T\d{6}Z(-\d+)?", folders[0].name), folders[0].name
    for part in ("allure-results", "junit.xml", "results"):
        assert (folders[0] / part).exists(), part
    assert "writing reports to" in whole.ran.stdout


@suite
def test_the_cases_work_files_are_in_the_run_folder(whole: CliRun) -> None:
    """Each client case that ran keeps the client's state in the run's work folder (the sample
    client runs in the package's folder: a relative {state_dir} would put it there)."""
    states = list((whole.reports / "work").rglob("state/device.json"))
    ran = [r for r in whole.records if r.role == "client" and r.verdict is Verdict.PASS]
    assert ran and len(states) >= len(ran)


@suite
def test_one_record_per_collected_case(whole: CliRun) -> None:
    names = [name_of(r) for r in whole.records]
    duplicates = [n for n, count in Counter(names).items() if count > 1]
    assert not duplicates, duplicates
    assert sorted(names) == sorted(whole.expected), whole.ran.tail()
    assert {r.role for r in whole.records} == {"client", "server"}


@suite
def test_every_verdict_is_a_pass_or_not_applicable(whole: CliRun) -> None:
    bad = {name_of(r): (r.verdict.value, r.message[:400]) for r in whole.records}
    bad = {n: v for n, v in bad.items() if v[0] not in PASSING}
    assert not bad, bad
    assert any(r.verdict is Verdict.PASS for r in whole.records)
    for record in whole.records:
        if record.verdict is Verdict.NOT_APPLICABLE:
            assert record.message, f"{name_of(record)} is NOT APPLICABLE without a reason"
        assert not record.failed, (name_of(record), record.failed)


@suite
def test_junit_has_one_testcase_per_record(whole: CliRun) -> None:
    tree = ET.parse(whole.reports / "junit.xml")
    testcases = tree.getroot().findall(".//testcase")
    assert len(testcases) == len(whole.records)
    assert sorted(t.get("name") for t in testcases) == sorted(name_of(r) for r in whole.records)
    assert not tree.getroot().findall(".//failure") + tree.getroot().findall(".//error")


@suite
def test_allure_has_one_result_per_case(whole: CliRun) -> None:
    results = sorted((whole.reports / "allure-results").glob("*-result.json"))
    assert len(results) == len(whole.records)
    data = [json.loads(p.read_text(encoding="utf-8")) for p in results]
    assert {d["status"] for d in data} <= {"passed", "skipped"}
    ids = {label["value"] for d in data for label in d["labels"] if label["name"] == "as_id"}
    assert ids == {r.case for r in whole.records}


@pytest.mark.uses_job("suite-role-client")
def test_role_client_runs_only_client_cases(jobs) -> None:
    result: CliRun = jobs.result("suite-role-client")
    assert result.ran.returncode == 0, result.ran.tail()
    names = [name_of(r) for r in result.records]
    assert "DM20-C-GET-001" in names
    assert all(r.role == "client" and r.nodeid.startswith("client/") for r in result.records)
    assert not [n for n in names if n.startswith("DM20-S-")]
    assert "deselected" in result.ran.stdout  # DM20-S-GET-001 matched -k but is a server case


@pytest.mark.uses_job("suite-vendor-cases")
def test_cases_dir_adds_a_vendor_case_to_the_run(jobs) -> None:
    result: CliRun = jobs.result("suite-vendor-cases")
    assert result.ran.returncode == 0, result.ran.tail()
    verdicts = result.verdicts()
    assert verdicts.get("DM20-C-VENDOR-001") == "PASS", result.ran.tail()
    assert verdicts.get("DM20-C-GET-001") == "PASS", "the packaged cases still run beside it"
    vendor = next(r for r in result.records if r.case == "DM20-C-VENDOR-001")
    assert vendor.requirements == ["DM20-6.3-005"]
    assert vendor.passed == ["DM20-6.3-005"]
    assert vendor.origin is Origin.VENDOR
    assert "acme-cases.yaml" in vendor.nodeid


def test_a_run_without_reports_folder_leaves_no_temporary_folder(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {**os.environ, "TMPDIR": str(temporary)}
    argv = pytest_argv(
        "-q", "-o", "dm20=true", "-k", "DM20-C-GET-001", packaged_cases_dir(), rootdir=tmp_path
    )
    ran = run(argv, cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.tail()
    assert "1 passed" in ran.stdout
    assert sorted(p.name for p in temporary.iterdir()) == []
