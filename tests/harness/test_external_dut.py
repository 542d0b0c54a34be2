"""A DUT file outside the repo: an implementation the harness only knows by its commands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.records import Verdict
from tests.harness.helpers import (
    CLI,
    PASSING,
    CliRun,
    job,
    name_of,
    report_json,
    run,
    sample_dut,
    write_yaml,
)

ACME_PY = "import sys\nfrom conformance.samples.client import main\nsys.exit(main())\n"
SELECTION = "GET or DELETE or DEFAULT"
MISSING = "no-such-dm-client"


def dut_data(program: list[str]) -> dict[str, Any]:
    """A vendor's DUT file as the README shows it, with the sample's features and ixit."""
    sample = sample_dut("client")
    run_it = " ".join(program)
    return {
        "name": "Acme DM client",
        "version": "1.4.2",
        "role": "client",
        "profile": "dm20-draft",
        "features": sample["features"],
        "ixit": sample["ixit"],
        "client": {
            "session": f"{run_it} session --server {{server_url}} --state {{state_dir}}",
            "config_request": f"{run_it} config --state {{state_dir}} --moid {{moid}} "
            "--initiated-by {initiated_by}",
            "timeout_s": 10,
        },
    }


def run_vendor(folder: Path, program: list[str]) -> CliRun:
    """The vendor's files in folder/acme/, the run started from folder/ci/ (another folder: the
    commands must run in the DUT file's folder to find acme.py)."""
    vendor = folder / "acme"
    vendor.mkdir()
    (vendor / "acme.py").write_text(ACME_PY, encoding="utf-8")
    write_yaml(vendor / "acme.yaml", dut_data(program))
    cwd = folder / "ci"
    cwd.mkdir()
    argv = [CLI, "run", "--dut", "../acme/acme.yaml", "-k", SELECTION]
    return CliRun(run(argv, cwd=cwd), cwd, [])


@job("external:acme", weight=60)
def acme(folder: Path) -> CliRun:
    return run_vendor(folder, ["python", "acme.py"])


@job("external:missing", weight=10)
def missing(folder: Path) -> CliRun:
    return run_vendor(folder, [MISSING])


@pytest.fixture(scope="module")
def acme_run(jobs) -> CliRun:
    return jobs.result("external:acme")


uses_acme = pytest.mark.uses_job("external:acme")


@uses_acme
def test_external_client_passes_its_selection(acme_run: CliRun) -> None:
    assert acme_run.ran.returncode == 0, acme_run.ran.tail()
    verdicts = acme_run.verdicts()
    assert verdicts, acme_run.ran.tail()
    assert not {n: v for n, v in verdicts.items() if v not in PASSING}
    for area in ("GET", "DELETE", "DEFAULT"):
        assert any(f"-C-{area}-" in n and v == "PASS" for n, v in verdicts.items()), area


@uses_acme
def test_server_cases_are_deselected_not_run(acme_run: CliRun) -> None:
    assert all(r.role == "client" for r in acme_run.records)
    assert not [name_of(r) for r in acme_run.records if "-S-" in name_of(r)]
    match = re.search(r"(\d+) deselected", acme_run.ran.stdout)
    assert match and int(match[1]) > 0, acme_run.ran.tail()


@uses_acme
def test_the_report_names_the_vendor_implementation(acme_run: CliRun) -> None:
    [implementation] = report_json(acme_run.reports)["implementations"]
    assert implementation["name"] == "Acme DM client"
    assert implementation["version"] == "1.4.2"
    assert Path(implementation["file"]) == (acme_run.cwd.parent / "acme" / "acme.yaml").resolve()


@pytest.mark.uses_job("external:missing")
def test_a_session_command_that_does_not_exist_is_inconclusive(jobs) -> None:
    result: CliRun = jobs.result("external:missing")
    assert result.ran.returncode == 1, result.ran.tail()
    records = result.records
    assert records, result.ran.tail()
    for record in records:
        assert record.verdict is Verdict.INCONCLUSIVE, (name_of(record), record.message[:600])
        assert "cannot start" in record.message and MISSING in record.message
    assert "INTERNALERROR" not in result.ran.stdout + result.ran.stderr
    assert "Traceback" not in result.ran.stdout + result.ran.stderr


@uses_acme
def test_the_client_state_is_kept_in_the_run_folder(acme_run: CliRun) -> None:
    """The run starts in ci/ with the default relative `reports`; the DUT runs in acme/: the
    {state_dir} it gets must still be the run's (regression: it once resolved in acme/)."""
    states = sorted((acme_run.reports / "work").rglob("state/device.json"))
    assert states, "no case's client state is in the run's work folder"
    assert not (acme_run.cwd.parent / "acme" / "reports").exists()
