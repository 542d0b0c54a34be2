"""The HTML conformance report as a reader sees it: headless Chromium prints the page (no network,
no script) and the printed text must show the implementation, what it broke before anything
else, the state of every requirement, and each waiver with its reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser import printed_text, squeeze
from tests.report.conftest import BROKEN, FAULT, WAIVE_CASE, WAIVE_REQUIREMENT, Run


def print_page(page: Path, tmp_path: Path) -> str:
    """The report as printed; pdftotext -raw keeps the page's drawing order, each table cell
    whole."""
    return squeeze(printed_text(page, tmp_path, "-raw"))


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Run], str]:
    """The printed text of a run's report.html (each page printed once)."""
    texts: dict[Path, str] = {}

    def text(run: Run) -> str:
        if run.folder not in texts:
            texts[run.folder] = print_page(
                run.folder / "report.html", tmp_path_factory.mktemp("pdf")
            )
        return texts[run.folder]

    return text


def sees(text: str, phrase: str) -> bool:
    return squeeze(phrase) in text


def test_reader_sees_identity_and_what_was_broken_first(
    faulty: Run, printed: Callable[[Run], str]
) -> None:
    text = printed(faulty)
    assert sees(text, "DM 2.0 draft conformance report")
    assert sees(text, f"({FAULT})")
    assert sees(
        text,
        "Conformance statement (declared features): "
        "GET, PUT, POST, DELETE, EXEC, INCLUDE, SHOW, DEFAULT, CONT",
    )
    broken = text.index(squeeze("Broken requirements and assumptions"))
    states = text.index(squeeze("State of each requirement"))
    assert text.index(squeeze("Implementations under test")) < broken < states
    first = text[broken:states]  # the broken requirement, how it was seen, before the rest
    assert sees(first, BROKEN) and sees(first, "no X-OMADMDevID header")
    assert sees(text, "CI gate: FAILED")
    assert sees(text, "“The DM Clients request to")  # a cell's first printed line
    assert sees(text, "A3") and sees(text, "Profile: assumptions and rules in force")


def test_reader_sees_the_state_of_each_requirement(
    faulty: Run, printed: Callable[[Run], str]
) -> None:
    text = printed(faulty)
    table = text[text.index(squeeze("State of each requirement")) :]
    for state in ("FAIL", "NOT EXERCISED", "PASS", "OUT OF SCOPE", "UNTESTABLE"):
        assert sees(table, state), state
    assert sees(table, "binds the server; this run tested a DM client")
    assert sees(table, "no case of this run names it")
    assert sees(table, "DM20-C-EXEC-001: NOT APPLICABLE")


def test_reader_sees_each_waiver_with_its_reason(
    waived: Run, printed: Callable[[Run], str]
) -> None:
    text = printed(waived)
    assert sees(text, "CI gate: PASSED")
    assert sees(text, "WAIVED")
    for waiver in (WAIVE_REQUIREMENT, WAIVE_CASE):
        assert sees(text, waiver["reason"]), waiver
    assert sees(text, WAIVE_REQUIREMENT["waived_by"])


def test_conforming_report_reads_as_passed(conforming: Run, printed: Callable[[Run], str]) -> None:
    text = printed(conforming)
    assert sees(text, "CI gate: PASSED") and sees(text, "PASS")
    assert sees(text, "Nothing was seen broken.")
