"""The conformance report as one self-contained HTML page: inline style, no script, no network,
every value escaped. It reads the same data as report.json."""

from __future__ import annotations

from html import escape
from importlib import resources
from typing import Any

COLOURS = {
    "PASS": "#1a7f37",
    "INFORMATIONAL": "#0969da",
    "FAIL": "#cf222e",
    "ERROR": "#8250df",
    "INCONCLUSIVE": "#bf8700",
    "NOT APPLICABLE": "#6e7781",
    "UNTESTABLE": "#6e7781",
    "NOT TESTED": "#9a6700",
}

STYLE = (resources.files(__package__) / "report.css").read_text(encoding="utf-8")


def badge(verdict: str) -> str:
    colour = COLOURS.get(verdict, "#6e7781")
    return f'<span class="v" style="background:{colour}">{escape(verdict)}</span>'


def _implementations(data: dict[str, Any]) -> str:
    cards = []
    for dut in data["implementations"]:
        ixit = "".join(
            f"<li><code>{escape(k)}</code>: {escape(str(v))}</li>" for k, v in dut["ixit"].items()
        )
        cards.append(
            f'<div class="card"><b>{escape(dut["name"])}</b> {escape(str(dut["version"]))} '
            f"— DM {escape(dut['role'])}, profile <code>{escape(dut['profile'])}</code><br>"
            f"Declared features: {escape(', '.join(dut['features']) or 'none')}<br>"
            f'<span class="meta">DUT file: {escape(dut["file"])}</span>'
            f"<details><summary>ixit</summary><ul>{ixit}</ul></details></div>"
        )
    return "".join(cards)


def _assumptions(data: dict[str, Any]) -> str:
    profile = data["profile"]
    used = set(profile["assumptions_used"])
    rows = "".join(
        f"<tr><td><b>{escape(k)}</b></td><td>{'yes' if k in used else ''}</td>"
        f"<td>{escape(v)}</td></tr>"
        for k, v in profile["assumptions"].items()
    )
    return f"<table><tr><th>ID</th><th>relied on</th><th>assumption</th></tr>{rows}</table>"


def _requirements(data: dict[str, Any]) -> str:
    rows = []
    for req in data["requirements"]:
        cases = ", ".join(f"{escape(c['case'])} {badge(c['verdict'])}" for c in req["cases"])
        note = req["why_untestable"] or ", ".join(req["assumptions"])
        detail = f' <span class="meta">[{escape(req["detail"])}]</span>' if req["detail"] else ""
        rows.append(
            f'<tr id="{escape(req["id"])}"><td><b>{escape(req["id"])}</b><br>'
            f'<span class="meta">§{escape(req["section"])} · {escape(req["level"])} · '
            f"{escape(req['binds'])}</span></td>"
            f'<td class="q">“{escape(req["text"])}”{detail}</td><td>{badge(req["verdict"])}</td>'
            f"<td>{cases or '—'}</td><td>{escape(note)}</td></tr>"
        )
    head = (
        "<tr><th>requirement</th><th>sentence of the draft</th><th>verdict</th><th>cases</th>"
        "<th>assumptions / why untestable</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _cases(data: dict[str, Any]) -> str:
    rows = []
    for case in data["cases"]:
        name = case["nodeid"].split("::")[-1]
        message = (
            f"<details><summary>details</summary><pre>{escape(case['message'])}</pre></details>"
            if case["message"]
            else ""
        )
        notes = case.get("observations", []) + case.get("infos", [])
        extra = "".join(f"<li>{escape(n)}</li>" for n in notes)
        role = escape(case.get("role") or "")
        title = escape(case.get("title") or "")
        requirements = escape(" ".join(case.get("requirements", [])))
        rows.append(
            f'<tr><td><b>{escape(name)}</b><br><span class="meta">{role}</span></td>'
            f"<td>{title}{message}{f'<ul>{extra}</ul>' if extra else ''}</td>"
            f"<td>{badge(case['verdict'])}</td><td>{requirements}</td></tr>"
        )
    head = "<tr><th>case</th><th>title</th><th>verdict</th><th>requirements</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def render(data: dict[str, Any]) -> str:
    """The whole page."""
    summary = data["summary"]
    counts = "".join(f"<span>{badge(v)} {n}</span>" for v, n in summary.items() if n)
    req_counts: dict[str, int] = {}
    for req in data["requirements"]:
        req_counts[req["verdict"]] = req_counts.get(req["verdict"], 0) + 1
    req_line = "".join(f"<span>{badge(v)} {n}</span>" for v, n in sorted(req_counts.items()))
    suite, run = data["suite"], data["run"]
    gate = data.get("gate")
    gate_html = ""
    if gate:
        gate_html = (
            f'<div class="card"><b>CI gate: {escape(gate["outcome"])}</b> — '
            f"{escape(gate['summary'])}</div>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(data["title"])}</title><style>{STYLE}</style></head>
<body><main>
<h1>{escape(data["title"])}</h1>
<p class="meta">{escape(suite["name"])} {escape(suite["version"])}
· profile <code>{escape(data["profile"]["name"])}</code>
· {suite["case_files"]} case files, SHA-256 <code>{escape(suite["cases_sha256"][:16])}…</code>
· run {escape(run["started"])} to {escape(run["finished"])}</p>
<h2>Implementations under test</h2>{_implementations(data)}
<h2>Summary</h2>
<div class="card counts" id="case-summary"><b>Cases:</b> {counts or "none ran"}</div>
<div class="card counts" id="requirement-summary"><b>Requirements:</b> {req_line}</div>{gate_html}
<h2>Verdict per requirement</h2>{_requirements(data)}
<h2>Verdict per case</h2>{_cases(data)}
<h2>Profile and assumptions in force</h2>
<p>{escape(data["profile"]["title"])}</p>{_assumptions(data)}
<p class="meta">Full data: report.json beside this file.
Case files hash: <code>{escape(suite["cases_sha256"])}</code></p>
</main></body></html>
"""
