"""The spec editor's workbench: one self-contained HTML page of the draft itself (both seed
chapters, in document order, with their headings), each catalog sentence marked with its ID and
a verdict chip per run, every defect of the text flagged where it stands, every assumption that
fills a silence shown with its text; the sentences where implementations disagree come first.

Inline style, no script, no network, every value escaped (as report/html.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from conformance import __version__
from conformance.catalog import Catalog, Requirement, load_catalog
from conformance.editor.defects import KINDS, PLURAL, Defect, counts, load_defects, place_of
from conformance.editor.evidence import CHIP, Divergence, Run, depending_cases, divergences
from conformance.editor.seed import Block, Place, Seed, load_seeds, locate_requirement
from conformance.profiles import Profile, load_profile
from conformance.report.html import COLOURS, STYLE, badge

__all__ = ["PAGE", "render", "write"]

PAGE = "draft.html"
SHOWN = 5  # cases of a disagreement shown with their message; the rest as links
KIND_COLOURS = {
    "contradiction": "#cf222e",
    "ambiguity": "#9a6700",
    "typo": "#8250df",
    "deferred": "#0969da",
}
EXTRA_STYLE = """
.draft{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 20px}
.draft h3{font-size:20px;margin:20px 0 6px}
.draft h4{font-size:16px;margin:18px 0 6px;border-bottom:1px solid #eaeef2}
.draft p{margin:8px 0}
.bullet{margin:4px 0 4px 18px}
.bullet::before{content:"· "}
.row{display:grid;grid-template-columns:minmax(120px,1fr) 3fr;gap:4px 16px;
 border-top:1px solid #eaeef2;padding:6px 0}
.row.head{font-weight:600;color:#57606a}
.rowchips{grid-column:1/3}
.caption{color:#57606a;font-style:italic}
.comment{border-left:3px solid #0969da;background:#ddf4ff;padding:4px 10px;margin:6px 0}
.req{background:#fff8c5;border-bottom:2px solid #d4a72c}
.rid{font:11px ui-monospace,monospace;font-weight:600;color:#1f2328;background:#eaeef2;
 border-radius:4px;padding:0 4px;margin:0 2px;text-decoration:none}
.chips{white-space:nowrap}
.chips a.v{text-decoration:none;margin:0 1px}
mark.d{background:none;border-bottom:2px dotted currentColor;padding:0}
sup.dref a{font:10px ui-monospace,monospace;text-decoration:none}
table.ev{margin:4px 0 10px;font-size:12px}
table.ev td,table.ev th{padding:3px 6px}
.notes{margin:4px 0 12px;padding:0;list-style:none;font-size:13px}
.notes li{border-left:3px solid #d0d7de;padding:2px 8px;margin:3px 0;background:#f6f8fa}
.assume{color:#1f2328}
.assume b{font-family:ui-monospace,monospace}
.front{color:#57606a}
nav a{margin-right:12px}
.msg{color:#57606a;font-size:11px}
"""


@dataclass(frozen=True)
class _Mark:
    """An inline mark in a cell: text[start:end] wrapped in `open` … `close`."""

    start: int
    end: int
    rank: int  # which wraps which when the spans are equal: lower wraps
    open: str
    close: str


def _link(href: str, text: str, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f'<a{klass} href="#{escape(href)}">{escape(text)}</a>'


def _chip(run: Run, state: str, href: str) -> str:
    colour = COLOURS.get(state, "#6e7781")
    text = f"{run.key} {CHIP.get(state, state or 'no word')}"
    return (
        f'<a class="v" style="background:{colour}" href="#{escape(href)}" '
        f'title="{escape(run.label)}">{escape(text)}</a>'
    )


def _case_target(run: Run, requirement: str) -> str:
    """Where a run's chip for a requirement leads: the first case that broke it, else the
    first that passed it, else any case that names it, else its evidence row (an assumption's
    row in the table of assumptions)."""
    row = run.requirements.get(requirement) or run.assumptions.get(requirement)
    if row:
        for key in ("failed_in", "passed_in"):
            if row.get(key):
                return run.anchor(row[key][0])
        for case in row.get("cases", []):
            return run.anchor(case["case"])
    return f"ev-{requirement}" if requirement.startswith("DM20-") else f"a-{requirement}"


class _Page:
    def __init__(
        self,
        runs: Sequence[Run],
        catalog: Catalog,
        profile: Profile,
        seeds: Sequence[Seed],
        defects: Sequence[Defect],
    ) -> None:
        self.runs = list(runs)
        self.catalog = catalog
        self.profile = profile
        self.seeds = tuple(seeds)
        self.defects = list(defects)
        self.places: dict[str, Place | None] = {
            r.id: locate_requirement(self.seeds, r) for r in catalog
        }
        self.quotes: list[tuple[Defect, int, Place | None]] = [
            (d, i, place_of(q, self.seeds)) for d in self.defects for i, q in enumerate(d.quotes)
        ]

    # -- pieces --------------------------------------------------------------------------------
    def chips(self, requirement: Requirement) -> str:
        rid = _link(f"ev-{requirement.id}", requirement.id, "rid")
        chips = " ".join(
            _chip(run, run.state(requirement.id), _case_target(run, requirement.id))
            for run in self.runs
        )
        return f'<span class="chips">{rid}{chips}</span>'

    def basis_text(self, basis: str) -> str:
        if basis in self.catalog:
            return self.catalog[basis].text
        return self.profile.basis(basis) or ""

    def basis_link(self, basis: str) -> str:
        target = f"req-{basis}" if basis in self.catalog else f"a-{basis}"
        return _link(target, basis)

    def run_cell(self, run: Run, basis: str) -> str:
        """One run's evidence on one sentence: its state, the cases that broke it (with the
        first failure) and those that passed it."""
        state = run.state(basis)
        row = run.requirements.get(basis) or run.assumptions.get(basis) or {}
        parts = [_chip(run, state, _case_target(run, basis))]
        failed = row.get("failed_in", [])
        if failed:
            links = ", ".join(_link(run.anchor(c), c) for c in failed[:4])
            more = f" and {len(failed) - 4} more" if len(failed) > 4 else ""
            parts.append(f"<br>broken in {links}{more}")
            if row.get("first_failure"):
                text = row["first_failure"]
                text = text if len(text) <= 240 else text[:237] + "…"
                parts.append(f'<br><span class="msg">{escape(text)}</span>')
        passed = row.get("passed_in", [])
        if passed:
            links = ", ".join(_link(run.anchor(c), c) for c in passed[:3])
            more = f" and {len(passed) - 3} more" if len(passed) > 3 else ""
            parts.append(f"<br>kept in {links}{more}")
        if not failed and not passed and row.get("reason"):
            parts.append(f'<br><span class="msg">{escape(row["reason"])}</span>')
        return "".join(parts)

    def evidence(self, requirements: list[Requirement]) -> str:
        if not requirements:
            return ""
        head = "".join(f"<th>{escape(run.key)}</th>" for run in self.runs)
        rows = []
        for requirement in requirements:
            rests = ", ".join(self.basis_link(a) for a in requirement.assumptions) or "—"
            cells = "".join(f"<td>{self.run_cell(run, requirement.id)}</td>" for run in self.runs)
            rows.append(
                f'<tr id="ev-{escape(requirement.id)}"><td>'
                f"{_link('req-' + requirement.id, requirement.id)}<br>"
                f'<span class="meta">{escape(requirement.level)} · binds '
                f"{escape(requirement.binds)}</span></td><td>{rests}</td>{cells}</tr>"
            )
        return (
            f'<table class="ev"><tr><th>sentence</th><th>rests on</th>{head}</tr>'
            f"{''.join(rows)}</table>"
        )

    def notes(self, marks: list[tuple[Defect, int]]) -> str:
        if not marks:
            return ""
        items = []
        shown: set[str] = set()
        indexes: dict[str, list[int]] = {}
        for defect, index in marks:
            indexes.setdefault(defect.id, []).append(index)
        for defect, index in marks:
            if indexes[defect.id][0] != index:
                continue  # one note per defect in a passage, whatever its quotes there
            colour = KIND_COLOURS[defect.kind]
            fills = []
            for basis in defect.assumptions:
                if basis in shown:
                    fills.append(f'<span class="assume">{_link("a-" + basis, basis)}</span>')
                    continue
                shown.add(basis)
                fills.append(
                    f'<span class="assume"><b>{_link("a-" + basis, basis)}</b> fills it: '
                    f"{escape(self.basis_text(basis))}</span>"
                )
            if fills:
                filled = "<br>".join(fills)
            elif defect.suggestion:
                filled = f"proposed: “{escape(defect.suggestion)}”"
            else:
                filled = "no assumption fills it"
            also = "".join(
                f'<span id="note-{escape(defect.id)}-{i}"></span>' for i in indexes[defect.id][1:]
            )
            items.append(
                f'<li id="note-{escape(defect.id)}-{index}">{also}'
                f'<span class="v" style="background:{colour}">{escape(defect.kind)}</span> '
                f"{_link('def-' + defect.id, defect.id)} {escape(defect.title)}<br>{filled}</li>"
            )
        return f'<ul class="notes">{"".join(items)}</ul>'

    # -- the draft -----------------------------------------------------------------------------
    def cell_html(self, text: str, marks: list[_Mark]) -> str:
        ordered = sorted(marks, key=lambda m: (m.start, -m.end, m.rank))
        kept: list[_Mark] = []
        stack: list[_Mark] = []
        for mark in ordered:
            while stack and stack[-1].end <= mark.start:
                stack.pop()
            if stack and mark.end > stack[-1].end:
                continue  # it would cross a mark it starts inside: its note still shows it
            kept.append(mark)
            stack.append(mark)
        return _emit(text, 0, len(text), kept)

    def block_html(self, seed: Seed, index: int, block: Block) -> tuple[str, str]:
        """The block, and what follows it (the evidence of its sentences and its notes)."""
        inline: dict[int, list[_Mark]] = {}
        whole: list[str] = []  # row-level chips
        anchors: list[str] = []  # ids of row-level marks
        requirements: list[tuple[int, int, Requirement]] = []
        for requirement in self.catalog:
            place = self.places[requirement.id]
            if place is None or place.seed != seed.name or place.block != index:
                continue
            requirements.append((place.cell or 0, place.start, requirement))
            if place.cell is None:
                anchors.append(f"req-{requirement.id}")
                whole.append(self.chips(requirement))
                continue
            inline.setdefault(place.cell, []).append(
                _Mark(
                    place.start,
                    place.end,
                    0,
                    f'<span id="req-{escape(requirement.id)}"><span class="req">',
                    f"</span>{self.chips(requirement)}</span>",
                )
            )
        notes: list[tuple[Defect, int]] = []
        for defect, number, place in self.quotes:
            if place is None or place.seed != seed.name or place.block != index:
                continue
            notes.append((defect, number))
            mark_id = f"m-{defect.id}-{number}"
            note = _link(f"note-{defect.id}-{number}", defect.id)
            ref = f'<sup class="dref">{note}</sup>'
            if place.cell is None:
                anchors.append(mark_id)
                whole.append(ref)
                continue
            colour = KIND_COLOURS[defect.kind]
            inline.setdefault(place.cell, []).append(
                _Mark(
                    place.start,
                    place.end,
                    1,
                    f'<mark class="d" id="{escape(mark_id)}" style="color:inherit;'
                    f'border-color:{colour}" title="{escape(defect.kind)}: '
                    f'{escape(defect.title)}">',
                    f"</mark>{ref}",
                )
            )
        cells = [self.cell_html(text, inline.get(i, [])) for i, text in enumerate(block.cells)]
        first_id = f' id="{escape(anchors[0])}"' if anchors else ""
        extra = "".join(f'<span id="{escape(a)}"></span>' for a in anchors[1:])
        if block.kind == "heading":
            level = "h3" if block.number == seed.chapter else "h4"
            sid = f"sec-{block.number}" if not block.front else f"front-{seed.name}-{index}"
            html = f'<{level} id="{escape(sid)}">{extra}{cells[0]}</{level}>'
        elif block.kind == "row":
            head = " head" if _is_head(seed, index) else ""
            parts = "".join(f'<div class="c{min(i, 1)}">{c}</div>' for i, c in enumerate(cells))
            chips = f'<div class="rowchips">{" ".join(whole)}</div>' if whole else ""
            html = f'<div class="row{head}"{first_id}>{extra}{parts}{chips}</div>'
        elif block.kind == "caption":
            html = f'<p class="caption"{first_id}>{extra}{cells[0]}</p>'
        elif block.kind == "bullet":
            html = f'<div class="bullet"{first_id}>{extra}{cells[0]}</div>'
        elif block.kind == "comment":
            who = f" by {escape(block.author)}" if block.author else " (its anchor was lost)"
            html = (
                f'<div class="comment"{first_id}>{extra}<b>Comment in the seed{who}:</b> '
                f"{cells[0]}</div>"
            )
        else:
            html = f"<p{first_id}>{extra}{cells[0]}</p>"
        ordered = [r for _, _, r in sorted(requirements, key=lambda t: (t[0], t[1]))]
        return html, self.evidence(ordered) + self.notes(notes)

    def seed_html(self, seed: Seed) -> str:
        front: list[str] = []
        chapter: list[str] = []
        for index, block in enumerate(seed.blocks):
            html, after = self.block_html(seed, index, block)
            (front if block.front else chapter).append(html + after)
        wrapper = (
            '<details class="front"><summary>The change request around the chapter '
            f"(seed {escape(seed.name)})</summary>{''.join(front)}</details>"
            if front
            else ""
        )
        return (
            f'<section id="seed-{escape(seed.name)}"><p class="meta">Seed '
            f"<code>{escape(seed.name)}</code>: {escape(seed.title)}</p>{wrapper}"
            f"{''.join(chapter)}</section>"
        )

    # -- the sections --------------------------------------------------------------------------
    def runs_table(self) -> str:
        rows = []
        for run in self.runs:
            duts = "<br>".join(
                f"{escape(d['name'])} {escape(str(d['version']))}, DM {escape(d['role'])}, "
                f'<span class="meta">{escape(d["file"])}</span>'
                for d in run.implementations
            )
            summary = " ".join(
                f"{badge(v)} {n}" for v, n in run.data.get("summary", {}).items() if n
            )
            rows.append(
                f"<tr><td><b>{escape(run.key)}</b></td><td>{duts}</td>"
                f"<td><code>{escape(run.profile)}</code></td><td>{summary}</td>"
                f'<td class="meta">{escape(str(run.folder))}</td></tr>'
            )
        return (
            "<table><tr><th>run</th><th>implementation</th><th>profile</th><th>cases</th>"
            f"<th>folder</th></tr>{''.join(rows)}</table>"
        )

    def divergence(self, found: list[Divergence]) -> str:
        if len(self.runs) < 2:
            return '<div class="card">One run: there is nothing to compare.</div>'
        if not found:
            return (
                '<div class="card">The implementations agree: no case broke a sentence in one '
                "run and kept it in another.</div>"
            )
        rows = []
        for item in found:
            states = " ".join(
                _chip(run, run.state(item.basis), _case_target(run, item.basis))
                for run in self.runs
            )
            cases = "".join(
                f"<li>{escape(d.case)}: kept in "
                + ", ".join(_link(self.run(k).anchor(d.case), k) for k in d.kept)
                + ", broken in "
                + ", ".join(_link(self.run(k).anchor(d.case), k) for k in d.broken)
                + f'<br><span class="msg">{escape(d.message)}</span></li>'
                for d in item.cases[:SHOWN]
            )
            rest = item.cases[SHOWN:]
            if rest:
                links = ", ".join(_link(self.run(d.broken[0]).anchor(d.case), d.case) for d in rest)
                cases += f"<li>and {len(rest)} more, broken in: {links}</li>"
            level = self.catalog[item.basis].level if item.basis in self.catalog else "assumption"
            rows.append(
                f'<tr id="div-{escape(item.basis)}"><td><b>{self.basis_link(item.basis)}</b><br>'
                f'<span class="meta">{escape(level)}</span></td>'
                f'<td class="q">“{escape(self.basis_text(item.basis))}”</td>'
                f"<td>{states}</td><td>{len(item.cases)} case(s)<ul>{cases}</ul></td></tr>"
            )
        return (
            '<table id="divergence-table"><tr><th>sentence</th><th>text</th><th>state per run'
            f"</th><th>cases that disagree</th></tr>{''.join(rows)}</table>"
        )

    def run(self, key: str) -> Run:
        return next(r for r in self.runs if r.key == key)

    def defects_html(self) -> str:
        total = counts(self.defects)
        summary = " ".join(
            f'<span><span class="v" style="background:{KIND_COLOURS[k]}">{escape(PLURAL[k])}'
            f"</span> {n}</span>"
            for k, n in total.items()
        )
        rows = []
        for kind in KINDS:
            for defect in (d for d in self.defects if d.kind == kind):
                quotes = "".join(
                    f'<li class="q">“{escape(q.text)}” '
                    + (_link(f"m-{defect.id}-{i}", "where") if self.placed(defect, i) else "")
                    + "</li>"
                    for i, q in enumerate(defect.quotes)
                )
                concerns = ", ".join(self.basis_link(r) for r in defect.requirements) or "—"
                fills = "".join(
                    f"<li>{_link('a-' + a, a)}: {escape(self.basis_text(a))}</li>"
                    for a in defect.assumptions
                )
                suggestion = (
                    f"<br><b>Proposed:</b> “{escape(defect.suggestion)}”"
                    if defect.suggestion
                    else ""
                )
                suggestion += self.resting(defect)
                rows.append(
                    f'<tr id="def-{escape(defect.id)}"><td><b>{escape(defect.id)}</b><br>'
                    f'<span class="v" style="background:{KIND_COLOURS[kind]}">{escape(kind)}'
                    f"</span></td><td><b>{escape(defect.title)}</b><ul>{quotes}</ul>"
                    f"{escape(defect.note)}{suggestion}</td><td>{concerns}</td>"
                    f"<td>{f'<ul>{fills}</ul>' if fills else 'none'}</td></tr>"
                )
        return (
            f'<div class="card counts">{summary}</div><table><tr><th>defect</th>'
            "<th>the text and the question</th><th>sentences</th><th>assumptions deciding it</th>"
            f"</tr>{''.join(rows)}</table>"
        )

    def resting(self, defect: Defect) -> str:
        """The cases of the runs that rest on what the defect concerns, linked."""
        first: dict[str, Run] = {}
        for run in self.runs:
            for name in depending_cases(run.cases.values(), defect.ids, self.catalog):
                first.setdefault(name, run)
        if not first:
            return ""
        links = ", ".join(_link(run.anchor(name), name) for name, run in list(first.items())[:8])
        more = f" and {len(first) - 8} more" if len(first) > 8 else ""
        return f"<br><b>Cases resting on it ({len(first)}):</b> {links}{more}"

    def placed(self, defect: Defect, index: int) -> bool:
        return any(d is defect and i == index and p for d, i, p in self.quotes)

    def assumptions_html(self) -> str:
        cited = {a for d in self.defects for a in d.assumptions} | {
            a for r in self.catalog for a in r.assumptions
        }
        ids = [*self.profile.assumptions, *(r for r in self.profile.rules if r in cited)]
        rows = []
        for basis in ids:
            defects = ", ".join(
                _link("def-" + d.id, d.id) for d in self.defects if basis in d.assumptions
            )
            resting = ", ".join(
                _link("req-" + r.id, r.id) for r in self.catalog if basis in r.assumptions
            )
            states = " ".join(
                _chip(run, run.state(basis), _case_target(run, basis)) for run in self.runs
            )
            rows.append(
                f'<tr id="a-{escape(basis)}"><td><b>{escape(basis)}</b></td>'
                f"<td>{escape(self.basis_text(basis))}</td><td>{defects or '—'}</td>"
                f"<td>{resting or '—'}</td><td>{states}</td></tr>"
            )
        return (
            "<table><tr><th>ID</th><th>what the profile decides</th><th>defects it answers</th>"
            f"<th>sentences resting on it</th><th>per run</th></tr>{''.join(rows)}</table>"
        )

    def cases_html(self, run: Run) -> str:
        rows = []
        for name, case in sorted(run.cases.items()):
            message = (
                f"<details open><summary>failure</summary><pre>{escape(case['message'])}</pre>"
                "</details>"
                if case.get("message") and case["verdict"] not in ("PASS", "NOT APPLICABLE")
                else (
                    f'<br><span class="msg">{escape(case["message"])}</span>'
                    if case.get("message")
                    else ""
                )
            )
            verifies = ", ".join(self.basis_link(b) for b in case.get("requirements", []))
            broke = ", ".join(self.basis_link(b) for b in case.get("failed", []))
            rows.append(
                f'<tr id="{escape(run.anchor(name))}"><td><b>{escape(name)}</b></td>'
                f"<td>{badge(case['verdict'])}</td><td>{escape(case.get('title') or '')}"
                f"{message}</td><td>{verifies or '—'}</td><td>{broke or '—'}</td></tr>"
            )
        return (
            "<table><tr><th>case</th><th>verdict</th><th>title and failure</th><th>verifies</th>"
            f"<th>broke</th></tr>{''.join(rows)}</table>"
        )


def _is_head(seed: Seed, index: int) -> bool:
    """A row is a table's head when it opens a run of rows: the block before it is no row and
    the block after it is one."""
    before = seed.blocks[index - 1] if index > 0 else None
    after = seed.blocks[index + 1] if index + 1 < len(seed.blocks) else None
    return (before is None or before.kind != "row") and after is not None and after.kind == "row"


def _emit(text: str, low: int, high: int, marks: list[_Mark]) -> str:
    """text[low:high] with `marks` (sorted, non-crossing, within it) wrapped around their
    spans, escaped."""
    out = []
    position = low
    index = 0
    while index < len(marks):
        mark = marks[index]
        inner = []
        index += 1
        while index < len(marks) and marks[index].start < mark.end:
            inner.append(marks[index])
            index += 1
        out.append(escape(text[position : mark.start]))
        out.append(mark.open + _emit(text, mark.start, mark.end, inner) + mark.close)
        position = mark.end
    out.append(escape(text[position:high]))
    return "".join(out)


def render(
    runs: Sequence[Run],
    *,
    catalog: Catalog | None = None,
    profile: Profile | None = None,
    seeds: Sequence[Seed] | None = None,
    defects: Sequence[Defect] | None = None,
) -> str:
    """The whole page."""
    catalog = catalog or load_catalog()
    profile = profile or load_profile()
    page = _Page(runs, catalog, profile, seeds or load_seeds(), defects or load_defects())
    found = divergences(page.runs, catalog)
    legend = " ".join(
        f'<a class="v" style="background:{COLOURS.get(state, "#6e7781")}">{escape(text)}</a>'
        for state, text in CHIP.items()
    )
    kinds = " ".join(
        f'<span class="v" style="background:{c}">{escape(k)}</span>'
        for k, c in KIND_COLOURS.items()
    )
    draft = "".join(page.seed_html(seed) for seed in page.seeds)
    cases = "".join(
        f'<h2 id="cases-{escape(run.key)}">Cases of {escape(run.key)}: {escape(run.label)}</h2>'
        f"{page.cases_html(run)}"
        for run in page.runs
    )
    nav = "".join(
        _link(target, text)
        for target, text in [
            ("runs", "Runs"),
            ("divergence", "Where implementations disagree"),
            ("draft", "The draft"),
            ("defects", "Draft defects"),
            ("assumptions", "Assumptions"),
            *((f"cases-{r.key}", f"Cases of {r.key}") for r in page.runs),
        ]
    )
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    title = "The DM 2.0 draft, annotated with behaviour"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{STYLE}{EXTRA_STYLE}</style></head>
<body><main>
<h1>{escape(title)}</h1>
<p class="meta">dm20-conformance {escape(__version__)} · catalog <code>{escape(catalog.name)}</code>
({len(catalog)} sentences) · profile <code>{escape(profile.name)}</code> · {len(page.runs)} run(s)
· made {escape(stamp)}</p>
<nav>{nav}</nav>
<h2 id="runs">Runs (one column each)</h2>{page.runs_table()}
<h2 id="divergence">Where implementations disagree ({len(found)})</h2>
<p>A sentence is listed when the same case broke it in one run and kept it in another: the text
two implementations read differently is where it is most likely unclear.</p>
{page.divergence(found)}
<h2 id="draft">The draft</h2>
<p>Each catalog sentence is <span class="req">marked</span> with its ID and a chip per run:
{legend}. A chip leads to the case that decided it; the table under a passage lists the cases
of each run. Defects of the text are underlined where they stand ({kinds}) and explained under
the passage, with the assumption of profile <code>{escape(profile.name)}</code> that fills the
silence.</p>
<div class="draft">{draft}</div>
<h2 id="defects">Draft defects ({len(page.defects)})</h2>{page.defects_html()}
<h2 id="assumptions">Assumptions and rules that fill the draft's silences</h2>
{page.assumptions_html()}
{cases}
</main></body></html>
"""


def write(out: Path, html: str) -> Path:
    """draft.html in folder `out`."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / PAGE
    path.write_text(html, encoding="utf-8")
    return path
