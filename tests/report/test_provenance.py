"""Provenance, piece by piece: the harness's source without git, a profile and the profiles it
extends, the case listing (official and vendor apart, overrides named), the command line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from conformance.engine.loader import packaged_cases_dir
from conformance.profiles import load_profile
from conformance.report import provenance
from conformance.report.provenance import CaseSource, case_listing, profile_files

REPO = Path(__file__).resolve().parents[2]


def test_without_git_the_harness_is_installed_and_nothing_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no git to be found
    source = provenance.harness_source.__wrapped__()
    assert source["source"] == "installed" and source["commit"] is None
    assert source["version"] and source["folder"]


def test_a_profile_is_hashed_with_every_profile_it_extends(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("extends: dm20-draft\ntitle: a base variant\n")
    top = tmp_path / "top.yaml"
    top.write_text("extends: base.yaml\nrelaxed: [A2]\n")
    files = profile_files(load_profile(str(top)))
    assert [p.name for p in files] == ["top.yaml", "base.yaml", "dm20-draft.yaml"]
    assert files[2].parent.name == "profiles"


def test_official_and_vendor_case_files_are_listed_apart(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor" / "client"
    vendor.mkdir(parents=True)
    mine = vendor / "mine.yaml"
    mine.write_text(
        yaml.safe_dump(
            [
                {"id": "DM20-C-GET-001", "overrides": True, "title": "mine"},
                {"id": "DM20-C-MINE-001", "title": "my own"},
            ]
        )
    )
    listing = case_listing(
        [CaseSource(packaged_cases_dir(), "official"), CaseSource(tmp_path / "vendor", "vendor")]
    )
    files = {Path(f["path"]): f for f in listing["files"]}
    entry = files[mine.resolve()]
    assert entry["origin"] == "vendor" and entry["relative"] == "client/mine.yaml"
    assert entry["sha256"] == hashlib.sha256(mine.read_bytes()).hexdigest()
    assert entry["cases"] == ["DM20-C-GET-001", "DM20-C-MINE-001"]
    [override] = entry["overrides"]
    assert override["case"] == "DM20-C-GET-001" and "/client/get.yaml:" in override["official"]
    assert listing["vendor"] == {
        "files": 1,
        "cases": 2,
        "sha256": listing["vendor"]["sha256"],
        "roots": [str((tmp_path / "vendor").resolve())],
    }
    alone = case_listing([CaseSource(packaged_cases_dir(), "official")])
    assert alone["suite"] == listing["suite"], "vendor cases leave the suite's hash alone"
    assert alone["vendor"]["files"] == 0 and alone["vendor"]["sha256"] is None


def test_the_command_line_reads_as_typed() -> None:
    assert provenance.command_line(
        ["/x/.venv/bin/dm20-conformance", "run", "-k", "GET or PUT"]
    ) == ("dm20-conformance run -k 'GET or PUT'")
    assert provenance.command_line(["/x/site-packages/pytest/__main__.py", "--dut", "a.yaml"]) == (
        "python -m pytest --dut a.yaml"
    )
