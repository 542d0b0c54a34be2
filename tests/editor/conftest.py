"""Runs shared by the spec editor's tests, each made by really running the suite
(`dm20-conformance run`) on a selection of cases, all four started at once:

- `sample`: the bundled sample client;
- `reversed`: the faulty variant that sends its statuses in reverse command order (it breaks seed
  6.3's order where the sample keeps it: a clear divergence);
- `semicolon`: the benign variant that writes Accept as the seed does, with `;` (A3);
- `end_twice`: the sample server sending END twice at the end of its message (end_twice.py):
  A2 alone fails it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conformance.dut import bundled_dut
from tests.mutants import client_mutants  # noqa: F401  (registers the client mutants)
from tests.mutants.registry import MUTANTS, write_dut
from tests.variants import client_variants  # noqa: F401  (registers the client variants)
from tests.variants.registry import VARIANTS

REPO = Path(__file__).resolve().parents[2]
WHATIF = REPO / "docs" / "whatif"
FAULT = "client-statuses-reversed"
SEMICOLON = "client-accept-semicolon"
TIMEOUT = "5"  # bounds every wait; generous for a loaded machine
# Cases where the faulty client breaks status order (ORDER-001, SESSION-002) and cases both
# clients pass (HDR-002, GET-001, END-001: END rests on A2).
CLIENT_CASES = (
    "DM20-C-ORDER-001 or DM20-C-SESSION-002 or DM20-C-HDR-002 or DM20-C-GET-001 or DM20-C-END-001"
)
SERVER_CASES = "DM20-S-END-001 or DM20-S-END-002 or DM20-S-DELETE-001 or DM20-S-SESSION-002"
ACCEPT_CASES = "DM20-C-HDR-002"


@dataclass
class Ran:
    argv: list[str]
    code: int
    stdout: str
    stderr: str
    seconds: float

    def tail(self) -> str:
        return f"$ {' '.join(self.argv)} (exit {self.code})\n{(self.stdout + self.stderr)[-4000:]}"


def cli(*args: str | Path, cwd: Path | None = None) -> Ran:
    """`dm20-conformance ARGS` in a subprocess, as a user runs it."""
    argv = [sys.executable, "-m", "conformance.cli", *map(str, args)]
    started = time.monotonic()
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=600, cwd=cwd or REPO, check=False
    )
    return Ran(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def cli_started(*args: str | Path) -> Callable[[], Ran]:
    """`dm20-conformance ARGS` started in the background; call the result to wait for it."""
    argv = [sys.executable, "-m", "conformance.cli", *map(str, args)]
    started = time.monotonic()
    process = subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def finish() -> Ran:
        stdout, stderr = process.communicate(timeout=600)
        return Ran(argv, process.returncode, stdout, stderr, time.monotonic() - started)

    return finish


def end_twice_dut(folder: Path) -> Path:
    """The sample server's DUT file, each command run through end_twice.py."""
    data = yaml.safe_load(bundled_dut("server").read_text(encoding="utf-8"))
    script = Path(__file__).resolve().parent / "end_twice.py"
    sample = "python -m conformance.samples.server"
    for key, value in data["server"].items():
        if isinstance(value, str) and value.startswith(sample):
            data["server"][key] = value.replace(sample, f"python '{script}'", 1)
    data["name"] = f"{data['name']} (END twice)"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "end-twice.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Runs:
    sample: Path
    reversed: Path
    semicolon: Path
    end_twice: Path
    root: Path


def _start(reports: Path, dut: Path, role: str, keyword: str) -> subprocess.Popen[str]:
    argv = [
        sys.executable, "-m", "conformance.cli", "run", "--dut", str(dut), "--role", role,
        "--timeout", TIMEOUT, "--reports", str(reports), "-k", keyword,
    ]  # fmt: skip
    return subprocess.Popen(
        argv,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ},
    )


def _folder(reports: Path, process: subprocess.Popen[str]) -> Path:
    output, _ = process.communicate(timeout=600)
    folders = [p for p in reports.iterdir() if (p / "report.json").is_file()]
    assert len(folders) == 1, f"no run folder under {reports}:\n{output[-4000:]}"
    return folders[0]


class Started:
    """The four runs, started at once in the background."""

    def __init__(self, root: Path) -> None:
        self.root = root
        duts = root / "duts"
        plan = {
            "sample": (bundled_dut("client"), "client", CLIENT_CASES),
            "reversed": (write_dut(MUTANTS[FAULT], duts), "client", CLIENT_CASES),
            "semicolon": (write_dut(VARIANTS[SEMICOLON], duts), "client", ACCEPT_CASES),
            "end_twice": (end_twice_dut(duts), "server", SERVER_CASES),
        }
        self.processes = {
            name: (root / name, _start(root / name, dut, role, keyword))
            for name, (dut, role, keyword) in plan.items()
        }

    def wait(self) -> Runs:
        folders = {name: _folder(reports, p) for name, (reports, p) in self.processes.items()}
        return Runs(root=self.root, **folders)

    def stop(self) -> None:
        for _, process in self.processes.values():
            if process.poll() is None:
                process.terminate()  # the harness ends its case and its DUT, then exits
                process.communicate(timeout=60)


@pytest.fixture(scope="package", autouse=True)
def _runs_started(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Started | None]:
    """Start the runs when the package's tests begin, if a selected test needs them, so that
    they run while the tests that need none do."""
    needed = any("editor_runs" in getattr(i, "fixturenames", ()) for i in request.session.items)
    if not needed:
        yield None
        return
    started = Started(tmp_path_factory.mktemp("editor-runs"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="package")
def editor_runs(_runs_started: Started | None) -> Runs:
    assert _runs_started is not None
    return _runs_started.wait()
