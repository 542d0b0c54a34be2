"""The conformance report as one self-contained HTML page: inline style, no script, no network,
every value escaped. It reads the same data as report.json: the implementation's statement and
what it puts in scope, where the report comes from (provenance), what was broken, then the gate,
its waivers and each waived failure with its reason, the case selection (official and vendor
cases apart), the state of every requirement and assumption, and every case."""

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
    "OUT OF SCOPE": "#6e7781",
    "NOT EXERCISED": "#9a6700",
    "WAIVED": "#bc4c00",
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
            f"Conformance statement (declared features): "
            f"{escape(', '.join(dut['features']) or 'none')}<br>"
            f'<span class="meta">DUT file: {escape(dut["file"])}</span>'
            "<details open><summary>IXIT (implementation facts)</summary>"
            f"<ul>{ixit or '<li>none</li>'}</ul></details></div>"
        )
    return "".join(cards)


def _statement(data: dict[str, Any]) -> str:
    """What the implementation's statement puts in scope, and how each requirement was decided."""
    statement = data.get("statement")
    if not statement:
        return ""
    states = statement["in_scope_states"]
    decided = " · ".join(f"{badge(s)} {n}" for s, n in states.items())
    out = statement["out_of_scope"]
    return (
        f'<div class="card" id="statement">This statement puts <b>{statement["in_scope"]}</b> '
        f"requirements of the catalog in scope: {decided}. Out of scope: {out['role']} by the "
        f"role, {out['feature']} by the features not declared; "
        f"{statement['untestable']} untestable (the catalog says why).</div>"
    )


def _hash(value: str | None) -> str:
    return f'<code class="hash">{escape(value)}</code>' if value else "unreadable"


