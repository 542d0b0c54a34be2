"""Exploration runs for the tests and the kill table: `dm20-conformance explore` in a subprocess
against a DUT file (a sample, a faulty or a benign variant), its report read back."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.dut import bundled_dut
from tests.jobs import Jobs
from tests.mutants import client_mutants, server_mutants  # noqa: F401  (they register)
from tests.mutants.registry import MUTANTS
from tests.patched import Patched, write_dut
from tests.processes import run
from tests.variants import client_variants, server_variants  # noqa: F401  (they register)
from tests.variants.registry import VARIANTS

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 900.0
JOBS = Jobs("explore", marker="explores", workers=3)  # each mostly waits on its DUT processes
job = JOBS.job


@dataclass(frozen=True)
class Budget:
    """What one exploration may spend (the CLI's options)."""

    examples: int
    shrink_runs: int
    timeout_s: float = 8.0  # a loaded machine starts a DUT process slowly: no false divergence
    shrink_seconds: float = 90.0
    divergences: int = 1

    def argv(self) -> list[str]:
        return [
            "--examples",
            str(self.examples),
            "--shrink-runs",
            str(self.shrink_runs),
            "--shrink-time",
            str(self.shrink_seconds),
            "--timeout",
            str(self.timeout_s),
            "--divergences",
            str(self.divergences),
        ]


@dataclass
class Explored:
    """One finished `dm20-conformance explore` run."""

    name: str
    dut: Path
    folder: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    saved: dict[str, Any] | None  # explore.json as the run left it (a later run may rewrite it)

    @property
    def report(self) -> dict[str, Any]:
        assert self.saved is not None, f"no explore.json in {self.folder}\n{self.tail()}"
        return self.saved

    @property
    def divergence(self) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.report.get("divergence")
        return found

    def tail(self, limit: int = 4000) -> str:
        return f"(exit {self.returncode})\n" + (self.stdout + "\n" + self.stderr)[-limit:]


def patched(name: str) -> Patched:
    return MUTANTS.get(name) or VARIANTS[name]


def dut_of(name: str, folder: Path) -> Path:
    """The DUT file of a sample (`sample-client`, `sample-server`) or a patched sample."""
    if name.startswith("sample-"):
        return bundled_dut(name.removeprefix("sample-"))
    return write_dut(patched(name), folder / "duts")


def explore(
    name: str, folder: Path, budget: Budget, seed: int, out: Path | None = None
) -> Explored:
    """`dm20-conformance explore --dut <name's DUT> --seed SEED …`, run folder `out` (default
    folder/<name>)."""
    folder.mkdir(parents=True, exist_ok=True)
    dut = dut_of(name, folder)
    out = out or folder / name
    argv = [
        sys.executable,
        "-m",
        "conformance.cli",
        "explore",
        "--dut",
        str(dut),
        "--seed",
        str(seed),
        "--out",
        str(out),
        *budget.argv(),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    done = run(argv, cwd=folder, env=env, timeout_s=RUN_TIMEOUT_S)
    path = out / "explore.json"
    saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    return Explored(
        name,
        dut,
        out,
        done.returncode,
        done.stdout,
        done.stderr,
        done.seconds,
        saved,
    )
