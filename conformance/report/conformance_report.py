"""The conformance report a vendor hands over: the implementation's statement (its declared
role, features and ixit facts) and every requirement it puts in scope, the profile and the
assumptions in force, the provenance (report/provenance.py: harness version and commit, the
SHA-256 of every input, official and vendor case files apart, who ran it where and how), the
requirements and assumptions it broke first, the gate with each waived failure and its reason,
then the state of every requirement and the verdict per case with the failure messages. Written
as report.json and as one self-contained report.html (no network, no script).

A requirement's state is one of: PASS (at least one case exercised it and none saw it broken),
FAIL (a case saw it broken), WAIVED (every failure of it is a known deviation of the baseline),
NOT EXERCISED (in scope, but no case checked it to the end: the reason is listed), OUT OF SCOPE
(the DUT's role or declared features put it outside the run) and UNTESTABLE (the catalog says
why). A requirement is never PASS for want of a case."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.catalog import Catalog, Requirement
from conformance.dut import DutFile
from conformance.engine.records import CaseRecord, Verdict
from conformance.profiles import Profile
from conformance.report.html import render
from conformance.report.provenance import overridden
from conformance.report.results import count_verdicts, read_results

PASS, FAIL, WAIVED = "PASS", "FAIL", "WAIVED"
NOT_EXERCISED, OUT_OF_SCOPE, UNTESTABLE = "NOT EXERCISED", "OUT OF SCOPE", "UNTESTABLE"
STATES = (FAIL, WAIVED, NOT_EXERCISED, PASS, OUT_OF_SCOPE, UNTESTABLE)


def cases_hash(files: Iterable[Path]) -> str:
    """SHA-256 over the case files (name and content, in a stable order)."""
    digest = hashlib.sha256()
    for path in sorted(files, key=lambda p: (p.parent.name, p.name)):
        digest.update(f"{path.parent.name}/{path.name}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _scope(
    requirement: Requirement, implementations: list[dict[str, Any]], profile: Profile
) -> tuple[str, str] | None:
    """Why `requirement` is out of this run's scope ("role" or "feature", and the reason in
    words), or None when it is in scope."""
    roles = {dut["role"] for dut in implementations}
    if roles and not any(
        (role == "client" and requirement.binds_client)
        or (role == "server" and requirement.binds_server)
        for role in roles
    ):
        return "role", (
            f"binds the {requirement.binds}; this run tested a DM {' and '.join(sorted(roles))}"
        )
    if requirement.command and implementations:
        names = requirement.command.split("/")
        features = {
            spec.feature for name in names if (spec := profile.command(name)) and spec.feature
        }
        declared = {f for dut in implementations for f in dut.get("features", [])}
        if features and not features & declared:
            return "feature", (
                f"about {requirement.command}, which the implementation does not declare (A6)"
            )
    return None


def _state(
    basis: str, records: list[CaseRecord], waived: set[str]
) -> tuple[str, list[CaseRecord], list[CaseRecord]]:
    failing = [r for r in records if basis in r.failed]
    passing = [r for r in records if basis in r.passed]
    if failing:
        if all(r.name in waived for r in failing):
            return WAIVED, failing, passing
        return FAIL, failing, passing
    return (PASS if passing else NOT_EXERCISED), failing, passing


def _why_not_exercised(basis: str, records: list[CaseRecord]) -> str:
    verifying = [r for r in records if basis in r.requirements]
    if not verifying:
        return "no case of this run names it"
    reasons = sorted({f"{r.name}: {r.verdict.value}" for r in verifying})
    return (
        "its cases did not check it to the end: "
        + "; ".join(reasons[:6])
        + (f" (and {len(reasons) - 6} more)" if len(reasons) > 6 else "")
    )


def _first_finding(basis: str, records: list[CaseRecord]) -> str:
    for record in records:
        for finding in record.findings:
            if finding.basis == basis and finding.failed:
                return f"{record.name}, {finding.step}: {finding.message}"
    return ""


def _waived_because(failing: list[CaseRecord], waivers: list[dict[str, Any]]) -> str:
    """The reasons (and who gave them) of the waivers that cover `failing`."""
    names = {r.name for r in failing}
    found = [
        w["reason"] + (f" (waived by {w['waived_by']})" if w.get("waived_by") else "")
        for w in waivers
        if names & set(w["cases"])
    ]
    return "waived: " + "; ".join(dict.fromkeys(found)) if found else ""


def requirement_rows(
    catalog: Catalog,
    records: list[CaseRecord],
    implementations: list[dict[str, Any]],
    profile: Profile,
    waived: set[str],
    waivers: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every requirement of the catalog with its state."""
    rows = []
    for entry in catalog:
        scope = _scope(entry, implementations, profile)
        state, failing, passing = _state(entry.id, records, waived)
        reason = _waived_because(failing, waivers or []) if state == WAIVED else ""
        scoped_out = ""
        if not entry.testable:
            state, reason = UNTESTABLE, entry.why_untestable or ""
        elif scope and not failing:
            (scoped_out, reason), state = scope, OUT_OF_SCOPE
        elif state == NOT_EXERCISED:
            reason = _why_not_exercised(entry.id, records)
        cases = [r for r in records if entry.id in r.requirements or entry.id in r.failed]
        rows.append(
            {
                "id": entry.id,
                "section": entry.section,
                "level": entry.level,
                "binds": entry.binds,
                "text": entry.text,
                "detail": entry.detail,
                "testable": entry.testable,
                "state": state,
                "reason": reason,
                "out_of_scope_by": scoped_out,  # "role" | "feature" when OUT OF SCOPE
                "first_failure": _first_finding(entry.id, failing),
                "failed_in": [r.name for r in failing],
                "passed_in": [r.name for r in passing],
                "cases": [{"case": r.name, "verdict": r.verdict.value} for r in cases],
                "assumptions": sorted(
                    {a for r in cases for a in r.assumptions} | set(entry.assumptions),
                    key=_id_order,
                ),
            }
        )
    return rows


