"""A client vendor gives the four ixit facts the contract expects (device_id, writable_moid,
permanent_uri, exec_uri) and nothing optional: the requirements every client must meet (the
header MUSTs of seed 6.3, status order, END) are still tested, each by at least one case that
applies and runs, never only by cases that come out NOT APPLICABLE."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.engine.harness import Harness, Options
from conformance.engine.loader import load_all, packaged_cases_dir
from conformance.engine.records import Verdict
from tests.harness.helpers import CLI, CliRun, cli_run, job, name_of, run, sample_dut, write_yaml

FACTS = ("device_id", "writable_moid", "permanent_uri", "exec_uri")
EVERY_CLIENT = ("DM20-6.3-002", "DM20-6.3-003", "DM20-6.3-005", "DM20-6.3-006", "DM20-6.2-024")


def four_facts_dut(folder: Path) -> Path:
    """The sample client's DUT file with only the four facts in its ixit."""
    data = sample_dut("client")
    data["ixit"] = {k: v for k, v in data["ixit"].items() if k in FACTS}
    assert tuple(data["ixit"]) == FACTS
    return write_yaml(folder / "four-facts.yaml", data).resolve()


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
