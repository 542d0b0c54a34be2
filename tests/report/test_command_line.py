"""The command line is finished: --version, help text on every option of every subcommand, exit
codes in every subcommand's help (0 conforms, 1 does not, 2 usage or input error), `report`
prints the gate line as `run` does, and `list` stops on a case ID used twice as `run` does."""

from __future__ import annotations

import argparse
import copy
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conformance import __version__
from conformance.cli import main, parser
from conformance.engine.loader import packaged_cases_dir
from tests.report.conftest import BROKEN, Run

CLI = Path(sys.executable).parent / "dm20-conformance"
EXIT_STATUS = re.compile(r"exit (status|code)", re.IGNORECASE)


def subcommands(top: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def test_every_option_of_every_subcommand_has_help_and_exit_codes_are_documented() -> None:
    top = parser()
    found = dict(subcommands(top))
    for name in ("run", "list", "validate", "report", "coverage", "package", "verify"):
        assert name in found, name
    missing: list[str] = []
    for name, sub in [("dm20-conformance", top), *found.items()]:
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            text = action.help or ""
            if not text.strip() or text == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
        description = sub.description or ""
        status = EXIT_STATUS.search(description)
        if status is None:
            missing.append(f"{name}: no exit status in its description")
        elif not {"0", "2"} <= set(re.findall(r"\b[0-2]\b", description[status.start() :])):
            missing.append(f"{name}: its exit status does not say what 0 and 2 mean")
    assert missing == [], "\n".join(missing)


def test_version() -> None:
    done = subprocess.run(
        [str(CLI), "--version"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith(f"dm20-conformance {__version__} (")
    assert "git commit" in line or "installed" in line
    assert f"Python {sys.version_info.major}.{sys.version_info.minor}" in line


def test_report_prints_the_gate_line_as_run_does(
    faulty: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["report", str(faulty.folder), "--out", str(tmp_path), "--no-allure"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "gate FAILED: " in out and "new failures: " in out
    rebuilt = Run(tmp_path, code, out).report
    assert rebuilt["gate"]["outcome"] == "FAILED"
    assert rebuilt["provenance"]["merged_from"] == [str(faulty.folder.resolve())]
    assert rebuilt["provenance"]["runs"] == [faulty.report["provenance"]]
    assert "merged from" in (tmp_path / "report.html").read_text(encoding="utf-8")
    command = f"dm20-conformance report {faulty.folder} --out {tmp_path} --no-allure"
    assert rebuilt["provenance"]["run"]["command"] == command
    run_gate = next(line for line in faulty.output.splitlines() if line.startswith("gate "))
    assert run_gate in out, "report prints the gate line the run printed"
    assert {r["id"]: r for r in rebuilt["requirements"]}[BROKEN]["state"] == "FAIL"


def vendor_case(folder: Path, overrides: bool) -> Path:
    """A vendor folder holding an official case ID again."""
    official = yaml.safe_load((packaged_cases_dir() / "client" / "get.yaml").read_text())
    case = copy.deepcopy(official[0])
    case["title"] = "the vendor's own copy"
    if overrides:
        case["overrides"] = True
    path = folder / "vendor" / "client" / "mine.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump([case], sort_keys=False))
    return path


def test_list_stops_on_a_case_id_used_twice_as_run_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = vendor_case(tmp_path, overrides=False)
    assert main(["list", "--cases", str(path.parent.parent)]) == 2
    err = capsys.readouterr().err
    assert re.search(rf"{re.escape(str(path.resolve()))}:\d+: id: DM20-C-GET-001 is also", err)
    assert "overrides: true" in err
    vendor_case(tmp_path, overrides=True)
    assert main(["list", "--cases", str(path.parent.parent)]) == 0
    out = capsys.readouterr().out
    [line] = [row for row in out.splitlines() if row.startswith("DM20-C-GET-001 ")]
    assert "the vendor's own copy" in line
