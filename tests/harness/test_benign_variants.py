"""Benign variants of the samples (tests/variants/): each differs from its sample in one way the
draft and the profile allow, and the whole suite of its role must give it no FAIL, ERROR or
INCONCLUSIVE (INFORMATIONAL and NOT APPLICABLE are fine). Each runs as a vendor runs the suite:
`dm20-conformance run --dut <variant DUT> --role <role>`, every case of the role, nothing left
out. Also: every variant and every mutant names a basis that exists."""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

import pytest

from conformance.catalog import load_catalog
from conformance.engine.records import SEVERITY, Verdict
from conformance.profiles import load_profile
from tests.harness.helpers import CliRun, case_names, cli_run, job, name_of
from tests.mutants import client_mutants, server_mutants  # noqa: F401  (they register)
from tests.mutants.registry import MUTANTS
from tests.patched import Patched
from tests.variants import client_variants, server_variants  # noqa: F401  (they register)
from tests.variants.registry import VARIANTS, Variant, write_dut

FALSE = {Verdict.FAIL, Verdict.ERROR, Verdict.INCONCLUSIVE}


def run_variant(variant: Variant, folder: Path) -> CliRun:
    """The whole suite of the variant's role against it, reports under folder/reports/."""
    dut = write_dut(variant, folder / "dut")
    result = cli_run(folder, "--dut", dut, "--role", variant.role)
    result.expected = case_names(role=variant.role)
    return result


for _variant in VARIANTS.values():
    job(f"variant:{_variant.name}", weight=70 if _variant.role == "client" else 20)(
        partial(run_variant, _variant)
    )


def counts(result: CliRun) -> str:
    """`60 PASS, 5 INFORMATIONAL, 1 NOT APPLICABLE`, worst first."""
    found = Counter(r.verdict for r in result.records)
    return ", ".join(f"{found[v]} {v.value}" for v in SEVERITY if found[v])


def problems(result: CliRun) -> list[str]:
    """What is wrong with a variant's run: verdicts that fail it, cases left out or repeated."""
    found = [
        f"{name_of(r)} {r.verdict.value}: {r.message[:1500]}"
        for r in result.records
        if r.verdict in FALSE
    ]
    names = Counter(name_of(r) for r in result.records)
    missing = sorted(set(result.expected) - set(names))
    found += [f"{n}: no record (the whole suite of the role must run)" for n in missing]
    found += [f"{n}: {c} records" for n, c in names.items() if c > 1]
    found += [f"{n}: not a case of the role" for n in sorted(set(names) - set(result.expected))]
    return found


def variant_param(name: str) -> object:
    return pytest.param(name, marks=[pytest.mark.uses_job(f"variant:{name}")])


@pytest.mark.parametrize("name", [variant_param(n) for n in VARIANTS])
def test_variant_gets_no_false_verdict_from_the_whole_suite(name: str, jobs) -> None:
    variant = VARIANTS[name]
    result: CliRun = jobs.result(f"variant:{name}")
    found = problems(result)
    assert not found, (
        f"{name} ({variant.description}; allowed by {variant.basis}):\n"
        + "\n".join(found)
        + "\n"
        + result.ran.tail(1500)
    )
    assert result.ran.returncode == 0, result.ran.tail()


@pytest.mark.uses_job(*(f"variant:{n}" for n in VARIANTS))
def test_variant_table(jobs, capsys: pytest.CaptureFixture[str]) -> None:
    """Prints variant -> the freedom it uses -> its verdict counts; every row is clean."""
    rows = [("variant", "freedom", "verdicts", "s")]
    unclean = []
    for name, variant in VARIANTS.items():
        result: CliRun = jobs.result(f"variant:{name}")
        rows.append((name, variant.basis, counts(result), f"{result.ran.seconds:.0f}"))
        if problems(result):
            unclean.append(name)
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    table = "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:>4}" for r in rows
    )
    with capsys.disabled():
        print(f"\n\nvariant table:\n{table}")
    assert len(VARIANTS) >= 35
    assert not unclean, table


def unknown_bases(registry: dict[str, Patched]) -> list[str]:
    catalog, profile = load_catalog(), load_profile()
    return [
        f"{p.name}: {p.basis}"
        for p in registry.values()
        if p.basis not in catalog and profile.basis(p.basis) is None
    ]


@pytest.mark.parametrize(("what", "registry"), [("variant", VARIANTS), ("mutant", MUTANTS)])
def test_every_patch_names_a_basis_that_exists(what: str, registry: dict[str, Patched]) -> None:
    """A variant names the sentence, assumption or rule that allows it, a mutant the one it
    breaks: each is in the catalog or is an assumption or rule of the profile."""
    assert registry, f"no {what} is registered"
    assert not unknown_bases(registry), unknown_bases(registry)
    assert all(p.role in ("client", "server") and p.description for p in registry.values())


def test_an_unknown_basis_is_reported() -> None:
    """The control of the test above."""
    made_up = Patched("made-up", "client", "A99", "a freedom nobody grants", lambda: None)
    assert unknown_bases({"made-up": made_up}) == ["made-up: A99"]
