"""The code base keeps its shape: the import layers of docs/architecture.md (import-linter), the
types (mypy, strict), and ruff's rules and formatting. Each runs as the developer would run it;
a violation fails the test with the tool's own report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

CHECKS = {
    "import layers": [str(BIN / "lint-imports")],
    "types": [str(BIN / "mypy")],
    "lint": [str(BIN / "ruff"), "check", "."],
    "format": [str(BIN / "ruff"), "format", "--check", "."],
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_code_base_check(name: str) -> None:
    done = subprocess.run(
        CHECKS[name], cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{name}: {' '.join(CHECKS[name])}\n{done.stdout}{done.stderr}"
