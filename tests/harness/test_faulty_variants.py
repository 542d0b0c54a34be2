"""The kill matrix: every faulty variant of the samples fails a case that names its requirement."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from conformance.plugin.cases import packaged_cases_dir
from tests.harness.helpers import PASSING, REPO, CliRun, job, name_of, pytest_argv, run
from tests.harness.stop_on_kill import STOPPED
from tests.mutants import client_mutants, server_mutants  # noqa: F401  (they register)
from tests.mutants.registry import MUTANTS, Mutant, write_dut

KILLED = "FAIL"


def named_kill(mutant: Mutant, records: list[dict[str, Any]]) -> bool:
    """A FAIL of a case that verifies the mutant's requirement and names it in its message."""
    return any(
        r["verdict"] == KILLED
        and mutant.requirement in r["requirements"]
        and mutant.requirement in r["message"]
        for r in records
    )


def run_mutant(mutant: Mutant, folder: Path) -> CliRun:
    """`pytest --dut MUTANT -k REQUIREMENT` over the packaged cases, reports in folder/rep;
    stopped after the first case that kills the mutant naming its requirement (stop_on_kill.py:
    the other cases would only add time, the server mutants fail every case they run)."""
    dut = write_dut(mutant, folder)
    argv = pytest_argv(
        "-q",
        "-p",
        "tests.harness.stop_on_kill",
        "--stop-on-kill",
        mutant.requirement,
        "--dut",
        dut,
        "-k",
        mutant.requirement,
        "--dm-reports",
        folder / "rep",
        packaged_cases_dir(),
        rootdir=folder,
    )
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    return CliRun(run(argv, cwd=folder, env=env), folder, [])


for _mutant in MUTANTS.values():
    job(f"mutant:{_mutant.name}", weight=40 if _mutant.role == "server" else 15)(
        partial(run_mutant, _mutant)
    )


@pytest.fixture(scope="module")
def kill_table() -> dict[str, list[str]]:
    """mutant -> the cases that killed it, filled by the mutant tests."""
    return {}


# mutant -> why its failures do not name its requirement, though they kill it


def mutant_param(name: str) -> object:
    marks = [pytest.mark.uses_job(f"mutant:{name}")]
    return pytest.param(name, marks=marks)


@pytest.mark.parametrize("name", [mutant_param(n) for n in MUTANTS])
def test_mutant_is_killed_by_a_case_naming_its_requirement(
    name: str, jobs, kill_table: dict[str, list[str]]
) -> None:
    mutant = MUTANTS[name]
    result: CliRun = jobs.result(f"mutant:{name}")
    records = result.records
    assert records, f"no case ran for {mutant.requirement}\n{result.ran.tail()}"
    assert all(mutant.requirement in r["requirements"] for r in records)
    killers = [r for r in records if r["verdict"] == KILLED]
    kill_table[name] = [
        name_of(r) + ("" if mutant.requirement in r["message"] else " (names another requirement)")
        for r in killers
    ]
    assert killers, (
        f"{name} ({mutant.description}) survived: "
        + ", ".join(f"{name_of(r)} {r['verdict']}" for r in records)
        + "\n"
        + result.ran.tail()
    )
    assert named_kill(mutant, records), (
        f"no failure names {mutant.requirement}:\n" + killers[0]["message"][:3000]
    )
    # pytest's own status: cases failed (1), or the run was stopped at the kill (2)
    stopped = f"Interrupted: {STOPPED}" in result.ran.stdout
    assert result.ran.returncode == (2 if stopped else 1), result.ran.tail()
    assert "INTERNALERROR" not in result.ran.stdout + result.ran.stderr


@pytest.mark.uses_job("suite")
@pytest.mark.parametrize("name", list(MUTANTS))
def test_conforming_samples_pass_the_same_selection(name: str, jobs) -> None:
    """The whole-suite run (job "suite") is the bundled samples on every case: the cases
    of each mutant's selection are among them, and none of them fails there."""
    mutant = MUTANTS[name]
    suite: CliRun = jobs.result("suite")
    selected = [r for r in suite.records if mutant.requirement in r["requirements"]]
    selected = [r for r in selected if r["role"] == mutant.role]
    assert selected, f"the samples ran no case of {mutant.requirement}\n{suite.ran.tail()}"
    verdicts = {name_of(r): r["verdict"] for r in selected}
    assert set(verdicts.values()) <= PASSING, verdicts
    assert "PASS" in verdicts.values()


def test_print_the_kill_table(
    kill_table: dict[str, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs after the mutant tests (module order); prints mutant -> the cases that killed it
    before its run was stopped (the first kill that names the requirement stops it)."""
    if not kill_table:
        pytest.skip("no mutant test ran in this session")
    width = max(len(n) for n in kill_table)
    lines = ["", "kill table (mutant -> killing cases):"]
    for name, mutant in MUTANTS.items():
        if name in kill_table:
            killers = ", ".join(kill_table[name]) or "SURVIVED"
            lines.append(f"  {name:<{width}}  {mutant.requirement}  {killers}")
    with capsys.disabled():
        print("\n".join(lines))
    assert set(kill_table) <= set(MUTANTS)