def _file(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "none"
    return f"<code>{escape(entry['path'])}</code><br>SHA-256 {_hash(entry.get('sha256'))}"


def _provenance(data: dict[str, Any]) -> str:
    """Where the report comes from: one row per fact, the label on one line."""
    prov = data.get("provenance")
    if not prov or "harness" not in prov:
        why = escape((prov or {}).get("error") or "No provenance recorded.")
        return f'<div class="card" id="provenance">{why}</div>'
    harness, run, cases = prov["harness"], prov["run"], prov["cases"]
    if harness["source"] == "git":
        state = {True: " (working tree modified)", False: " (clean)"}.get(harness["dirty"], "")
        source = f"git commit <code>{escape(harness['commit'])}</code>{escape(state)}"
    else:
        source = "installed package"
    rows: list[tuple[str, str]] = [
        ("harness", f"{escape(harness['name'])} {escape(harness['version'])}, {source}"),
        ("command", f"<code>{escape(run['command'])}</code>"),
        ("operator", escape(run["operator"])),
        ("host", f"{escape(run['host'])} ({escape(run['platform'])})"),
        ("run", f"{escape(run['started'])} to {escape(run['finished'])}"),
        (
            "Python",
            f"{escape(run['python'])}; "
            + escape(", ".join(f"{k} {v}" for k, v in run.get("packages", {}).items())),
        ),
    ]
    for dut in prov["implementations"]:
        rows.append(
            (
                f"DUT file ({escape(dut['role'])})",
                f"{escape(dut['name'])} {escape(str(dut['version']))}: {_file(dut)}",
            )
        )
    profile = prov["profile"]
    for index, entry in enumerate(profile["files"]):
        label = "profile" if index == 0 else "extends"
        rows.append((label, f"{escape(profile['name']) if index == 0 else ''} {_file(entry)}"))
    rows.append(("catalog", _file(prov["catalog"])))
    rows.append(("baseline", _file(prov.get("baseline"))))
    suite, vendor = cases["suite"], cases["vendor"]
    rows.append(
        (
            "official cases",
            f"suite {escape(suite['name'])} {escape(suite['version'])}: {suite['files']} files, "
            f"{suite['cases']} cases, SHA-256 {_hash(suite['sha256'])}",
        )
    )
    rows.append(
        (
            "vendor cases",
            f"{vendor['files']} files, {vendor['cases']} cases"
            + (f", SHA-256 {_hash(vendor['sha256'])}" if vendor["sha256"] else "")
            + (" (listed apart below)" if vendor["files"] else ""),
        )
    )
    if prov.get("merged_from"):
        rows.insert(
            1,
            (
                "merged from",
                "<br>".join(f"<code>{escape(r)}</code>" for r in prov["merged_from"])
                + " (each run's own provenance: report.json)",
            ),
        )
    body = "".join(f'<tr><th class="nw">{k}</th><td>{v}</td></tr>' for k, v in rows)
    return f'<table id="provenance">{body}</table>'


def _waived_failures(data: dict[str, Any]) -> str:
    """Each waived failure on its own line: what broke, at which level, why it is waived."""
    items = data.get("waived_failures") or []
    if not items:
        return ""
    lines = "".join(
        f"<li><b>{escape(w['case'])}</b> {badge(w['verdict'])}"
        + (" vendor case" if w.get("origin") == "vendor" else "")
        + " broke "
        + ", ".join(f"{escape(b['id'])} ({escape(b['level'])})" for b in w["broke"])
        + f". Waived by the baseline's {escape(w['kind'])} entry "
        f"<code>{escape(w['waiver'])}</code>: "
        f'<span class="reason">{escape(w["reason"])}</span>'
        + (f" (waived by {escape(w['waived_by'])})" if w.get("waived_by") else "")
        + "</li>"
        for w in items
    )
    return f'<h2>Waived failures ({len(items)})</h2><ul id="waived-failures">{lines}</ul>'


def _case_selection(data: dict[str, Any]) -> str:
    """The official case files (collapsed) and the vendor case files, apart, with their real
    paths and what each vendor case replaces."""
    cases = (data.get("provenance") or {}).get("cases")
    if not cases:
        return ""
    files = cases["files"]
    official = "".join(
        f"<tr><td><code>{escape(f['relative'])}</code></td><td>{_hash(f['sha256'])}</td>"
        f"<td>{escape(', '.join(f['cases']))}</td></tr>"
        for f in files
        if f["origin"] == "official"
    )
    suite = cases["suite"]
    parts = [
        f'<details id="official-cases"><summary>Official cases: {suite["files"]} files of '
        f"{escape(suite['name'])} {escape(suite['version'])}, {suite['cases']} cases</summary>"
        f"<table><tr><th>file</th><th>SHA-256</th><th>cases</th></tr>{official}</table></details>"
    ]
    vendor = [f for f in files if f["origin"] == "vendor"]
    if not vendor:
        parts.append('<div class="card" id="vendor-cases">No vendor cases (--cases).</div>')
    else:
        rows = []
        for f in vendor:
            replaced = "".join(
                f'<div class="meta">{escape(o["case"])} (line {o["line"]}) overrides the '
                f"official case at <code>{escape(o['official'])}</code></div>"
                for o in f["overrides"]
            )
            rows.append(
                f"<tr><td><code>{escape(f['path'])}</code><br>SHA-256 {_hash(f['sha256'])}"
                f"<div>cases: {escape(', '.join(f['cases']) or 'none')}</div>{replaced}</td></tr>"
            )
        parts.append(
            f'<table id="vendor-cases"><tr><th>vendor case files ({len(vendor)}), not part of '
            f"the suite</th></tr>{''.join(rows)}</table>"
        )
    return "<h2>Case selection</h2>" + "".join(parts)


def _broken(data: dict[str, Any]) -> str:
    items = data.get("broken") or []
    waived = (data.get("gate") or {}).get("known") or []
    if not items:
        text = (
            f"Nothing was seen broken that the baseline does not waive ({len(waived)} "
            "failure(s) waived by the baseline: see the waived failures)."
            if waived
            else "Nothing was seen broken."
        )
        return f'<div class="card" id="broken">{text}</div>'
    rows = "".join(
        f'<tr><td><a href="#{escape(b["id"])}"><b>{escape(b["id"])}</b></a><br>'
        f'<span class="meta">{escape(b["level"])}</span></td>'
        f'<td class="q">“{escape(b["text"])}”'
        + (f' <span class="meta">[{escape(b["detail"])}]</span>' if b.get("detail") else "")
        + f"</td><td>{b['cases']} case(s), seen {b['seen']} time(s)</td>"
        f"<td>{escape(b['first'])}</td></tr>"
        for b in items
    )
    head = (
        "<tr><th>broken</th><th>sentence or assumption</th><th>where</th><th>first seen</th></tr>"
    )
    return f'<table id="broken">{head}{rows}</table>'


def _gate(data: dict[str, Any]) -> str:
    gate = data.get("gate")
    if not gate:
        return ""
    # Two columns, the waived ID on one line: a printed page keeps the reason in one piece.
    waivers = "".join(
        f'<tr><td class="nw"><code>{escape(w["target"])}</code> {escape(w["kind"])}</td>'
        f'<td><div class="reason">{escape(w["reason"])}</div>'
        f'<div class="meta">waived by: {escape(w.get("waived_by") or "—")}</div>'
        f'<div class="meta">failures it covers: {escape(", ".join(w["cases"]))}</div></td></tr>'
        for w in gate.get("waivers", [])
    )
    table = (
        '<table id="waivers"><tr><th>waived</th><th>reason, who waived it, what it covers</th>'
        f"</tr>{waivers}</table>"
        if waivers
        else ""
    )
    lists = "".join(
        f"<p><b>{escape(title)}:</b> {escape(', '.join(gate[key]))}</p>"
        for title, key in (
            ("new failures", "new"),
            ("advisory (SHOULD/MAY)", "advisory"),
            ("stale baseline entries", "stale"),
        )
        if gate.get(key)
    )
    return (
        f'<div class="card" id="gate"><b>CI gate: {escape(gate["outcome"])}</b> — '
        f"{escape(gate['summary'])}{lists}</div>{table}"
    )


def _requirements(data: dict[str, Any]) -> str:
    rows = []
    for req in data["requirements"]:
        cases = ", ".join(f"{escape(c['case'])} {badge(c['verdict'])}" for c in req["cases"])
        note = req["reason"] or ", ".join(req["assumptions"])
        if req["first_failure"]:
            note = f"first failure: {req['first_failure']}"
        detail = f' <span class="meta">[{escape(req["detail"])}]</span>' if req["detail"] else ""
        rows.append(
            f'<tr id="{escape(req["id"])}"><td><b>{escape(req["id"])}</b><br>'
            f'<span class="meta">§{escape(req["section"])} · {escape(req["level"])} · '
            f"{escape(req['binds'])}</span></td>"
            f'<td class="q">“{escape(req["text"])}”{detail}</td><td>{badge(req["state"])}</td>'
            f"<td>{cases or '—'}</td><td>{escape(note)}</td></tr>"
        )
    head = (
        "<tr><th>requirement</th><th>sentence of the draft</th><th>state</th><th>cases</th>"
        "<th>why / assumptions</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _assumptions(data: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr id="{escape(a["id"])}"><td><b>{escape(a["id"])}</b><br>'
        f'<span class="meta">{escape(a["kind"])}</span></td>'
        f"<td>{badge(a['state']) if a['state'] else ''}</td><td>{escape(a['text'])}"
        + (f"<br><b>first failure:</b> {escape(a['first_failure'])}" if a["first_failure"] else "")
        + f"</td><td>{len(a['relied_on_by'])} case(s)</td></tr>"
        for a in data.get("assumptions", [])
    )
    head = "<tr><th>ID</th><th>state</th><th>text</th><th>relied on by</th></tr>"
    return f"<table>{head}{rows}</table>"


def _cases(data: dict[str, Any]) -> str:
    rows = []
    for case in data["cases"]:
        message = (
            f"<details><summary>details</summary><pre>{escape(case['message'])}</pre></details>"
            if case["message"]
            else ""
        )
        notes = "".join(
            f"<li>{escape(f['basis'])}: {escape(f['message'])}</li>"
            for f in case.get("findings", [])
            if f["grade"] == "info"
        )
        origin = case.get("origin", "official")
        role = escape(case.get("role") or "") + (" · vendor case" if origin == "vendor" else "")
        if case.get("overrides"):
            role += f" · overrides the official case at {escape(case['overrides'])}"
        if origin == "vendor" and case.get("file"):
            role += f"<br><code>{escape(case['file'])}</code>"
        requirements = escape(" ".join(case.get("requirements", [])))
        rows.append(
            f'<tr><td><b>{escape(case["name"])}</b><br><span class="meta">{role}</span></td>'
            f"<td>{escape(case.get('title') or '')}{message}"
            f"{f'<ul>{notes}</ul>' if notes else ''}</td>"
            f"<td>{badge(case['verdict'])}</td><td>{requirements}</td></tr>"
        )
    head = "<tr><th>case</th><th>title</th><th>verdict</th><th>verifies</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _files_line(suite: dict[str, Any]) -> str:
    """The case files in the heading: official and vendor apart when the report knows."""
    if not suite.get("official_sha256"):
        short = escape(suite["cases_sha256"][:16])
        return f"{suite['case_files']} case files, SHA-256 <code>{short}…</code>"
    vendor = suite.get("vendor_case_files", 0)
    official = suite["case_files"] - vendor
    return (
        f"{official} official case files, SHA-256 <code>{escape(suite['official_sha256'][:16])}"
        f"…</code>" + (f" + <b>{vendor} vendor case file(s)</b>" if vendor else "")
    )


def render(data: dict[str, Any]) -> str:
    """The whole page."""
    summary = data["summary"]
    counts = "".join(f"<span>{badge(v)} {n}</span>" for v, n in summary.items() if n)
    states = "".join(
        f"<span>{badge(s)} {n}</span>" for s, n in data.get("requirement_states", {}).items() if n
    )
    suite, run = data["suite"], data["run"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(data["title"])}</title><style>{STYLE}</style></head>
<body><main>
<h1>{escape(data["title"])}</h1>
<p class="meta">{escape(suite["name"])} {escape(suite["version"])}
· profile <code>{escape(data["profile"]["name"])}</code>
· {_files_line(suite)}
· run {escape(run["started"])} to {escape(run["finished"])}</p>
<h2>Implementations under test</h2>{_implementations(data)}{_statement(data)}
<h2>Broken requirements and assumptions</h2>{_broken(data)}
<h2>Summary</h2>
<div class="card counts" id="case-summary"><b>Cases:</b> {counts or "none ran"}</div>
<div class="card counts" id="requirement-summary"><b>Requirements:</b> {states}</div>{_gate(data)}
<h2>Provenance</h2>{_provenance(data)}
{_waived_failures(data)}{_case_selection(data)}
<h2>State of each requirement</h2>{_requirements(data)}
<h2>Profile: assumptions and rules in force</h2>
<p>{escape(data["profile"]["title"])}</p>{_assumptions(data)}
<h2>Verdict per case</h2>{_cases(data)}
<p class="meta">Full data: report.json beside this file.
Case files hash: <code>{escape(suite["cases_sha256"])}</code></p>
</main></body></html>
"""
