"""The suite's verdicts held against the ones recorded in tests/harness/verdicts.yaml: the
bundled samples' verdict on every case run, the verdict counts of every benign variant's whole
suite, and the case that kills every mutant. A change to the cases, the engine, the core or the
profile that moves any of them fails here, named, until the record is rewritten on purpose:

    DM20_WRITE_VERDICTS=1 pytest tests/harness/test_verdict_snapshot.py

(then `git diff tests/harness/verdicts.yaml` shows what moved). The runs are the jobs the other
harness tests use: nothing runs twice."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness.helpers import CliRun, name_of
from tests.harness.test_benign_variants import counts
from tests.harness.test_faulty_variants import assess
from tests.mutants.registry import MUTANTS
from tests.variants.registry import VARIANTS

RECORD = Path(__file__).with_name("verdicts.yaml")
WRITE = os.environ.get("DM20_WRITE_VERDICTS") == "1"
HEADER = (
    "# The suite's verdicts as last recorded (tests/harness/test_verdict_snapshot.py).\n"
    "# Rewrite on purpose: DM20_WRITE_VERDICTS=1 pytest tests/harness/test_verdict_snapshot.py\n"
)


def recorded(section: str) -> dict[str, str]:
    data = yaml.safe_load(RECORD.read_text(encoding="utf-8")) if RECORD.is_file() else {}
    found: dict[str, str] = (data or {}).get(section, {})
    return found


def hold(section: str, seen: dict[str, str]) -> None:
    """Compare `seen` with the record's section (or write it there, with DM20_WRITE_VERDICTS)."""
    if WRITE:
        data: dict[str, Any] = {}
        if RECORD.is_file():
            data = yaml.safe_load(RECORD.read_text(encoding="utf-8")) or {}
        data[section] = dict(sorted(seen.items()))
        RECORD.write_text(HEADER + yaml.safe_dump(data, sort_keys=True), encoding="utf-8")
        return
    before = recorded(section)
    moved = [
        f"  {key}: recorded {before.get(key, '(none)')!r}, now {seen.get(key, '(none)')!r}"
        for key in sorted(set(before) | set(seen))
        if before.get(key) != seen.get(key)
    ]
    assert not moved, f"{section}: verdicts moved since the record\n" + "\n".join(moved)


@pytest.mark.uses_job("suite")
def test_the_samples_verdicts_are_the_recorded_ones(jobs) -> None:
    suite: CliRun = jobs.result("suite")
    hold("samples", {name_of(r): r.verdict.value for r in suite.records})


@pytest.mark.uses_job(*(f"variant:{n}" for n in VARIANTS))
def test_the_benign_variants_verdicts_are_the_recorded_ones(jobs) -> None:
    hold("variants", {name: counts(jobs.result(f"variant:{name}")) for name in VARIANTS})


@pytest.mark.uses_job(*(f"mutant:{n}" for n in MUTANTS))
def test_each_mutant_is_killed_by_the_recorded_case(jobs) -> None:
    seen = {}
    for name, mutant in MUTANTS.items():
        outcome = assess(mutant, jobs.result(f"mutant:{name}"))
        seen[name] = name_of(outcome.killers[0]) if outcome.killed else "SURVIVED"
    hold("mutants", seen)