def statement(
    implementations: list[dict[str, Any]], requirements: list[dict[str, Any]]
) -> dict[str, Any]:
    """The implementation's statement (its declared role, features and ixit facts: the ICS and
    the IXIT) and what it puts in scope: every testable requirement the role and the declared
    features bind, counted by how each was decided, and those it leaves out, by why."""
    in_scope = [r for r in requirements if r["state"] not in (OUT_OF_SCOPE, UNTESTABLE)]
    out = [r for r in requirements if r["state"] == OUT_OF_SCOPE]
    return {
        "implementations": [
            {
                "name": d["name"],
                "version": d["version"],
                "role": d["role"],
                "features": list(d.get("features", [])),
                "ixit": dict(d.get("ixit", {})),
            }
            for d in implementations
        ],
        "in_scope": len(in_scope),
        "in_scope_states": {
            s: sum(1 for r in in_scope if r["state"] == s)
            for s in (PASS, FAIL, WAIVED, NOT_EXERCISED)
        },
        "out_of_scope": {
            "role": sum(1 for r in out if r.get("out_of_scope_by") == "role"),
            "feature": sum(1 for r in out if r.get("out_of_scope_by") == "feature"),
        },
        "untestable": sum(1 for r in requirements if r["state"] == UNTESTABLE),
    }


def _id_order(basis: str) -> tuple[str, float]:
    head, number = basis[0], basis[1:]
    try:
        return head, float(number)
    except ValueError:
        return head, 0.0


def assumption_rows(
    profile: Profile, records: list[CaseRecord], waived: set[str]
) -> list[dict[str, Any]]:
    """Every assumption and rule of the profile, with the state of the checks that rest on it."""
    rows = []
    for kind, table in (("assumption", profile.assumptions), ("rule", profile.rules)):
        for basis, text in table.items():
            state, failing, passing = _state(basis, records, waived)
            relied = [r.name for r in records if basis in r.assumptions]
            rows.append(
                {
                    "id": basis,
                    "kind": kind,
                    "text": text,
                    "state": state if (failing or passing) else "",
                    "first_failure": _first_finding(basis, failing),
                    "failed_in": [r.name for r in failing],
                    "relied_on_by": relied,
                }
            )
    return rows


def broken(rows: list[dict[str, Any]], records: list[CaseRecord]) -> list[dict[str, Any]]:
    """What the implementation broke, each requirement or assumption once, worst first: the
    first thing a vendor reads."""
    out = []
    for row in rows:
        if row["state"] != FAIL:
            continue
        seen = sum(
            f.count for r in records for f in r.findings if f.basis == row["id"] and f.failed
        )
        out.append(
            {
                "id": row["id"],
                "level": row.get("level", row.get("kind", "")),
                "text": row["text"],
                "detail": row.get("detail"),
                "cases": len(row["failed_in"]),
                "seen": seen,
                "first": row["first_failure"],
            }
        )
    return out


