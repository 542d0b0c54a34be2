"""The engine runs cases without pytest: `Harness(Options(...)).run_case(case, params, name)` in a
plain Python process, against the bundled samples and against a faulty sample, gives the records
the plugin would give. What this process imports is checked too: the engine imports
pytest_httpserver (the reference server), which itself imports no pytest."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.records import CaseRecord, Verdict
from tests.harness.helpers import PYTHON, REPO, run
from tests.mutants import client_mutants  # noqa: F401  (it registers)
from tests.mutants.registry import MUTANTS, write_dut

MUTANT = "client-no-device-id"  # breaks DM20-6.3-005 in every message

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    def pytest_loaded():
        return sorted(m for m in ("pytest", "_pytest", "pluggy") if m in sys.modules)

    from conformance.engine.harness import Harness, Options
    from conformance.engine.loader import load_case_file, packaged_cases_dir

    out = {"after_import": pytest_loaded(), "records": {}}
    runs = json.loads(sys.argv[1])
    for label, (dut, file, case_id) in runs.items():
        harness = Harness(Options(dut=Path(dut) if dut else None, timeout_s=5))
        try:
            [case] = [c for c in load_case_file(packaged_cases_dir() / file) if c.id == case_id]
            (_, params), name = case.variants()[0], case.run_names()[0]
            record = harness.run_case(case, params, name)
        finally:
            harness.close()
        out["records"][label] = record.to_json()
    out["after_run"] = pytest_loaded()
    out["httpserver"] = "pytest_httpserver" in sys.modules
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("engine-alone")
    dut = write_dut(MUTANTS[MUTANT], folder)
    runs = {
        "client": [None, "client/get.yaml", "DM20-C-GET-001"],
        "server": [None, "server/session.yaml", "DM20-S-SESSION-002"],
        "mutant": [str(dut), "client/headers.yaml", "DM20-C-HDR-001"],
    }
    script = folder / "alone.py"
    script.write_text(SCRIPT, encoding="utf-8")
    ran = run([PYTHON, script, json.dumps(runs)], cwd=folder)
    assert ran.returncode == 0, ran.tail()
    data: dict[str, Any] = json.loads(ran.stdout.splitlines()[-1])
    data["records"] = {k: CaseRecord.from_json(v) for k, v in data["records"].items()}
    data["stderr"] = ran.stderr
    return data


def test_no_pytest_is_imported_or_active(alone: dict[str, Any]) -> None:
    assert alone["after_import"] == [], "importing the engine imported pytest"
    assert alone["after_run"] == [], "running cases imported pytest"
    assert alone["httpserver"], "the reference server (pytest_httpserver) was not used"


def test_a_client_case_passes_with_the_record_the_plugin_gives(alone: dict[str, Any]) -> None:
    record: CaseRecord = alone["records"]["client"]
    assert (record.name, record.case, record.role) == ("DM20-C-GET-001",) * 2 + ("client",)
    assert record.verdict is Verdict.PASS, record.message
    assert record.requirements == ["DM20-6.2-006", "DM20-6.2-004", "DM20-5.3-003", "DM20-6.2-005"]
    assert record.passed == record.requirements and record.failed == []
    assert record.findings == [] and record.message == ""
    assert Path(record.file) == REPO / "testcases" / "client" / "get.yaml"


def test_a_server_case_runs_against_the_sample_server(alone: dict[str, Any]) -> None:
    record: CaseRecord = alone["records"]["server"]
    assert record.verdict is Verdict.PASS, record.message
    assert record.role == "server" and record.passed == ["DM20-5.2-005"]


def test_a_faulty_client_fails_naming_what_it_broke(alone: dict[str, Any]) -> None:
    record: CaseRecord = alone["records"]["mutant"]
    requirement = MUTANTS[MUTANT].requirement
    assert record.verdict is Verdict.FAIL, record.message
    assert requirement in record.failed and requirement not in record.passed
    assert requirement in record.message
    assert any(f.basis == requirement and f.failed for f in record.findings)
