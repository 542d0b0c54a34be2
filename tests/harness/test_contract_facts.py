"""A client vendor gives the four ixit facts the contract expects (device_id, writable_moid,
permanent_uri, exec_uri) and nothing optional: the requirements every client must meet (the
header MUSTs of seed 6.3, status order, END) are still tested, each by at least one case that
applies and runs, never only by cases that come out NOT APPLICABLE."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import yaml

from conformance.engine.harness import Harness, Options
from conformance.engine.loader import load_all, packaged_cases_dir
from conformance.engine.records import Verdict
from tests.harness.helpers import (
    CLI,
    CliRun,
    cli_run,
    job,
    name_of,
    report_json,
    run,
    sample_dut,
    write_yaml,
)
from tests.mutants import client_mutants  # noqa: F401  (they register)
from tests.mutants.registry import MUTANTS
from tests.patched import write_dut

FACTS = ("device_id", "writable_moid", "permanent_uri", "exec_uri")
EVERY_CLIENT = ("DM20-6.3-002", "DM20-6.3-003", "DM20-6.3-005", "DM20-6.3-006", "DM20-6.2-024")


def four_facts_dut(folder: Path) -> Path:
    """The sample client's DUT file with only the four facts in its ixit."""
    data = sample_dut("client")
    data["ixit"] = {k: v for k, v in data["ixit"].items() if k in FACTS}
    assert tuple(data["ixit"]) == FACTS
    return write_yaml(folder / "four-facts.yaml", data).resolve()


FAULTS = {  # the two: no X-OMADMDevID on status messages, statuses out of order
    "client-no-device-id": "DM20-6.3-005",
    "client-statuses-reversed": "DM20-6.3-006",
}


def faulty_four_facts_dut(name: str, folder: Path) -> Path:
    """A faulty variant's DUT file with only the four facts in its ixit."""
    data = yaml.safe_load(write_dut(MUTANTS[name], folder).read_text(encoding="utf-8"))
    data["ixit"] = {k: v for k, v in data["ixit"].items() if k in FACTS}
    return write_yaml(folder / f"{name}-four-facts.yaml", data).resolve()


def faulty_four_facts_run(name: str, folder: Path) -> CliRun:
    return cli_run(folder, "--dut", faulty_four_facts_dut(name, folder), "--timeout", "5")


for _name in FAULTS:
    job(f"four-facts:{_name}", weight=30)(partial(faulty_four_facts_run, _name))


@job("four-facts", weight=30)
def four_facts_run(folder: Path) -> CliRun:
    dut = four_facts_dut(folder)
    return cli_run(folder, "--dut", dut, "-k", " or ".join(EVERY_CLIENT), "--timeout", "5")


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory):
    harness = Harness(Options(dut=four_facts_dut(tmp_path_factory.mktemp("four-facts"))))
    yield harness
    harness.close()


@pytest.mark.parametrize("requirement", EVERY_CLIENT)
def test_some_case_of_the_requirement_applies(requirement: str, harness: Harness) -> None:
    cases, problems = load_all([packaged_cases_dir()])
    assert not problems
    verifying = [c for c in cases if c.role == "client" and requirement in c.verified()]
    assert verifying, f"no client case verifies {requirement}"
    reasons = {c.id: harness.not_applicable(c) for c in verifying}
    assert any(reason is None for reason in reasons.values()), reasons


def test_a_case_that_needs_an_optional_fact_is_not_applicable(harness: Harness) -> None:
    """The control: the DUT file really lacks the optional facts."""
    cases, _ = load_all([packaged_cases_dir()])
    [get_003] = [c for c in cases if c.id == "DM20-C-GET-003"]  # writes {ixit.instance_uri}
    reason = harness.not_applicable(get_003)
    assert reason and "instance_uri" in reason


def test_list_says_the_same(tmp_path: Path) -> None:
    ran = run([CLI, "list", "--dut", four_facts_dut(tmp_path)], cwd=tmp_path)
    assert ran.returncode == 0, ran.tail()
    lines = {line.split()[0]: line.split()[1] for line in ran.stdout.splitlines() if line.strip()}
    assert lines["DM20-C-GET-003"] == "skip"
    assert lines["DM20-C-HDR-001"] == "run"


@pytest.mark.uses_job("four-facts")
@pytest.mark.parametrize("requirement", EVERY_CLIENT)
def test_a_run_passes_some_case_of_the_requirement(requirement: str, jobs) -> None:
    result: CliRun = jobs.result("four-facts")
    verifying = [r for r in result.records if requirement in r.requirements]
    verdicts = {name_of(r): r.verdict.value for r in verifying}
    assert any(r.verdict is Verdict.PASS and requirement in r.passed for r in verifying), (
        verdicts,
        result.ran.tail(),
    )
    assert not [n for n, v in verdicts.items() if v not in ("PASS", "NOT APPLICABLE")], verdicts


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.uses_job(f"four-facts:{n}")) for n in FAULTS]
)
def test_with_the_four_facts_a_faulty_client_fails_the_run(name: str, jobs) -> None:
    """The whole suite with only the four facts: the run exits 1 and its requirement FAILs."""
    result: CliRun = jobs.result(f"four-facts:{name}")
    requirement = FAULTS[name]
    assert result.ran.returncode == 1, result.ran.tail()
    failing = [name_of(r) for r in result.records if requirement in r.failed]
    assert failing, result.ran.tail()
    rows = {r["id"]: r for r in report_json(result.reports)["requirements"]}
    assert rows[requirement]["state"] == "FAIL", rows[requirement]
