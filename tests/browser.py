"""Headless Chromium and poppler's pdftotext, as the report and draft-page tests read a page: the
page printed to PDF (no network, no script), the PDF turned to text. In CI both must be there
(.ci/run installs them); elsewhere a test that needs them is skipped, saying why."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

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


def need_browser() -> None:
    if not (CHROMIUM and PDFTOTEXT):
        if os.environ.get("CI"):
            pytest.fail("CI must have chromium and pdftotext (.ci/run installs them)")
        pytest.skip("needs Debian's chromium and poppler-utils (pdftotext)")


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """Chromium with `args`, its profile in `profile`, bounded in time."""
    need_browser()
    assert CHROMIUM
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def printed_text(page: Path, folder: Path, *pdftotext_args: str) -> str:
    """The text of `page` printed by Chromium to a PDF in `folder`, as pdftotext reads it."""
    pdf = folder / f"{page.stem}.pdf"
    chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri(), profile=folder)
    assert PDFTOTEXT
    done = subprocess.run(
        [PDFTOTEXT, *pdftotext_args, str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def squeeze(text: str) -> str:
    """Text without white space and hyphens: printing wraps the lines of a cell (breaking words
    at hyphens), so only the order of the characters is what a reader sees."""
    return re.sub(r"[\s\u00ad-]+", "", text)
