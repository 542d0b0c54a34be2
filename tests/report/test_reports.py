"""Every run writes allure-results, junit.xml, report.json and report.html, and they say what
happened: checked on a run against the conforming samples and on one against a faulty variant of
the sample client (a DM client only, one ixit fact left out)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

from conformance.catalog import load_catalog
from conformance.engine.records import Verdict
from conformance.profiles import load_profile
from conformance.report.allure_support import CATEGORIES
from conformance.report.conformance_report import (
    FAIL,
    NOT_EXERCISED,
    OUT_OF_SCOPE,
    PASS,
    STATES,
    UNTESTABLE,
)
from tests.report.conftest import BROKEN, DROPPED_FACT, FAULT, UNREACHED, Run

FEATURES = ["GET", "PUT", "POST", "DELETE", "EXEC", "INCLUDE", "SHOW", "DEFAULT", "CONT"]


def results(run: Run) -> list[dict]:
    return [json.loads(p.read_text()) for p in run.allure.glob("*-result.json")]


def labels(result: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for label in result["labels"]:
        found.setdefault(label["name"], []).append(label["value"])
    return found


def rows(report: dict) -> dict[str, dict]:
    return {r["id"]: r for r in report["requirements"]}


def test_every_report_is_written(conforming: Run, faulty: Run) -> None:
    for run in (conforming, faulty):
        for name in ("junit.xml", "report.json", "report.html", "allure-results"):
            assert (run.folder / name).exists(), f"{name} missing in {run.folder}\n{run.output}"
        assert len(results(run)) == len(run.records) > 0
        assert sorted(c["name"] for c in run.report["cases"]) == sorted(r.name for r in run.records)


def test_conforming_run_passes_and_faulty_run_fails_with_the_requirement(
    conforming: Run, faulty: Run
) -> None:
    assert conforming.code == 0, conforming.output
    assert {r.verdict for r in conforming.records} <= {Verdict.PASS, Verdict.INFORMATIONAL}
    assert {r.role for r in conforming.records} == {"client", "server"}  # no DUT: both samples
    assert faulty.code == 1, faulty.output
    failed = [r for r in faulty.records if r.verdict is Verdict.FAIL]
    assert failed, faulty.output
    for record in failed:
        assert record.failed == [BROKEN], record.message
        assert BROKEN in record.message and BROKEN not in record.passed
    skipped = [r for r in faulty.records if r.verdict is Verdict.NOT_APPLICABLE]
    assert [r.case for r in skipped] == ["DM20-C-EXEC-001"]
    assert f"gives no ixit {DROPPED_FACT}" in skipped[0].message


def test_junit_matches_the_records(conforming: Run, faulty: Run) -> None:
    for run in (conforming, faulty):
        suite = ET.parse(run.folder / "junit.xml").getroot()
        cases = suite.findall(".//testcase")
        assert len(cases) == len(run.records)
        failures = [c for c in cases if c.find("failure") is not None]
        assert len(failures) == sum(r.verdict is Verdict.FAIL for r in run.records)
        skipped = [c for c in cases if c.find("skipped") is not None]
        assert len(skipped) == sum(r.verdict is Verdict.NOT_APPLICABLE for r in run.records)


def test_allure_labels_steps_and_attachments(faulty: Run) -> None:
    by_id = {labels(r)["as_id"][0]: r for r in results(faulty)}
    case = by_id["DM20-C-GET-001"]
    found = labels(case)
    assert found["epic"] == ["DM client under test"]
    assert "Section 6.2" in found["feature"]
    assert "GET" in found["story"]
    assert found["severity"] == ["normal"]  # "will" requirements
    assert {"DM20-6.2-004", "DM20-6.2-005", "DM20-6.2-006"} <= set(found["requirement"])
    assert case["steps"] and case["steps"][0]["name"].startswith("step 1 (open session)")
    exchanges = [s for step in case["steps"] for s in step.get("steps", [])]
    assert exchanges and exchanges[0]["name"].startswith("POST http://127.0.0.1:")
    names = [a["name"] for a in exchanges[0]["attachments"]]
    assert names == ["request", "response"]
    request = (faulty.allure / exchanges[0]["attachments"][0]["source"]).read_text()
    assert request.startswith("POST ") and '"Status"' in request
    header_case = by_id["DM20-C-HDR-003"]
    assert BROKEN in labels(header_case)["requirement"]
    assert labels(header_case)["severity"] == ["critical"]  # a MUST requirement
    assert header_case["status"] == "failed"
    message = header_case["statusDetails"]["message"]
    assert re.match(CATEGORIES[0]["messageRegex"], message), message
    assert by_id["DM20-C-EXEC-001"]["status"] == "skipped"


def test_allure_environment_and_categories(faulty: Run) -> None:
    properties = (faulty.allure / "environment.properties").read_text()
    assert f"client.name=dm20-conformance sample client ({FAULT})" in properties
    assert f"client.features={','.join(FEATURES)}" in properties
    assert "profile=dm20-draft" in properties
    assert "server." not in properties  # a DM client was under test, nothing else
    categories = json.loads((faulty.allure / "categories.json").read_text())
    names = [c["name"] for c in categories]
    assert names[:3] == [
        "Implementation does not conform",
        "Timeout, implementation did not respond",
        "Harness or environment error",
    ]


def test_report_identifies_the_implementation_the_suite_and_the_profile(
    conforming: Run, faulty: Run
) -> None:
    good, bad = conforming.report, faulty.report
    assert [d["name"] for d in good["implementations"]] == [
        "dm20-conformance sample client",
        "dm20-conformance sample server",
    ]
    (dut,) = bad["implementations"]
    assert dut["name"].endswith(f"({FAULT})") and dut["role"] == "client"
    assert dut["features"] == FEATURES
    assert DROPPED_FACT not in dut["ixit"] and dut["ixit"]["device_id"]
    assert len(bad["suite"]["cases_sha256"]) == 64
    assert bad["suite"]["cases_sha256"] == good["suite"]["cases_sha256"]
    profile = load_profile()
    assert bad["profile"]["assumptions"] == dict(profile.assumptions)
    assert bad["profile"]["rules"] == dict(profile.rules)
    used = {a for r in faulty.records for a in r.assumptions}
    assert set(bad["profile"]["assumptions_used"]) == used


def test_faulty_report_leads_with_what_was_broken(faulty: Run) -> None:
    report = faulty.report
    keys = list(report)
    assert keys.index("broken") < keys.index("requirements") < keys.index("cases")
    (broken,) = report["broken"]
    assert broken["id"] == BROKEN and broken["level"] == "MUST"
    assert broken["text"] == load_catalog()[BROKEN].text
    failed = [r for r in faulty.records if r.verdict is Verdict.FAIL]
    assert broken["cases"] == len(failed)
    assert broken["seen"] >= len(failed)  # every request of every case lacks the header
    assert "no X-OMADMDevID header" in broken["first"]
    html = faulty.html
    first_section = html.index("<h2>", html.index("Implementations under test"))
    assert html.index("Broken requirements and assumptions") == first_section + len("<h2>")
    table = html[html.index('<table id="broken">') : html.index("</table>", first_section)]
    assert f'href="#{BROKEN}"' in table and "DM20-6.3-002" not in table
    assert html.index('id="broken"') < html.index(f'<tr id="{BROKEN}">')


def test_every_requirement_has_a_state(conforming: Run, faulty: Run) -> None:
    catalog = load_catalog()
    for run in (conforming, faulty):
        report = run.report
        assert [r["id"] for r in report["requirements"]] == [r.id for r in catalog]
        states = Counter(r["state"] for r in report["requirements"])
        assert set(states) <= set(STATES)
        assert report["requirement_states"] == {s: states.get(s, 0) for s in STATES}
        for row in report["requirements"]:
            if row["state"] in (NOT_EXERCISED, OUT_OF_SCOPE, UNTESTABLE):
                assert row["reason"], row
            assert f'<tr id="{row["id"]}">' in run.html
    row = rows(faulty.report)["DM20-6-001"]
    assert row["state"] == UNTESTABLE and row["reason"] == catalog["DM20-6-001"].why_untestable
    assert rows(faulty.report)[BROKEN]["state"] == FAIL
    assert rows(conforming.report)[BROKEN]["state"] == PASS
    assert rows(conforming.report)[BROKEN]["passed_in"] == ["DM20-C-HDR-003"]


def test_a_client_run_puts_server_requirements_out_of_scope(faulty: Run) -> None:
    catalog = load_catalog()
    server_only = [r.id for r in catalog if r.binds_server and not r.binds_client and r.testable]
    assert "DM20-6.2-002" in server_only
    by_id = rows(faulty.report)
    for requirement in server_only:
        row = by_id[requirement]
        assert row["state"] == OUT_OF_SCOPE, row
        assert row["reason"] == "binds the server; this run tested a DM client"
    assert not any(by_id[i]["state"] == PASS for i in server_only)
    assert by_id["DM20-6.2-002"]["passed_in"] == []


def test_a_requirement_no_case_checked_is_not_exercised_with_the_reason(faulty: Run) -> None:
    by_id = rows(faulty.report)
    unreached = by_id[UNREACHED]  # its only case does not apply (the ixit fact is missing)
    assert unreached["state"] == NOT_EXERCISED
    assert unreached["reason"] == (
        "its cases did not check it to the end: DM20-C-EXEC-001: NOT APPLICABLE"
    )
    assert unreached["cases"] == [{"case": "DM20-C-EXEC-001", "verdict": "NOT APPLICABLE"}]
    named = {i for r in faulty.records for i in r.requirements}
    unnamed = [
        row
        for row in faulty.report["requirements"]
        if row["state"] == NOT_EXERCISED and row["id"] not in named
    ]
    assert unnamed, "every in-scope requirement was named by a selected case"
    assert all(row["reason"] == "no case of this run names it" for row in unnamed)
    html = faulty.html
    row_html = html[html.index(f'<tr id="{UNREACHED}">') :]
    row_html = row_html[: row_html.index("</tr>")]
    assert "NOT EXERCISED" in row_html and "DM20-C-EXEC-001: NOT APPLICABLE" in row_html


def test_report_counts_and_gate(conforming: Run, faulty: Run) -> None:
    good, bad = conforming.report, faulty.report
    counts = Counter(c["verdict"] for c in bad["cases"])
    assert bad["summary"]["FAIL"] == counts["FAIL"] > 0
    assert bad["summary"]["NOT APPLICABLE"] == counts["NOT APPLICABLE"] == 1
    assert sum(good["summary"].values()) == len(conforming.records)
    assert good["broken"] == []
    assert bad["gate"]["outcome"] == "FAILED" and good["gate"]["outcome"] == "PASSED"
    assert sorted(bad["gate"]["new"]) == sorted(
        f"{r.name} (FAIL)" for r in faulty.records if r.verdict is Verdict.FAIL
    )
    assert "Nothing was seen broken." in conforming.html
    for run in (conforming, faulty):
        html = run.html
        assert "<script" not in html and "http://" not in html.split("<body>")[0]
