"""Every run writes allure-results, junit.xml, report.json and report.html, and they say what
happened: checked on a run against the conforming sample client and on one against a faulty
variant of it."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

from conformance.report.allure_support import CATEGORIES
from tests.report.conftest import FAULT, Run

BROKEN = "DM20-6.3-005"  # the requirement the faulty variant breaks


def results(run: Run) -> list[dict]:
    return [json.loads(p.read_text()) for p in run.allure.glob("*-result.json")]


def labels(result: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for label in result["labels"]:
        found.setdefault(label["name"], []).append(label["value"])
    return found


def test_every_report_is_written(conforming: Run, faulty: Run) -> None:
    for run in (conforming, faulty):
        for name in ("junit.xml", "report.json", "report.html", "allure-results"):
            assert (run.folder / name).exists(), f"{name} missing in {run.folder}\n{run.output}"
        assert len(results(run)) == len(run.records) > 0


def test_conforming_run_passes_and_faulty_run_fails_with_the_requirement(
    conforming: Run, faulty: Run
) -> None:
    assert conforming.code == 0, conforming.output
    assert {r["verdict"] for r in conforming.records} <= {"PASS", "INFORMATIONAL", "NOT APPLICABLE"}
    assert faulty.code == 1, faulty.output
    failed = [r for r in faulty.records if r["verdict"] == "FAIL"]
    assert failed and all(BROKEN in r["requirements"] for r in failed)
    assert all(BROKEN in r["message"] for r in failed)


def test_junit_matches_the_records(conforming: Run, faulty: Run) -> None:
    for run in (conforming, faulty):
        suite = ET.parse(run.folder / "junit.xml").getroot()
        cases = suite.findall(".//testcase")
        assert len(cases) == len(run.records)
        failures = [c for c in cases if c.find("failure") is not None]
        assert len(failures) == sum(r["verdict"] == "FAIL" for r in run.records)


def test_allure_labels_steps_and_attachments(faulty: Run) -> None:
    by_id = {labels(r)["as_id"][0]: r for r in results(faulty)}
    case = by_id["DM20-C-GET-001"]
    found = labels(case)
    assert found["epic"] == ["DM client under test"]
    assert "Section 6.2" in found["feature"]
    assert "GET" in found["story"]
    assert found["severity"] == ["normal"]  # "will" requirements
    assert {"DM20-6.2-004", "DM20-6.2-005", "DM20-6.2-006"} <= set(found["requirement"])
    assert case["steps"] and case["steps"][0]["name"].startswith("step 1")
    exchanges = [s for step in case["steps"] for s in step.get("steps", [])]
    assert exchanges and exchanges[0]["name"].startswith("POST http://127.0.0.1:")
    names = [a["name"] for a in exchanges[0]["attachments"]]
    assert names == ["request", "response"]
    request = (faulty.allure / exchanges[0]["attachments"][0]["source"]).read_text()
    assert request.startswith("POST ") and '"Status"' in request
    header_case = next(r for r in results(faulty) if BROKEN in labels(r)["requirement"])
    assert labels(header_case)["severity"] == ["critical"]  # a MUST requirement
    assert header_case["status"] == "failed"
    message = header_case["statusDetails"]["message"]
    assert re.match(CATEGORIES[0]["messageRegex"], message), message


def test_allure_environment_and_categories(faulty: Run) -> None:
    properties = (faulty.allure / "environment.properties").read_text()
    assert f"client.name=dm20-conformance sample client (mutant {FAULT})" in properties
    assert "client.features=GET,PUT,POST,DELETE,EXEC,INCLUDE,SHOW,DEFAULT,CONT" in properties
    assert "profile=dm20-draft" in properties
    categories = json.loads((faulty.allure / "categories.json").read_text())
    names = [c["name"] for c in categories]
    assert names[:3] == [
        "Implementation does not conform",
        "Timeout, implementation did not respond",
        "Harness or environment error",
    ]


def test_conformance_report_content(conforming: Run, faulty: Run) -> None:
    good, bad = conforming.report, faulty.report
    assert good["implementations"][0]["name"] == "dm20-conformance sample client"
    assert bad["implementations"][0]["name"].endswith(f"(mutant {FAULT})")
    assert bad["implementations"][0]["features"] == [
        "GET",
        "PUT",
        "POST",
        "DELETE",
        "EXEC",
        "INCLUDE",
        "SHOW",
        "DEFAULT",
        "CONT",
    ]
    assert len(bad["suite"]["cases_sha256"]) == 64
    assert bad["suite"]["cases_sha256"] == good["suite"]["cases_sha256"]
    assert set(bad["profile"]["assumptions"]) == {f"A{n}" for n in range(1, 15)}
    rows = {r["id"]: r for r in bad["requirements"]}
    assert rows[BROKEN]["verdict"] == "FAIL"
    assert rows["DM20-6-001"]["verdict"] == "UNTESTABLE" and rows["DM20-6-001"]["why_untestable"]
    assert {r["id"]: r for r in good["requirements"]}[BROKEN]["verdict"] == "PASS"
    counts = Counter(r["verdict"] for r in bad["cases"])
    assert bad["summary"]["FAIL"] == counts["FAIL"] > 0
    assert bad["gate"]["outcome"] == "FAILED" and good["gate"]["outcome"] == "PASSED"
    html = (faulty.folder / "report.html").read_text()
    assert "<script" not in html and "http://" not in html.split("<body>")[0]
