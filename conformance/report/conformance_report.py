"""The conformance report a vendor hands over: the implementation's identity and declared
features, the profile and the assumptions in force, the suite version and a hash of the case
files, the verdict per requirement (rolled up from its cases) and per case, with the failure
messages. Written as report.json and as one self-contained report.html (no network, no script)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.catalog import Catalog
from conformance.dut import DutFile
from conformance.profiles import Profile
from conformance.report.html import render
from conformance.report.results import count_verdicts, read_results
from conformance.verdicts import Verdict, worst

UNTESTABLE = "UNTESTABLE"
NOT_TESTED = "NOT TESTED"


def cases_hash(files: Iterable[Path]) -> str:
    """SHA-256 over the case files (name and content, in a stable order)."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: (p.parent.name, p.name)):
        digest.update(f"{path.parent.name}/{path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _name(record: dict[str, Any]) -> str:
    """A case record's name: its case ID, with the parameters of its variant."""
    return record["nodeid"].split("::")[-1]


def requirement_rows(catalog: Catalog, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every requirement of the catalog with the verdict its cases add up to."""
    rows = []
    for entry in catalog:
        cases = [r for r in records if entry.id in r.get("requirements", [])]
        if not entry.testable:
            verdict = UNTESTABLE
        elif not cases:
            verdict = NOT_TESTED
        else:
            verdict = worst([Verdict(r["verdict"]) for r in cases]).value
        assumptions = sorted(
            {a for r in cases for a in r.get("assumptions", [])} | set(entry.assumptions),
            key=lambda a: int(a[1:]),
        )
        rows.append(
            {
                "id": entry.id,
                "section": entry.section,
                "level": entry.level,
                "binds": entry.binds,
                "text": entry.text,
                "detail": entry.detail,
                "testable": entry.testable,
                "why_untestable": entry.why_untestable,
                "verdict": verdict,
                "cases": [
                    {"case": r["nodeid"].split("::")[-1], "verdict": r["verdict"]} for r in cases
                ],
                "assumptions": assumptions,
            }
        )
    return rows


def build(
    records: list[dict[str, Any]],
    implementations: list[dict[str, Any]],
    profile: Profile,
    catalog: Catalog,
    case_files: list[Path],
    started: str | None = None,
) -> dict[str, Any]:
    """The report's data."""
    used = sorted({a for r in records for a in r.get("assumptions", [])}, key=lambda a: int(a[1:]))
    counts = count_verdicts(records)
    return {
        "title": "DM 2.0 draft conformance report",
        "suite": {
            "name": "dm20-conformance",
            "version": __version__,
            "case_files": len(case_files),
            "cases_sha256": cases_hash(case_files),
        },
        "run": {
            "started": started or datetime.now(UTC).isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "implementations": implementations,
        "profile": {
            "name": profile.name,
            "title": profile.title,
            "assumptions": dict(profile.assumptions),
            "assumptions_used": used,
        },
        "summary": {v.value: counts.get(v.value, 0) for v in Verdict},
        "requirements": requirement_rows(catalog, records),
        "cases": sorted(records, key=_name),
    }


def write(folder: Path, data: dict[str, Any]) -> tuple[Path, Path]:
    """report.json and report.html in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    as_json = folder / "report.json"
    as_json.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    as_html = folder / "report.html"
    as_html.write_text(render(data), encoding="utf-8")
    return as_json, as_html


def implementation(dut: DutFile) -> dict[str, Any]:
    """What the report shows of a DUT: its identity, declared features and ixit."""
    return {**dut.identity(), "ixit": dut.ixit}


def merge_runs(runs: list[Path]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
    """The records of several runs (or several workers' files) as one: a case that ran in a
    later run replaces its earlier record. Also the implementations and the run's start."""
    by_case: dict[str, dict[str, Any]] = {}
    implementations: dict[tuple[str, str], dict[str, Any]] = {}
    started = None
    for run in runs:
        for record in read_results(run):
            by_case[record["nodeid"]] = record
        report = run / "report.json"
        if report.is_file():
            data = json.loads(report.read_text(encoding="utf-8"))
            started = started or data["run"]["started"]
            for dut in data["implementations"]:
                implementations[(dut["role"], dut["file"])] = dut
    return list(by_case.values()), list(implementations.values()), started
