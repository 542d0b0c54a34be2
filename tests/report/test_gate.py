"""The CI gate: a known deviation passes, a new failure fails, a stale baseline entry is reported,
SHOULD/MAY failures are advisory unless strict; through the run's exit status and `report`."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.inputs import InputError
from conformance.report.gate import evaluate, load_baseline
from tests.mutants.registry import MUTANTS, write_dut
from tests.report.conftest import FAULT, Run, run_suite


def write_baseline(path: Path, *entries: tuple[str, str]) -> Path:
    lines = ["deviations:"] + [f"  - {{case: {c!r}, reason: {r!r}}}" for c, r in entries]
    path.write_text("\n".join(lines) + "\n")
    return path


def failing(run: Run) -> list[str]:
    return [r["nodeid"].split("::")[-1] for r in run.records if r["verdict"] == "FAIL"]


def test_known_failure_passes_new_failure_fails_stale_is_reported(
    faulty: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    known = failing(faulty)
    assert known, faulty.output
    baseline = write_baseline(
        tmp_path / "baseline.yaml",
        *[(c, "ticket 42") for c in known],
        ("DM20-C-GET-001", "fixed since"),
    )
    assert (
        main(
            [
                "report",
                str(faulty.folder),
                "--out",
                str(tmp_path / "a"),
                "--baseline",
                str(baseline),
                "--no-allure",
            ]
        )
        == 0
    )
    assert main(["report", str(faulty.folder), "--out", str(tmp_path / "b"), "--no-allure"]) == 1
    gate = evaluate(faulty.records, load_catalog(), load_baseline(baseline))
    assert gate.passed and sorted(gate.known) == sorted(known)
    assert gate.stale == ["DM20-C-GET-001"]
    assert "stale" in capsys.readouterr().out or gate.stale


def test_the_gate_decides_the_exit_status_of_a_run(tmp_path: Path) -> None:
    dut = write_dut(MUTANTS[FAULT], tmp_path)
    case = "DM20-C-HDR-003"
    baseline = write_baseline(
        tmp_path / "baseline.yaml",
        (case, "known: no device ID yet"),
        ("DM20-C-GET-001", "passes now"),
    )
    run = run_suite(
        tmp_path / "run",
        "--dut",
        str(dut),
        "--dm-baseline",
        str(baseline),
        selection=f"{case} or GET-001",
    )
    assert failing(run) == [case], run.output
    assert run.code == 0, run.output
    assert "gate PASSED" in run.output and "stale baseline entries: DM20-C-GET-001" in run.output
    assert run.report["gate"]["known"] == [case] and run.report["gate"]["stale"] == [
        "DM20-C-GET-001"
    ]


def test_should_and_may_failures_are_advisory_unless_strict() -> None:
    catalog = load_catalog()
    may = next(r.id for r in catalog if r.level == "MAY" and r.testable)
    must = next(r.id for r in catalog if r.level == "MUST")
    records = [
        {"nodeid": "x::DM20-C-A-001", "verdict": "FAIL", "requirements": [may]},
        {"nodeid": "x::DM20-C-B-001", "verdict": "PASS", "requirements": [must]},
    ]
    assert evaluate(records, catalog).passed
    assert evaluate(records, catalog).advisory == ["DM20-C-A-001"]
    assert not evaluate(records, catalog, strict=True).passed
    records[1]["verdict"] = "INCONCLUSIVE"
    assert not evaluate(records, catalog).passed


def test_a_variant_can_be_listed_alone() -> None:
    records = [
        {"nodeid": "x::DM20-C-A-001[n=1]", "verdict": "FAIL", "requirements": []},
        {"nodeid": "x::DM20-C-A-001[n=2]", "verdict": "FAIL", "requirements": []},
    ]
    gate = evaluate(records, load_catalog(), {"DM20-C-A-001[n=1]": "known"})
    assert gate.known == ["DM20-C-A-001[n=1]"] and gate.new == ["DM20-C-A-001[n=2] (FAIL)"]


def test_a_bad_baseline_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text("deviations:\n  - case: DM20-C-A-001\n    why: no reason key\n")
    with pytest.raises(InputError, match=r"baseline.yaml:\d+: deviations\[0\]"):
        load_baseline(path)
