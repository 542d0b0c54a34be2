"""The HTML conformance report as a reader sees it: headless Chromium prints the page (no network,
no script) and the printed text must show the implementation, the verdicts and the requirements."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.report.conftest import FAULT, Run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOTEXT = shutil.which("pdftotext")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def printed_text(page: Path, tmp_path: Path) -> str:
    if not (CHROMIUM and PDFTOTEXT):
        if os.environ.get("CI"):
            pytest.fail("CI must have chromium and pdftotext (.ci/run installs them)")
        pytest.skip("needs Debian's chromium and poppler-utils (pdftotext)")
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--print-to-pdf={pdf}",
            "--no-pdf-header-footer",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    done = subprocess.run(
        [PDFTOTEXT, "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return squeeze(done.stdout)


def squeeze(text: str) -> str:
    """Text without white space and hyphens: printing wraps lines, and cells of a table row
    wrap independently, so only the order of the characters is what a reader sees."""
    return re.sub(r"[\s\u00ad-]+", "", text)


def sees(text: str, phrase: str) -> bool:
    return squeeze(phrase) in text


def test_reader_sees_identity_verdicts_and_requirements(faulty: Run, tmp_path: Path) -> None:
    text = printed_text(faulty.folder / "report.html", tmp_path)
    assert sees(text, "DM 2.0 draft conformance report")
    assert sees(text, f"(mutant {FAULT})")
    assert sees(
        text, "Declared features: GET, PUT, POST, DELETE, EXEC, INCLUDE, SHOW, DEFAULT, CONT"
    )
    assert sees(text, "CI gate: FAILED")
    assert sees(text, "DM20-6.3-005") and sees(text, "FAIL") and sees(text, "UNTESTABLE")
    assert sees(text, "“The DM Clients request to")  # a cell's first printed line
    assert sees(text, "A3") and sees(text, "Profile and assumptions in force")


def test_conforming_report_reads_as_passed(conforming: Run, tmp_path: Path) -> None:
    text = printed_text(conforming.folder / "report.html", tmp_path)
    assert sees(text, "CI gate: PASSED") and sees(text, "PASS")