def waived_failures(
    records: list[CaseRecord], catalog: Catalog, gate: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Each failure the baseline waived: the case run, what it broke (with each requirement's
    level), and the waiver that covers it, with its reason and who waived it."""
    by_case = {c: w for w in (gate or {}).get("waivers", []) for c in w["cases"]}
    out = []
    for record in sorted(records, key=lambda r: r.name):
        waiver = by_case.get(record.name)
        if waiver is None:
            continue
        out.append(
            {
                "case": record.name,
                "verdict": record.verdict.value,
                "origin": record.origin.value,
                "broke": [
                    {"id": i, "level": catalog[i].level if i in catalog else "assumption"}
                    for i in (record.failed or record.requirements)
                ],
                "waiver": waiver["target"],
                "kind": waiver["kind"],
                "reason": waiver["reason"],
                "waived_by": waiver.get("waived_by") or "",
            }
        )
    return out


def _case_entry(record: CaseRecord, replaced: dict[str, str]) -> dict[str, Any]:
    entry = record.to_json()
    if record.origin.value == "vendor" and record.case in replaced:
        entry["overrides"] = replaced[record.case]  # the official case (file:line) it replaces
    return entry


def build(
    records: list[CaseRecord],
    implementations: list[dict[str, Any]],
    profile: Profile,
    catalog: Catalog,
    case_files: list[Path],
    started: str | None = None,
    gate: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report's data. `provenance` (report/provenance.py) says where it comes from."""
    waived = set((gate or {}).get("known", []))
    waivers = (gate or {}).get("waivers", [])
    requirements = requirement_rows(catalog, records, implementations, profile, waived, waivers)
    assumptions = assumption_rows(profile, records, waived)
    counts = count_verdicts(records)
    state_counts = {s: sum(1 for r in requirements if r["state"] == s) for s in STATES}
    used = sorted({a for r in records for a in r.assumptions}, key=_id_order)
    listing = (provenance or {}).get("cases") or {}
    replaced = overridden(listing)
    return {
        "title": "DM 2.0 draft conformance report",
        "suite": {
            "name": "dm20-conformance",
            "version": __version__,
            "case_files": len(case_files),
            "cases_sha256": cases_hash(case_files),
            "official_sha256": (listing.get("suite") or {}).get("sha256"),
            "vendor_case_files": (listing.get("vendor") or {}).get("files", 0),
        },
        "run": {
            "started": started or datetime.now(UTC).isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "provenance": provenance,
        "implementations": implementations,
        "profile": {
            "name": profile.name,
            "title": profile.title,
            "assumptions": dict(profile.assumptions),
            "rules": dict(profile.rules),
            "assumptions_used": used,
        },
        "summary": {v.value: counts.get(v.value, 0) for v in Verdict},
        "requirement_states": state_counts,
        "broken": broken(requirements, records) + broken(assumptions, records),
        "requirements": requirements,
        "assumptions": assumptions,
        "gate": gate,
        "waived_failures": waived_failures(records, catalog, gate),
        "statement": statement(implementations, requirements),
        "cases": [_case_entry(r, replaced) for r in sorted(records, key=lambda r: r.name)],
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


def merge_runs(runs: list[Path]) -> tuple[list[CaseRecord], list[dict[str, Any]], str | None]:
    """The records of several runs (or several workers' files) as one: a case that ran in a
    later run replaces its earlier record. Also the implementations and the run's start."""
    by_case: dict[str, CaseRecord] = {}
    implementations: dict[tuple[str, str], dict[str, Any]] = {}
    started = None
    for run in runs:
        for record in read_results(run):
            by_case[record.nodeid or record.name] = record
        report = run / "report.json"
        if report.is_file():
            data = json.loads(report.read_text(encoding="utf-8"))
            started = started or data["run"]["started"]
            for dut in data["implementations"]:
                implementations[(dut["role"], dut["file"])] = dut
    return list(by_case.values()), list(implementations.values()), started


def runs_provenance(runs: list[Path]) -> list[dict[str, Any] | None]:
    """The provenance each run's own report.json recorded (None for a run without one): what
    `report` keeps of the runs it merges."""
    found: list[dict[str, Any] | None] = []
    for run in runs:
        try:
            data = json.loads((run / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        found.append(data.get("provenance") if isinstance(data, dict) else None)
    return found
