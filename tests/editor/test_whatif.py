"""What-if on an assumption: a profile that relaxes A2 (or makes A3 strict), the cases whose
verdict rests on it, derived here independently from the case files, the catalog, the rule table
and the run's records, and a real rerun of the same DUT whose flips are those cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conformance.catalog import load_catalog
from conformance.core import rules
from conformance.core.rules import RULES, Finding
from conformance.engine.loader import load_all, packaged_cases_dir
from conformance.profiles import load_profile
from conformance.report.results import read_results
from tests.editor.conftest import TIMEOUT, WHATIF, Ran, Runs, cli, cli_started

RELAX_A2 = WHATIF / "relax-a2.yaml"
STRICT_A3 = WHATIF / "strict-a3.yaml"


def derived(run: Path, basis: str) -> set[str]:
    """The case runs of `run` whose verdict rests on `basis`, from first principles: the case
    file names it among its assumptions or verifies it (its requirements or a step's
    `verifies`), a sentence it verifies rests on it in the catalog, or the run's record holds a
    finding filed under it or made by a rule of the table that rests on it."""
    cases, problems = load_all([packaged_cases_dir()])
    assert not problems
    by_id = {c.id: c for c in cases}
    catalog = load_catalog()
    keys = {rule.key for rule in RULES.values() if rule.basis == basis}
    found = set()
    for record in read_results(run):
        case = by_id[record.case]
        verified = set(case.verified())
        if (
            basis in case.assumptions
            or basis in verified
            or any(basis in catalog[r].assumptions for r in verified if r in catalog)
            or any(f.basis == basis or f.rule in keys for f in record.findings)
        ):
            found.add(record.name)
    return found


def listed(stdout: str) -> set[str]:
    """The case runs whatif says rest on the change."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("cases whose verdict"))
    names = set()
    for line in lines[start + 1 :]:
        if not line.startswith("  ") or line.startswith("  ("):
            break
        names.add(line.split()[0])
    return names


def flips(stdout: str) -> dict[str, str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("verdict flips per case"))
    out = {}
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        name, rest = line.strip().split(": ", 1)
        out[name] = rest.split(" (")[0]
    return out


@pytest.fixture(scope="module")
def reruns(editor_runs: Runs) -> dict[str, Ran]:
    """The two what-ifs that rerun a DUT, at once: A2 relaxed on the server that sends END
    twice, A3 made strict on the client that writes Accept as the seed does."""
    started = {
        "A2": cli_started(
            "whatif", "--profile", RELAX_A2, editor_runs.end_twice, "--timeout", TIMEOUT
        ),
        "A3": cli_started(
            "whatif", "--profile", STRICT_A3, editor_runs.semicolon, "--timeout", TIMEOUT
        ),
    }
    return {name: finish() for name, finish in started.items()}


def test_a_what_if_profile_relaxes_by_naming_only_what_changes(tmp_path: Path) -> None:
    profile = load_profile(str(RELAX_A2))
    assert profile.extends == "dm20-draft" and profile.relaxed == ("A2",)
    assert profile.assumptions["A2"] != load_profile().assumptions["A2"]
    end_last = Finding(RULES["server.end-last"], "CMD[0]: END is not the last command")
    order = Finding(RULES["status.order"], "statuses in another order")
    assert rules.in_force([end_last, order], profile) == [order]
    assert rules.in_force([end_last, order], load_profile()) == [end_last, order]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"extends": "dm20-draft", "relaxed": ["A99"]}))
    with pytest.raises(ValueError, match="A99"):
        load_profile(str(bad))


def test_whatif_lists_exactly_the_cases_resting_on_a2(editor_runs: Runs) -> None:
    ran = cli("whatif", "--profile", RELAX_A2, editor_runs.sample, "--no-rerun")
    assert ran.code == 0, ran.tail()
    expected = derived(editor_runs.sample, "A2")
    assert listed(ran.stdout) == expected, ran.stdout
    assert "DM20-C-END-001" in expected and "DM20-C-GET-001" not in expected
    assert "relaxed A2: the judge no longer applies server.end-last" in ran.stdout


def test_relaxing_a2_flips_exactly_the_cases_that_rest_on_it(
    editor_runs: Runs, reruns: dict[str, Ran]
) -> None:
    before = {r.name: r.verdict.value for r in read_results(editor_runs.end_twice)}
    assert set(before.values()) == {"FAIL"}
    ran = reruns["A2"]
    assert ran.code == 0, ran.tail()
    expected = derived(editor_runs.end_twice, "A2")
    assert listed(ran.stdout) == expected == set(before)
    flipped = flips(ran.stdout)
    assert flipped == {name: "FAIL -> PASS" for name in before}, ran.stdout
    assert "A2             FAIL -> not exercised" in ran.stdout
    assert "no changed assumption explains" not in ran.stdout
    rerun = Path(ran.stdout.split("what-if written to ")[1].strip())
    data = json.loads(rerun.read_text(encoding="utf-8"))
    assert data["change"]["relaxed"] == ["A2"]
    assert data["change"]["rules_off"] == ["server.end-last"]
    assert {f["id"] for f in data["flips"]["cases"]} == set(before)
    report = json.loads((rerun.parent / "report.json").read_text(encoding="utf-8"))
    assert report["profile"]["assumptions"]["A2"].startswith("END may stand anywhere")


def test_a3_made_strict_fails_the_seed_s_own_accept(
    editor_runs: Runs, reruns: dict[str, Ran]
) -> None:
    ran = reruns["A3"]
    assert ran.code == 0, ran.tail()
    assert 'changed accept.separators: [",", ";"] -> [","]' in ran.stdout
    assert listed(ran.stdout) == derived(editor_runs.semicolon, "A3") == {"DM20-C-HDR-002"}
    assert flips(ran.stdout) == {"DM20-C-HDR-002": "INFORMATIONAL -> FAIL"}
    assert "DM20-6.3-003   PASS -> FAIL" in ran.stdout
