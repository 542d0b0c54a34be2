"""The draft annotated with behaviour, made from two real runs (the sample client and its faulty
variant that reverses its statuses), read as an editor reads it: headless Chromium prints the
page and its text must show the divergence list first, the seed text in document order with a
chip per run on every catalog sentence, and the defects; the DOM Chromium builds is searched for
the target of every link."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.catalog import load_catalog
from conformance.editor.defects import load_defects
from conformance.report.results import read_results
from tests.browser import chromium, need_browser, printed_text, squeeze
from tests.editor.conftest import FAULT, Runs, cli

DIVERGING = ("DM20-C-ORDER-001", "DM20-C-SESSION-002")  # the faulty client reverses statuses
VOID = {"br", "meta", "img", "input", "hr", "link", "wbr", "col", "source"}


class Elements(HTMLParser):
    """Every element with an id (and its text) and every in-page link (and its text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: dict[str, str] = {}
        self.links: list[tuple[str, str]] = []
        self.open: list[tuple[str, str | None, str | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        values = dict(attrs)
        href = values.get("href")
        self.open.append((tag, values.get("id"), href if href and href[0] == "#" else None, []))

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            name, ident, href, parts = self.open.pop()
            text = "".join(parts)
            if self.open:
                self.open[-1][3].append(text)
            if ident:
                self.text[ident] = text
            if href:
                self.links.append((href[1:], text))
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        if self.open:
            self.open[-1][3].append(data)


@pytest.fixture(scope="module")
def page(editor_runs: Runs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    verdicts = {
        name: {r.name: (r.verdict.value, r.failed) for r in read_results(folder)}
        for name, folder in (("sample", editor_runs.sample), ("faulty", editor_runs.reversed))
    }
    assert all(v == "PASS" for v, _ in verdicts["sample"].values()), verdicts
    for case in DIVERGING:
        assert verdicts["faulty"][case] == ("FAIL", ["DM20-6.3-006"]), verdicts
    out = tmp_path_factory.mktemp("draft-page")
    ran = cli("draft", editor_runs.sample, editor_runs.reversed, "--out", out)
    assert ran.code == 0, ran.tail()
    assert "sentence(s) where implementations disagree: DM20-6.3-006" in ran.stdout
    return out / "draft.html"


@pytest.fixture(scope="module")
def printed(page: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return squeeze(printed_text(page, tmp_path_factory.mktemp("printed"), "-raw"))


@pytest.fixture(scope="module")
def dom(page: Path, tmp_path_factory: pytest.TempPathFactory) -> Elements:
    need_browser()
    folder = tmp_path_factory.mktemp("dom")
    parsed = Elements()
    parsed.feed(chromium("--dump-dom", page.as_uri(), profile=folder).stdout)
    return parsed


def test_the_page_is_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html, re.IGNORECASE)
    assert "<link" not in html.lower()


def test_every_catalog_sentence_has_a_chip_per_run(dom: Elements, editor_runs: Runs) -> None:
    reports = [
        json.loads((f / "report.json").read_text())
        for f in (editor_runs.sample, editor_runs.reversed)
    ]
    chip = {"NOT EXERCISED": "not exercised", "OUT OF SCOPE": "out of scope"}
    for requirement in load_catalog():
        sentence = dom.text.get(f"req-{requirement.id}")
        assert sentence is not None, requirement.id
        for key, report in zip(("R1", "R2"), reports, strict=True):
            state = next(r["state"] for r in report["requirements"] if r["id"] == requirement.id)
            assert f"{key} {chip.get(state, state)}".lower() in sentence.lower(), (
                requirement.id,
                key,
                state,
            )


def test_the_reader_sees_the_divergence_first_then_the_draft_then_the_defects(
    printed: str,
) -> None:
    order = [
        "Where implementations disagree (",
        "DM20-C-ORDER-001: kept in R1, broken in R2",
        "5. OMA DM 2.0 Overview",
        "5.3 Content Delivery",
        "6 DM 2.0 Protocol",
        "6.2 DM Commands",
        "6.3 DM Status",
        "Draft defects (",
    ]
    positions = [printed.find(squeeze(text)) for text in order]
    assert all(p >= 0 for p in positions), dict(zip(order, positions, strict=True))
    assert positions == sorted(positions), dict(zip(order, positions, strict=True))


def test_the_reader_sees_chips_beside_the_sentence(printed: str, dom: Elements) -> None:
    sentence = squeeze("The status MUST be ordered in the same order as the DM Commands had.")
    at = printed.find(sentence, printed.find(squeeze("6.3 DM Status")))
    assert at >= 0
    # Where a printed line wraps moves with the fonts a machine has: the printed chips must be
    # beside the sentence; their order is the page's own, read from the DOM.
    beside = printed[at + len(sentence) : at + len(sentence) + 60]
    for chip in ("DM20-6.3-006", "R1 PASS", "R2 FAIL"):
        assert squeeze(chip) in beside, (chip, beside)
    assert dom.text["req-DM20-6.3-006"].endswith("DM20-6.3-006R1 PASS R2 FAIL")
    assert squeeze("application/dm20; application/tnds20.") in printed  # the seed's `;`
    assert squeeze("When this Comamnd is included") in printed  # the seed as written
    comment = "Comment in the seed by Svante Alnås: This spec needs to be added later"
    assert squeeze(comment) in printed


def test_the_reader_sees_every_defect_and_the_assumptions_that_fill_silences(
    printed: str, dom: Elements
) -> None:
    for defect in load_defects():
        assert squeeze(defect.id) in printed
        assert f"def-{defect.id}" in dom.text
        for index, _ in enumerate(defect.quotes):
            assert f"m-{defect.id}-{index}" in dom.text, (defect.id, index)
    assert squeeze("A2 fills it: END, when present, is the last command of its message.") in (
        printed
    )
    assert squeeze("A7 fills it:") in printed
    end = next(d for d in load_defects() if d.kind == "ambiguity" and "A2" in d.assumptions)
    assert "Cases resting on it" in dom.text[f"def-{end.id}"]
    assert "DM20-C-END-001" in dom.text[f"def-{end.id}"]


def test_every_link_leads_somewhere_and_chips_lead_to_their_cases(dom: Elements) -> None:
    missing = sorted({target for target, _ in dom.links if target not in dom.text})
    assert not missing, missing[:20]
    chips = [(t, text) for t, text in dom.links if re.fullmatch(r"R[12] \w+( \w+)?", text)]
    assert len(chips) >= 2 * len(load_catalog())
    failing = [t for t, text in chips if text == "R2 FAIL"]
    assert failing, "the faulty client's failures have chips"
    for target in failing:
        row = dom.text[target]
        assert target.startswith("R2-case-")
        assert "FAIL" in row and "DM20-6.3-006" in row


def test_the_divergence_names_the_fault_and_its_cases(dom: Elements) -> None:
    row = dom.text["div-DM20-6.3-006"]
    for case in DIVERGING:
        assert f"{case}: kept in R1, broken in R2" in row
    assert "DM20-C-GET-001" not in row  # one command: no order to break


def test_the_runs_are_named(printed: str) -> None:
    assert squeeze("dm20-conformance sample client 0.1.0") in printed
    assert squeeze(f"dm20-conformance sample client ({FAULT}) 0.1.0") in printed
