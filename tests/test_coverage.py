"""The coverage matrix (conformance/report/coverage.py and `dm20-conformance coverage`): the command
writes coverage.json and coverage.md, every testable requirement of the catalog has a shipped case
on each side it binds, and a gap in a synthetic catalog is reported as one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.catalog import Catalog, Requirement, load_catalog
from conformance.engine.loader import load_all, packaged_cases_dir
from conformance.engine.model import Case, Step
from conformance.engine.steps import BY_KEY
from conformance.report.coverage import collected, coverage, markdown, named_requirements

CLI = Path(sys.executable).parent / "dm20-conformance"
CATALOG = load_catalog()


@pytest.fixture(scope="module")
def shipped() -> list[Case]:
    """The cases shipped in the package, as the plugin collects them."""
    cases, problems = load_all([packaged_cases_dir()])
    assert not problems, "\n".join(str(p) for p in problems)
    return collected(cases)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "conformance.cli"]
    return subprocess.run(
        [*argv, "coverage", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def gap_status(data: dict[str, object]) -> int:
    """The command's exit status for the matrix it wrote: 1 when it has a gap (the shipped cases'
    gaps are the business of test_the_matrix_of_the_shipped_cases_has_no_gap)."""
    summary = data["summary"]
    assert isinstance(summary, dict)
    return 1 if summary["gaps"] else 0


# -- the command -----------------------------------------------------------------------------------
def test_command_prints_the_matrix_and_writes_both_files(tmp_path: Path) -> None:
    done = _cli("--out", str(tmp_path / "out"), cwd=tmp_path)
    data = json.loads((tmp_path / "out" / "coverage.json").read_text(encoding="utf-8"))
    assert done.returncode == gap_status(data), done.stdout[-2000:] + done.stderr
    text = (tmp_path / "out" / "coverage.md").read_text(encoding="utf-8")
    assert [r["id"] for r in data["requirements"]] == [r.id for r in CATALOG]
    assert data["summary"]["line"] in text
    assert data["summary"]["line"] in done.stdout
    for requirement in CATALOG:
        assert f"| {requirement.id} |" in text
        if not requirement.testable:
            assert requirement.why_untestable.split()[0] in text
    assert "testable requirements covered" in done.stdout


def test_command_writes_to_the_current_folder_by_default(tmp_path: Path) -> None:
    done = _cli(cwd=tmp_path)
    data = json.loads((tmp_path / "coverage.json").read_text(encoding="utf-8"))
    assert done.returncode == gap_status(data), done.stderr
    assert (tmp_path / "coverage.md").is_file()


def test_command_counts_a_vendor_case_folder(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "mine.yaml").write_text(
        "id: DM20-C-VENDOR-001\n"
        "title: a vendor case on the first message\n"
        "role: client\n"
        "requirements: [DM20-6.3-002]\n"
        "assumptions: [A13]\n"
        "steps:\n"
        "  - open: session\n"
        "  - close: session\n",
        encoding="utf-8",
    )
    done = _cli("--cases", str(vendor), "--out", str(tmp_path), cwd=tmp_path)
    data = json.loads((tmp_path / "coverage.json").read_text(encoding="utf-8"))
    assert done.returncode == gap_status(data), done.stderr
    [row] = [r for r in data["requirements"] if r["id"] == "DM20-6.3-002"]
    assert {"id": "DM20-C-VENDOR-001", "assumptions": ["A13"]}.items() <= next(
        c for c in row["cases"]["client"] if c["id"] == "DM20-C-VENDOR-001"
    ).items()


# -- the shipped cases cover the catalog -----------------------------------------------------------
def _cases_naming(cases: list[Case], requirement_id: str, role: str) -> list[str]:
    return [c.id for c in cases if c.role == role and requirement_id in named_requirements(c)]


@pytest.mark.parametrize(
    "requirement",
    [pytest.param(r, id=r.id) for r in CATALOG if r.testable and r.binds_client],
)
def test_every_testable_client_requirement_has_a_client_case(
    requirement: Requirement, shipped: list[Case]
) -> None:
    assert _cases_naming(shipped, requirement.id, "client"), (
        f"{requirement.id} ({requirement.level}, binds {requirement.binds}) is testable but no "
        f"client-role case names it: “{requirement.text}”"
    )


@pytest.mark.parametrize(
    "requirement",
    [pytest.param(r, id=r.id) for r in CATALOG if r.testable and r.binds_server],
)
def test_every_testable_server_requirement_has_a_server_case(
    requirement: Requirement, shipped: list[Case]
) -> None:
    assert _cases_naming(shipped, requirement.id, "server"), (
        f"{requirement.id} ({requirement.level}, binds {requirement.binds}) is testable but no "
        f"server-role case names it: “{requirement.text}”"
    )


def test_the_matrix_of_the_shipped_cases_has_no_gap(shipped: list[Case]) -> None:
    data = coverage(CATALOG, shipped)
    summary = data["summary"]
    assert summary["gaps"] == [], summary["line"]
    assert summary["unknown"] == []
    assert summary["covered"] == summary["testable"] == sum(r.testable for r in CATALOG)
    assert len(summary["untestable"]) == sum(not r.testable for r in CATALOG)
    assert all(u["why_untestable"] for u in summary["untestable"])


# -- the pure function on a synthetic catalog ------------------------------------------------------
def _requirement(rid: str, binds: str, testable: bool = True) -> Requirement:
    return Requirement(
        id=rid,
        section=rid.split("-")[1],
        seed="seed.txt",
        level="MUST",
        binds=binds,
        text=f"the sentence of {rid}",
        detail=None,
        command=None,
        assumptions=(),
        testable=testable,
        why_untestable=None if testable else "nothing on the wire",
    )


def _case(cid: str, role: str, requirements: list[str], verifies: tuple[str, ...] = ()) -> Case:
    steps = (Step((0,), BY_KEY["open session"], {"open": "session"}, 1),)
    if verifies:
        data = {"expect": "request", "verifies": list(verifies)}
        steps += (Step((1,), BY_KEY["expect request"], data, 2),)
    return Case(
        id=cid,
        title=cid,
        role=role,
        requirements=tuple(requirements),
        steps=steps,
        path=Path(f"/cases/{cid}.yaml"),
        line=1,
        assumptions=("A2",),
    )


SYNTHETIC = Catalog(
    "synthetic",
    {"seed.txt": "a seed"},
    [
        _requirement("DM20-9-001", "client"),
        _requirement("DM20-9-002", "server"),
        _requirement("DM20-9-003", "both"),
        _requirement("DM20-9-004", "client"),
        _requirement("DM20-9-005", "both", testable=False),
        _requirement("DM20-9-006", "client"),
    ],
    "synthetic.yaml",
)


def test_coverage_reports_each_missing_side_as_a_gap() -> None:
    cases = [
        _case("DM20-C-X-001", "client", ["DM20-9-001", "DM20-9-003"]),
        # a server-binding requirement named only by a client case is still a server gap
        _case("DM20-C-X-002", "client", ["DM20-9-002"]),
        # a step's `verifies` names a requirement too
        _case("DM20-C-X-003", "client", ["DM20-9-001"], verifies=("DM20-9-006",)),
        _case("DM20-S-X-001", "server", ["DM20-9-404"]),
    ]
    data = coverage(SYNTHETIC, cases)
    summary = data["summary"]
    assert summary["gaps"] == [
        {"id": "DM20-9-002", "side": "server"},
        {"id": "DM20-9-003", "side": "server"},
        {"id": "DM20-9-004", "side": "client"},
    ]
    assert (summary["testable"], summary["covered"]) == (5, 2)
    assert summary["client"] == {"binding": 4, "covered": 3, "cases": 3}
    assert summary["server"] == {"binding": 2, "covered": 0, "cases": 1}
    assert summary["untestable"] == [{"id": "DM20-9-005", "why_untestable": "nothing on the wire"}]
    assert summary["unknown"] == [{"case": "DM20-S-X-001", "requirement": "DM20-9-404"}]
    rows = {r["id"]: r for r in data["requirements"]}
    assert rows["DM20-9-003"]["missing"] == ["server"]
    assert [c["id"] for c in rows["DM20-9-001"]["cases"]["client"]] == [
        "DM20-C-X-001",
        "DM20-C-X-003",
    ]
    assert rows["DM20-9-001"]["cases"]["client"][0]["assumptions"] == ["A2"]
    assert [c["id"] for c in rows["DM20-9-006"]["cases"]["client"]] == ["DM20-C-X-003"]
    assert rows["DM20-9-005"]["needs"] == [] and not rows["DM20-9-005"]["covered"]
    assert "2/5 testable requirements covered" in summary["line"]
    assert "DM20-9-004 (client)" in summary["line"]

    text = markdown(data)
    assert "GAP: no server-role case" in text
    assert "- DM20-9-004 (MUST, binds client): no client-role case names it." in text
    assert "- DM20-9-005: nothing on the wire" in text
    assert "DM20-S-X-001 names DM20-9-404" in text


def test_coverage_with_every_side_covered_has_no_gap() -> None:
    cases = [
        _case("DM20-C-X-001", "client", ["DM20-9-001", "DM20-9-003", "DM20-9-004", "DM20-9-006"]),
        _case("DM20-S-X-001", "server", ["DM20-9-002", "DM20-9-003"]),
    ]
    data = coverage(SYNTHETIC, cases)
    assert data["summary"]["gaps"] == []
    assert data["summary"]["covered"] == data["summary"]["testable"] == 5
    assert "None: every testable requirement" in markdown(data)
    json.dumps(data)  # JSON-ready


def test_cases_in_underscore_files_are_not_counted() -> None:
    hidden = _case("DM20-C-X-009", "client", ["DM20-9-004"])
    hidden = Case(**{**hidden.__dict__, "path": Path("/cases/_draft.yaml")})
    assert collected([hidden]) == []
