"""The kill matrix: every faulty variant of the samples (tests/mutants/) is killed, that is some
case record FAILs with the mutant's requirement in its `failed` list and names it in its message.
The case need not verify that requirement: the core judges every message of every case, and a
rule seen broken anywhere counts.

Which cases run: when some case of the mutant's role verifies the requirement
(`case.verified()`), those first (`-k REQUIREMENT`); when none of them kills it (the rule may be
seen broken only where another case makes the mutant act), every case of the role. Either way a
run stops at the first kill (stop_on_kill.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

import pytest

from conformance.catalog import load_catalog
from conformance.core.rules import RULES, Rule, signature_rule
from conformance.engine.loader import load_all, packaged_cases_dir
from conformance.engine.model import Case
from conformance.engine.records import CaseRecord, Verdict
from conformance.engine.runner import CASE_RULE
from conformance.profiles import load_profile
from tests.harness.helpers import PASSING, REPO, CliRun, job, name_of, pytest_argv, run
from tests.harness.stop_on_kill import STOPPED, kills
from tests.mutants import client_mutants, server_mutants  # noqa: F401  (they register)
from tests.mutants.registry import MUTANTS, Mutant, write_dut

# Seconds for every wait of a mutant run: the samples answer at once, a mutant that hangs only
# delays its own verdict.
TIMEOUT_S = 6.0


@cache
def shipped_cases() -> tuple[Case, ...]:
    cases, problems = load_all([packaged_cases_dir()])
    assert not problems, "\n".join(str(p) for p in problems)
    return tuple(cases)


def keyword(mutant: Mutant) -> str | None:
    """`-k` of the mutant's run: its requirement, when some case of its role verifies it."""
    verifying = [
        c for c in shipped_cases() if c.role == mutant.role and mutant.requirement in c.verified()
    ]
    return mutant.requirement if verifying else None


def selection(mutant: Mutant) -> str:
    """The cases a mutant's run selects, in words."""
    chosen = keyword(mutant)
    return f"-k {chosen}" if chosen else f"every {mutant.role} case"


def selected(mutant: Mutant, records: list[CaseRecord]) -> list[CaseRecord]:
    """The records of a run over every case that the mutant's first selection keeps."""
    chosen = keyword(mutant)
    return [
        r for r in records if r.role == mutant.role and (not chosen or chosen in r.requirements)
    ]


def _run(mutant: Mutant, dut: Path, folder: Path, chosen: str | None) -> CliRun:
    folder.mkdir(parents=True, exist_ok=True)
    argv = pytest_argv(
        "-q", "-p", "tests.harness.stop_on_kill", "--stop-on-kill", mutant.requirement,
        "--dut", dut, "--dm-timeout", str(TIMEOUT_S), "-m", mutant.role,
        *(["-k", chosen] if chosen else []),
        "--dm-reports", folder / "rep", packaged_cases_dir(), rootdir=folder,
    )  # fmt: skip
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    return CliRun(run(argv, cwd=folder, env=env), folder, [])


def run_mutant(mutant: Mutant, folder: Path) -> CliRun:
    """`pytest --dut MUTANT -k REQUIREMENT` over the packaged cases (reports in folder/rep), then,
    when that kills nothing, every case of the role (in folder/all/rep); stopped at the first
    kill (the other cases would only add time)."""
    dut = write_dut(mutant, folder)
    chosen = keyword(mutant)
    result = _run(mutant, dut, folder, chosen)
    if chosen is None or any(kills(r, mutant.requirement) for r in _records(result)):
        return result
    return _run(mutant, dut, folder / "all", None)


def _records(result: CliRun) -> list[CaseRecord]:
    try:
        return result.records
    except (AssertionError, OSError):
        return []


for _mutant in MUTANTS.values():
    job(f"mutant:{_mutant.name}", weight=40 if keyword(_mutant) is None else 15)(
        partial(run_mutant, _mutant)
    )


@dataclass(frozen=True)
class Outcome:
    """What one mutant's run showed."""

    mutant: Mutant
    result: CliRun
    records: tuple[CaseRecord, ...]
    killers: tuple[CaseRecord, ...]
    problem: str  # why the run itself is suspect: no case ran, pytest broke

    @property
    def killed(self) -> bool:
        return bool(self.killers) and not self.problem

    def describe(self) -> str:
        """Every record of the run, for a failure message."""
        return "\n".join(
            f"  {name_of(r)} {r.verdict.value} failed={r.failed}" for r in self.records
        )


def assess(mutant: Mutant, result: CliRun) -> Outcome:
    try:
        records = result.records
    except (AssertionError, OSError) as exc:
        records, problem = [], f"no results: {exc}"
    else:
        problem = ""
    killers = [r for r in records if kills(r, mutant.requirement)]
    stopped = f"Interrupted: {STOPPED}" in result.ran.stdout
    output = result.ran.stdout + result.ran.stderr
    if not records:
        problem = problem or "no case ran"
    elif "INTERNALERROR" in output or "Traceback" in output:
        problem = "pytest broke (INTERNALERROR or a traceback)"
    elif killers and not (stopped and result.ran.returncode == 2):
        problem = f"not stopped at the first kill (pytest exit {result.ran.returncode})"
    elif killers and killers[0] is not records[-1]:
        problem = f"cases ran after the kill by {name_of(killers[0])}"
    elif not killers and result.ran.returncode not in (0, 1):
        problem = f"pytest exit {result.ran.returncode}"
    return Outcome(mutant, result, tuple(records), tuple(killers), problem)


