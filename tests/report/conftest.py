"""Runs shared by the report tests: the same selection of cases against the conforming sample
client and against a faulty variant of it, each with every report the harness writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.plugin.cases import packaged_cases_dir
from conformance.report.results import read_results
from tests.mutants import client_mutants  # noqa: F401  (registers the client mutants)
from tests.mutants.registry import MUTANTS, write_dut

SELECTION = "HDR or GET-001 or DELETE-002"
FAULT = "client-no-device-id"  # breaks DM20-6.3-005


@dataclass
class Run:
    folder: Path
    code: int
    output: str

    @property
    def records(self) -> list[dict[str, Any]]:
        return read_results(self.folder)

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.folder / "report.json").read_text(encoding="utf-8"))

    @property
    def allure(self) -> Path:
        return self.folder / "allure-results"


def run_suite(
    folder: Path, *extra: str, selection: str = SELECTION, env: dict | None = None
) -> Run:
    """One pytest run of the packaged cases with every report on."""
    folder.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        os.devnull,
        "--rootdir",
        str(folder),
        "-p",
        "no:cacheprovider",
        "-q",
        "--dm-reports",
        str(folder),
        "--alluredir",
        str(folder / "allure-results"),
        "--junitxml",
        str(folder / "junit.xml"),
        "-k",
        selection,
        *extra,
        str(packaged_cases_dir()),
    ]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return Run(folder, done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="package")
def conforming(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_suite(tmp_path_factory.mktemp("conforming"))


@pytest.fixture(scope="package")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("faulty")
    dut = write_dut(MUTANTS[FAULT], folder)
    return run_suite(folder / "run", "--dut", str(dut))
