"""An Allure test plan (ALLURE_TESTPLAN_PATH) selects cases by their case ID (the as_id label)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.report.conftest import run_suite


def test_testplan_selects_by_case_id(tmp_path: Path) -> None:
    plan = tmp_path / "testplan.json"
    plan.write_text(
        json.dumps(
            {"version": "1.0", "tests": [{"id": "DM20-C-GET-001"}, {"id": "DM20-S-SESSION-001"}]}
        )
    )
    run = run_suite(
        tmp_path / "run", selection="GET or SESSION", env={"ALLURE_TESTPLAN_PATH": str(plan)}
    )
    names = sorted(r.name for r in run.records)
    assert names == ["DM20-C-GET-001", "DM20-S-SESSION-001"], run.output
