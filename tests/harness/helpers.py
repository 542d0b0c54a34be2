"""Helpers of the harness tests: paths, subprocesses, YAML files, run folders, and the registry
of their background jobs."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conformance.engine.loader import load_all, packaged_cases_dir
from conformance.engine.records import CaseRecord
from conformance.report.results import read_results
from tests.jobs import Jobs
from tests.processes import Ran, run

REPO = Path(__file__).resolve().parents[2]
PYTHON = Path(sys.executable)
CLI = PYTHON.parent / "dm20-conformance"
PASSING = {"PASS", "INFORMATIONAL", "NOT APPLICABLE"}
JOBS = Jobs("harness", marker="uses_job", workers=5)  # runs mostly wait on their DUT processes
job = JOBS.job


# -- subprocesses -------------------------------------------------------------------------------
def pytest_argv(*args: str | Path, rootdir: Path) -> list[str | Path]:
    """`python -m pytest` with no user configuration, as the harness's own runs are."""
    return [
        PYTHON,
        "-m",
        "pytest",
        "-c",
        os.devnull,
        "--rootdir",
        rootdir,
        "-p",
        "no:cacheprovider",
        *args,
    ]


# -- files --------------------------------------------------------------------------------------
def write_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def line_of(text: str, needle: str, start: int = 1) -> int:
    """The 1-based number of the first line at or after `start` that contains `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number >= start and needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in the text")


def sample_dut(role: str) -> dict[str, Any]:
    """The bundled sample DUT file of `role`, as data (a base for variants)."""
    text = (REPO / "conformance" / "samples" / f"sample-{role}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


# -- what a run wrote ---------------------------------------------------------------------------
def report_dirs(cwd: Path) -> list[Path]:
    """The run folders `dm20-conformance run` made under <cwd>/reports/."""
    root = cwd / "reports"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def only_report_dir(cwd: Path) -> Path:
    found = report_dirs(cwd)
    assert len(found) == 1, f"expected one run folder under {cwd / 'reports'}, got {found}"
    return found[0]


def name_of(record: CaseRecord) -> str:
    """A record's case name with its parameters, e.g. `DM20-C-DEFAULT-001[who=User]`."""
    return record.name


def records_in(reports: Path) -> list[CaseRecord]:
    return read_results(reports)


def case_names(roots: list[Path] | None = None, role: str | None = None) -> list[str]:
    """Every case run (one per parameter set) the case files below `roots` define, as pytest
    names them; files named `_…` are not collected by the plugin."""
    cases, problems = load_all(roots or [packaged_cases_dir()])
    assert not problems, "\n".join(str(p) for p in problems)
    names = []
    for case in cases:
        if case.path.name.startswith("_") or (role and case.role != role):
            continue
        names += case.run_names()
    return names


def report_json(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "report.json").read_text(encoding="utf-8"))


PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<where>[^:]+?): (?P<what>.*)$")


def problem_lines(output: str, file: Path) -> list[tuple[int, str, str]]:
    """(line, where, what) of each `file:line: where: what` problem about `file` in `output`."""
    found = []
    for line in output.splitlines():
        match = PROBLEM_LINE.match(line)
        if match and Path(match["file"]) == file:
            found.append((int(match["line"]), match["where"], match["what"]))
    return found


@dataclass
class CliRun:
    """A `dm20-conformance run` (or plain pytest run) in a folder of its own."""

    ran: Ran
    cwd: Path
    expected: list[str]  # the case names the run should report (when the test knows them)

    @property
    def reports(self) -> Path:
        """The run's report folder: reports/<timestamp>/ under cwd, or cwd/rep for pytest runs."""
        plain = self.cwd / "rep"
        return plain if plain.is_dir() else only_report_dir(self.cwd)

    @property
    def records(self) -> list[CaseRecord]:
        return records_in(self.reports)

    def verdicts(self) -> dict[str, str]:
        """Case name -> verdict (its text, e.g. `NOT APPLICABLE`)."""
        return {name_of(r): r.verdict.value for r in self.records}


def cli_run(folder: Path, *args: str | Path) -> CliRun:
    """`dm20-conformance run ARGS` from `folder`: it writes folder/reports/<timestamp>/."""
    argv = [CLI, "run", *args]
    return CliRun(run(argv, cwd=folder), folder, [])


@job("suite", weight=100)
def whole_suite(folder: Path) -> CliRun:
    """The README's main job: `dm20-conformance run` against the bundled samples, whole suite
    (used by test_run_suite.py, and by test_faulty_variants.py as the samples' baseline)."""
    expected = case_names()
    result = cli_run(folder)
    result.expected = expected
    return result
