"""A fault is filed under the requirement it breaks, not under what follows from it. Each
faulty variant here runs the whole suite of its role (not stopped at its first kill, as the
kill matrix is), and every case it fails must name only what the fault breaks:

- statuses in reverse order break seed 6.3's order, and nothing read from a status's position
  (which INCLUDE succeeded, A8; where a CONT moved the session, seed 6.3) may count against the
  client as well;
- Levels ignored breaks the Levels sentence (and "the same URI syntax" of INCLUDE, and the
  Levels=1 sentence of "*" as A7 reads it): the cases about DELETE, headers, errors or uploads
  that read a node only to see it is there do not fail;
- INCLUDE parts in reverse order break A8's command order, not what the case reads them for;
- a DELETE that keeps interior nodes answers 200 where A5 gives 405 or 403: a wrong code, in the
  cases about status order too, is never filed under the order."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from conformance.engine.records import Verdict
from tests.harness.helpers import CliRun, cli_run, job, name_of
from tests.mutants import client_mutants  # noqa: F401  (they register)
from tests.mutants.registry import MUTANTS, write_dut

ORDER = "DM20-6.3-006"
ONLY = {  # mutant -> every ID its failures may name
    "client-statuses-reversed": {ORDER},
    # Levels (6.2-008), in an INCLUDE by "the same URI syntax" (6.2-016), on "*" as A7 reads the
    # Levels=1 sentence (6.2-011)
    "client-levels-ignored": {"DM20-6.2-008", "DM20-6.2-016", "DM20-6.2-011"},
    # parts in reverse order break A8's "in command order", and only that
    "client-include-parts-reversed": {"A8"},
}
NEVER = {"client-delete-keeps-children": {ORDER}}  # mutant -> IDs its failures must not name


def whole_role(name: str, folder: Path) -> CliRun:
    mutant = MUTANTS[name]
    dut = write_dut(mutant, folder)
    return cli_run(folder, "--dut", dut, "--role", mutant.role, "--timeout", "6")


for _name in {**ONLY, **NEVER}:
    job(f"whole:{_name}", weight=20)(partial(whole_role, _name))


def failures(result: CliRun) -> dict[str, list[str]]:
    """Case -> the IDs it failed under, for every case that did not pass; a case that ended
    INCONCLUSIVE or ERROR is a fault of the run."""
    found = {}
    for record in result.records:
        assert not record.verdict.failing or record.verdict is Verdict.FAIL, (
            name_of(record),
            record.verdict,
            record.message,
        )
        if record.verdict is Verdict.FAIL:
            found[name_of(record)] = record.failed
    return found


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.uses_job(f"whole:{n}")) for n in ONLY]
)
def test_every_failure_names_only_what_the_fault_breaks(name: str, jobs) -> None:
    failed = failures(jobs.result(f"whole:{name}"))
    assert failed, f"{name} failed nothing"
    wrong = {case: ids for case, ids in failed.items() if not set(ids) <= ONLY[name]}
    assert not wrong, f"{name} breaks only {sorted(ONLY[name])}; filed elsewhere: {wrong}"
    assert any(MUTANTS[name].requirement in ids for ids in failed.values())


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.uses_job(f"whole:{n}")) for n in NEVER]
)
def test_no_failure_is_filed_under_what_the_fault_keeps(name: str, jobs) -> None:
    failed = failures(jobs.result(f"whole:{name}"))
    assert any(MUTANTS[name].requirement in ids for ids in failed.values()), failed
    wrong = {case: ids for case, ids in failed.items() if set(ids) & NEVER[name]}
    assert not wrong, f"{name} keeps {sorted(NEVER[name])}; filed there: {wrong}"