def mutant_param(name: str) -> object:
    return pytest.param(name, marks=[pytest.mark.uses_job(f"mutant:{name}")])


@pytest.mark.parametrize("name", [mutant_param(n) for n in MUTANTS])
def test_mutant_is_killed_by_a_failure_naming_its_requirement(name: str, jobs) -> None:
    mutant = MUTANTS[name]
    outcome = assess(mutant, jobs.result(f"mutant:{name}"))
    assert not outcome.problem, f"{outcome.problem}\n{outcome.result.ran.tail()}"
    assert outcome.killed, (
        f"{name} ({mutant.description}) survived {selection(mutant)}: no record FAILs with "
        f"{mutant.requirement} in `failed` and in its message:\n{outcome.describe()}"
    )


@pytest.mark.uses_job("suite")
@pytest.mark.parametrize("name", list(MUTANTS))
def test_conforming_samples_pass_the_same_selection(name: str, jobs) -> None:
    """The whole-suite run (job "suite") is the bundled samples on every case: the cases of
    each mutant's selection are among them, none of them FAILs, and none sees the mutant's
    requirement broken."""
    mutant = MUTANTS[name]
    suite: CliRun = jobs.result("suite")
    records = selected(mutant, suite.records)
    assert records, f"the samples ran no case of {selection(mutant)}\n{suite.ran.tail()}"
    verdicts = {name_of(r): r.verdict.value for r in records}
    assert set(verdicts.values()) <= PASSING, verdicts
    assert "PASS" in verdicts.values()
    assert not [name_of(r) for r in records if mutant.requirement in r.failed]


def kill_table(outcomes: list[Outcome]) -> str:
    rows = [("mutant", "requirement", "killed?", "killed by", "s")]
    for o in outcomes:
        state = "KILLED" if o.killed else "SURVIVED"
        detail = name_of(o.killers[0]) if o.killed else o.problem or selection(o.mutant)
        rows.append(
            (o.mutant.name, o.mutant.requirement, state, detail, f"{o.result.ran.seconds:.1f}")
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  "
        f"{r[3]:<{widths[3]}}  {r[4]:>5}"
        for r in rows
    )


@pytest.mark.uses_job(*(f"mutant:{n}" for n in MUTANTS))
def test_kill_table_has_every_mutant_killed(jobs, capsys: pytest.CaptureFixture[str]) -> None:
    """Prints mutant -> requirement -> the case that killed it -> seconds; every mutant has a
    row and every row says KILLED."""
    outcomes = [assess(m, jobs.result(f"mutant:{m.name}")) for m in MUTANTS.values()]
    table = kill_table(outcomes)
    with capsys.disabled():
        print(f"\n\nkill table:\n{table}")
    assert [o.mutant.name for o in outcomes] == list(MUTANTS)
    assert len(MUTANTS) >= 55
    survivors = [o.mutant.name for o in outcomes if not o.killed]
    assert not survivors, table


def _rules() -> dict[str, Rule]:
    profile = load_profile()
    every = [*RULES.values(), *(signature_rule(spec) for spec in profile.commands)]
    return {rule.key: rule for rule in every}


@pytest.mark.parametrize("name", [mutant_param(n) for n in MUTANTS])
def test_the_kill_rests_on_text_that_covers_what_was_checked(name: str, jobs) -> None:
    """The failure that killed the mutant was filed under its requirement (and under no MAY
    sentence: that only allows) either by a core rule resting on that requirement
    (tests/core/test_rules.py holds each rule's quote against the requirement's text, and its
    check against a crafted bad input), or by an expectation of a case that verifies that
    requirement."""
    mutant = MUTANTS[name]
    outcome = assess(mutant, jobs.result(f"mutant:{name}"))
    assert outcome.killed, outcome.describe()
    killer = outcome.killers[0]
    findings = [f for f in killer.findings if f.failed and f.basis == mutant.requirement]
    assert findings, f"{name_of(killer)}: no failed finding under {mutant.requirement}"
    catalog = load_catalog()
    permissions = [i for i in killer.failed if (e := catalog.get(i)) and e.permission]
    assert not permissions, f"{name_of(killer)} files a failure under a MAY: {permissions}"
    rules = _rules()
    entry = catalog.get(mutant.requirement)
    for finding in findings:
        if finding.rule == CASE_RULE:
            assert mutant.requirement in killer.requirements, (name_of(killer), finding)
            continue
        rule = rules.get(finding.rule)
        assert rule is not None, f"{finding.rule}: no rule of core/rules.py"
        assert rule.basis == mutant.requirement, (rule.key, rule.basis)
        if entry is not None:
            texts = [" ".join(t.split()) for t in (entry.text, entry.detail or "")]
            assert any(" ".join(rule.quote.split()) in t for t in texts), rule.quote


def test_a_record_that_does_not_name_the_requirement_kills_nothing() -> None:
    """The control of `kills`: each of its three conditions is needed."""
    base = CaseRecord(
        "DM20-C-X-001", "DM20-C-X-001", "x", "client", Verdict.FAIL,
        failed=["DM20-6.3-002"], message="requirement DM20-6.3-002 broken",
    )  # fmt: skip
    assert kills(base, "DM20-6.3-002")
    assert not kills(base, "DM20-6.3-005")
    base.verdict = Verdict.INCONCLUSIVE
    assert not kills(base, "DM20-6.3-002")
    base.verdict, base.failed = Verdict.FAIL, []
    assert not kills(base, "DM20-6.3-002")
    base.failed, base.message = ["DM20-6.3-002"], "something else"
    assert not kills(base, "DM20-6.3-002")
