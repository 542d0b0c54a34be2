"""The CI gate: a known deviation passes, a new failure fails, a stale baseline entry is reported,
SHOULD/MAY failures are advisory unless strict; through the run's exit status and `report`. A
waived failure is shown with its reason and who waived it, in report.json and report.html."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.engine.records import CaseRecord, Verdict
from conformance.inputs import InputError
from conformance.report.conformance_report import FAIL, WAIVED
from conformance.report.gate import Waiver, evaluate, load_baseline
from tests.report.conftest import (
    BROKEN,
    STALE,
    WAIVE_CASE,
    WAIVE_REQUIREMENT,
    Run,
    write_baseline,
)


def failing(run: Run) -> list[str]:
    return sorted(r.name for r in run.records if r.verdict is Verdict.FAIL)


def record(name: str, verdict: Verdict, requirements: list[str], failed: list[str]) -> CaseRecord:
    case = name.split("[", 1)[0]
    return CaseRecord(name, case, "a case", "client", verdict, requirements, failed=failed)


def test_known_failure_passes_new_failure_fails_stale_is_reported(
    faulty: Run, tmp_path: Path
) -> None:
    known = failing(faulty)
    assert known, faulty.output
    baseline = write_baseline(
        tmp_path / "baseline.yaml",
        *[{"case": c, "reason": "ticket 42"} for c in known],
        {"requirement": "DM20-6.3-002", "reason": "fixed since"},
        {"case": "DM20-C-SESSION-009", "reason": "a case this run did not select"},
    )
    out = tmp_path / "a"
    argv = ["report", str(faulty.folder), "--out", str(out), "--no-allure"]
    assert main([*argv, "--baseline", str(baseline)]) == 0
    assert main(["report", str(faulty.folder), "--out", str(tmp_path / "b"), "--no-allure"]) == 1
    gate = evaluate(faulty.records, load_catalog(), load_baseline(baseline))
    assert gate.passed and sorted(gate.known) == known
    assert gate.stale == ["DM20-6.3-002"] and gate.unused == ["DM20-C-SESSION-009"]
    assert [w["cases"] for w in gate.waivers] == [[c] for c in known]
    rebuilt = Run(out, 0, "").report
    assert rebuilt["gate"] == gate.as_dict()
    by_id = {r["id"]: r for r in rebuilt["requirements"]}
    assert by_id[BROKEN]["state"] == WAIVED  # as the run itself would have shown it
    assert rebuilt["broken"] == []
    assert {r["id"]: r for r in Run(tmp_path / "b", 1, "").report["requirements"]}[BROKEN][
        "state"
    ] == FAIL


def test_the_gate_decides_the_exit_status_of_a_run(waived: Run) -> None:
    assert failing(waived), waived.output
    assert waived.code == 0, waived.output
    assert "gate PASSED" in waived.output
    assert f"stale baseline entries: {STALE['requirement']}" in waived.output
    gate = waived.report["gate"]
    assert gate["outcome"] == "PASSED" and gate["new"] == []
    assert sorted(gate["known"]) == failing(waived)
    assert gate["stale"] == [STALE["requirement"]]


def test_each_waived_failure_is_shown_with_its_reason(waived: Run) -> None:
    report = waived.report
    waivers = {w["target"]: w for w in report["gate"]["waivers"]}
    assert set(waivers) == {BROKEN, WAIVE_CASE["case"]}
    by_requirement, by_case = waivers[BROKEN], waivers[WAIVE_CASE["case"]]
    assert by_requirement["kind"] == "requirement"
    assert by_requirement["reason"] == WAIVE_REQUIREMENT["reason"]
    assert by_requirement["waived_by"] == WAIVE_REQUIREMENT["waived_by"]
    assert by_case["kind"] == "case" and by_case["reason"] == WAIVE_CASE["reason"]
    assert by_case["waived_by"] == "" and by_case["cases"] == [WAIVE_CASE["case"]]
    covered = sorted(c for w in waivers.values() for c in w["cases"])
    assert covered == failing(waived), "each waived failure under exactly one waiver"
    row = {r["id"]: r for r in report["requirements"]}[BROKEN]
    assert row["state"] == WAIVED and sorted(row["failed_in"]) == failing(waived)
    assert report["requirement_states"][WAIVED] == 1 and report["broken"] == []
    html = waived.html
    table = html[html.index('<table id="waivers">') :]
    table = table[: table.index("</table>")]
    lines = table.split("<tr>")[2:]  # the rows after the head
    assert len(lines) == 2
    for line in lines:
        waiver = by_requirement if f"<code>{BROKEN}</code>" in line else by_case
        assert waiver["reason"] in line.replace("&#x27;", "'")
        assert (waiver["waived_by"] or "—") in line
        assert all(case in line for case in waiver["cases"])
    assert f'<tr id="{BROKEN}">' in html and "CI gate: PASSED" in html


def test_should_and_may_failures_are_advisory_unless_strict() -> None:
    catalog = load_catalog()
    may = next(r.id for r in catalog if r.level == "MAY" and r.testable)
    must = next(r.id for r in catalog if r.level == "MUST")
    records = [
        record("DM20-C-A-001", Verdict.FAIL, [may], [may]),
        record("DM20-C-B-001", Verdict.PASS, [must], []),
    ]
    assert evaluate(records, catalog).passed
    assert evaluate(records, catalog).advisory == ["DM20-C-A-001"]
    assert not evaluate(records, catalog, strict=True).passed
    records[1].verdict = Verdict.INCONCLUSIVE
    assert evaluate(records, catalog).new == ["DM20-C-B-001 (INCONCLUSIVE)"]
    records[1] = record("DM20-C-B-001", Verdict.FAIL, [may], [may, must])
    assert evaluate(records, catalog).new == ["DM20-C-B-001 (FAIL)"]  # it broke a MUST too


def test_a_variant_can_be_listed_alone() -> None:
    records = [
        record("DM20-C-A-001[n=1]", Verdict.FAIL, [], []),
        record("DM20-C-A-001[n=2]", Verdict.FAIL, [], []),
    ]
    gate = evaluate(records, load_catalog(), [Waiver("DM20-C-A-001[n=1]", "case", "known")])
    assert gate.known == ["DM20-C-A-001[n=1]"] and gate.new == ["DM20-C-A-001[n=2] (FAIL)"]
    gate = evaluate(records, load_catalog(), [Waiver("DM20-C-A-001", "case", "all of them")])
    assert gate.passed and gate.waivers[0]["cases"] == [r.name for r in records]


def test_a_requirement_waiver_covers_only_failures_it_explains() -> None:
    records = [
        record("DM20-C-A-001", Verdict.FAIL, ["DM20-6.3-002"], [BROKEN]),
        record("DM20-C-B-001", Verdict.FAIL, [BROKEN], [BROKEN, "DM20-6.3-002"]),
        record("DM20-C-C-001", Verdict.ERROR, [BROKEN], []),
    ]
    gate = evaluate(records, load_catalog(), [Waiver(BROKEN, "requirement", "known", "QA")])
    assert gate.known == ["DM20-C-A-001"]
    assert gate.new == ["DM20-C-B-001 (FAIL)", "DM20-C-C-001 (ERROR)"]  # an ERROR is never waived
    assert gate.waivers == [
        {
            "target": BROKEN,
            "kind": "requirement",
            "reason": "known",
            "waived_by": "QA",
            "cases": ["DM20-C-A-001"],
        }
    ]


def test_a_bad_baseline_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text("deviations:\n  - case: DM20-C-A-001\n    why: no reason key\n")
    with pytest.raises(InputError, match=r"baseline.yaml:\d+: deviations\[0\]"):
        load_baseline(path)
    path.write_text("deviations:\n  - requirement: DM20-6.3-005\n    reason: ''\n")
    with pytest.raises(InputError, match=r"baseline.yaml:\d+: deviations\[0\]"):
        load_baseline(path)
