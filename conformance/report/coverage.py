"""The coverage matrix: every requirement of the catalog against the test cases that name it, by
role. A case names a requirement in its `requirements` or in a step's `verifies`. A testable
requirement must be named by a client-role case when it binds the client and by a server-role
case when it binds the server (`both` needs one of each); a side without one is a gap.
Untestable requirements are listed with the catalog's reason. No run is needed: this reads the
case files, not results.

    data = coverage(load_catalog(), cases)      # pure: a JSON-ready dict
    text = markdown(data)                       # the same, as a Markdown report
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conformance.catalog import Requirement
from conformance.engine.model import Case

__all__ = ["SIDES", "collected", "coverage", "markdown", "named_requirements", "write"]

SIDES = ("client", "server")
JSON_FILE = "coverage.json"
MARKDOWN_FILE = "coverage.md"


def named_requirements(case: Case) -> list[str]:
    """The requirement IDs a case names: its own, then those its steps' `verifies` add
    (assumption and rule IDs among them are left out: the matrix is of the catalog)."""
    return [i for i in case.verified() if i.startswith("DM20-")]


def collected(cases: Iterable[Case]) -> list[Case]:
    """The cases the plugin runs: files named `_…` are not collected."""
    return [c for c in cases if not c.path.name.startswith("_")]


def _sides(requirement: Requirement) -> list[str]:
    """The roles whose cases must cover a testable requirement."""
    return [
        side
        for side, binds in zip(
            SIDES, (requirement.binds_client, requirement.binds_server), strict=True
        )
        if binds
    ]


def _case_entry(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "title": case.title,
        "assumptions": list(case.assumptions),
        "requires": list(case.requires),
    }


def coverage(catalog: Iterable[Requirement], cases: Iterable[Case]) -> dict[str, Any]:
    """The requirement x cases x role matrix of `catalog` (a Catalog or any iterable of
    Requirements) over `cases`, with its summary and gaps, as a JSON-ready dict."""
    requirements = list(catalog)
    cases = sorted(cases, key=lambda c: (c.role, c.id))
    known = {r.id for r in requirements}
    by_requirement: dict[str, dict[str, list[Case]]] = {
        r.id: {side: [] for side in SIDES} for r in requirements
    }
    unknown = []
    for case in cases:
        for requirement_id in named_requirements(case):
            if requirement_id in known:
                by_requirement[requirement_id].setdefault(case.role, []).append(case)
            else:
                unknown.append({"case": case.id, "requirement": requirement_id})

    rows: list[dict[str, Any]] = []
    gaps = []
    for requirement in requirements:
        named = by_requirement[requirement.id]
        needs = _sides(requirement) if requirement.testable else []
        missing = [side for side in needs if not named.get(side)]
        gaps += [{"id": requirement.id, "side": side} for side in missing]
        rows.append(
            {
                "id": requirement.id,
                "section": requirement.section,
                "level": requirement.level,
                "binds": requirement.binds,
                "text": requirement.text,
                "detail": requirement.detail,
                "command": requirement.command,
                "assumptions": list(requirement.assumptions),
                "testable": requirement.testable,
                "why_untestable": requirement.why_untestable,
                "cases": {side: [_case_entry(c) for c in named.get(side, [])] for side in SIDES},
                "needs": needs,
                "missing": missing,
                "covered": requirement.testable and not missing,
            }
        )

    testable = [r for r in rows if r["testable"]]
    per_side = {}
    for side in SIDES:
        binding = [r for r in testable if side in list(r["needs"])]
        per_side[side] = {
            "binding": len(binding),
            "covered": sum(1 for r in binding if side not in list(r["missing"])),
            "cases": sum(1 for c in cases if c.role == side),
        }
    summary = {
        "requirements": len(rows),
        "testable": len(testable),
        "covered": sum(1 for r in testable if r["covered"]),
        **per_side,
        "untestable": [
            {"id": r["id"], "why_untestable": r["why_untestable"]}
            for r in rows
            if not r["testable"]
        ],
        "gaps": gaps,
        "unknown": unknown,
    }
    summary["line"] = summary_line(summary)
    return {
        "catalog": getattr(catalog, "name", None),
        "cases": len(cases),
        "summary": summary,
        "requirements": rows,
    }


def summary_line(summary: dict[str, Any]) -> str:
    """`30/30 testable requirements covered (client-binding 28/28 by client cases, …)`."""
    client, server = summary["client"], summary["server"]
    line = (
        f"{summary['covered']}/{summary['testable']} testable requirements covered "
        f"(client-binding {client['covered']}/{client['binding']} by client cases, "
        f"server-binding {server['covered']}/{server['binding']} by server cases); "
        f"{len(summary['untestable'])} untestable"
    )
    if summary["gaps"]:
        line += "; gaps: " + ", ".join(f"{g['id']} ({g['side']})" for g in summary["gaps"])
    return line


def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _cases_cell(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return "—"
    return "<br>".join(
        f"{e['id']}" + (f" ({', '.join(e['assumptions'])})" if e["assumptions"] else "")
        for e in entries
    )


def markdown(data: dict[str, Any]) -> str:
    """The coverage matrix as a Markdown report: summary, matrix, gaps, untestable reasons."""
    summary = data["summary"]
    catalog = f" of catalog {data['catalog']}" if data.get("catalog") else ""
    lines = [
        f"# Requirement coverage{catalog}",
        "",
        f"**{summary['line']}**",
        "",
        f"{data['cases']} cases ({summary['client']['cases']} client-role, "
        f"{summary['server']['cases']} server-role). A case cell lists the case and, in "
        "brackets, the profile assumptions its verdict rests on.",
        "",
        "| requirement | § | level | binds | testable | client-role cases | server-role cases |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in data["requirements"]:
        if not row["testable"]:
            testable = f"no: {_cell(row['why_untestable'] or '')}"
        elif row["missing"]:
            testable = f"yes — **GAP: no {' or '.join(row['missing'])}-role case**"
        else:
            testable = "yes"
        lines.append(
            f"| {row['id']} | {row['section']} | {row['level']} | {row['binds']} | {testable} "
            f"| {_cases_cell(row['cases']['client'])} | {_cases_cell(row['cases']['server'])} |"
        )
    lines += ["", "## Gaps", ""]
    if summary["gaps"]:
        by_id = {r["id"]: r for r in data["requirements"]}
        for gap in summary["gaps"]:
            row = by_id[gap["id"]]
            lines.append(
                f"- {gap['id']} ({row['level']}, binds {row['binds']}): no {gap['side']}-role "
                f"case names it. “{_cell(row['text'])}”"
            )
    else:
        lines.append("None: every testable requirement has a case on each side it binds.")
    if summary["unknown"]:
        lines += ["", "## Requirement IDs not in the catalog", ""]
        lines += [f"- {u['case']} names {u['requirement']}" for u in summary["unknown"]]
    lines += ["", "## Untestable requirements", ""]
    lines += [f"- {u['id']}: {_cell(u['why_untestable'] or '')}" for u in summary["untestable"]]
    if not summary["untestable"]:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def write(out: Path, data: dict[str, Any]) -> tuple[Path, Path]:
    """Write coverage.json and coverage.md into `out` (made if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    as_json, as_md = out / JSON_FILE, out / MARKDOWN_FILE
    as_json.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    as_md.write_text(markdown(data), encoding="utf-8")
    return as_json, as_md
