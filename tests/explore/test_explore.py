"""`dm20-conformance explore` for real: processes, loopback HTTP, files; nothing mocked.

- The exploration kill table: against client mutants whose fault exploration can reach (a
  chosen subset, one per kind of prediction; `python tests/explore/kill_table.py` runs all of
  them and says which it cannot reach and why), `explore` reports a divergence naming the
  mutant's requirement within BUDGET; the case it writes fails against the mutant and passes
  against the sample.
- Soundness: against the samples and every benign variant of tests/variants/ it reports
  nothing (each variant with a small budget and a seed of its own, three at a time).
- Reproducible: the same seed finds the same first divergence; a run in the same folder
  replays it from Hypothesis's database there.
- The server role: nothing against the sample server; a divergence named by its requirement
  against two server mutants.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from conformance.dut import bundled_dut
from conformance.engine.harness import Harness, Options
from conformance.engine.loader import load_case_file
from conformance.engine.records import CaseRecord
from conformance.explore.model import Model, Uri, World
from conformance.profiles import load_profile
from tests.explore.runs import Budget, Explored, explore, job, patched
from tests.jobs import Pool
from tests.variants.registry import VARIANTS

BUDGET = Budget(examples=30, shrink_runs=12)  # per client mutant
VARIANT_BUDGET = Budget(examples=6, shrink_runs=4)  # per benign variant
SAMPLE_BUDGET = Budget(examples=25, shrink_runs=4)
SERVER_BUDGET = Budget(examples=12, shrink_runs=8)
SEED = 5

# One mutant per kind of prediction the model makes, each reachable within BUDGET with SEED
# (`python tests/explore/kill_table.py` runs every client mutant).
CLIENT_MUTANTS = {
    "client-delete-keeps-children": "the tree a later INCLUDE shows after a DELETE",
    "client-get-merges": "the tree after a GET replaced a node",
    "client-levels-off-by-one": "the document of a PUT/POST or INCLUDE with Levels",
    "client-exec-any-node": "a status outside the set the profile allows (EXEC, 405)",
    "client-statuses-reversed": "the order of the statuses",
    "client-cont-ignored": "where the messages after a CONT go",
    "client-forgets-undelivered-alerts": "the Generic Alert a refused session owes the next",
}
SERVER_MUTANTS = ["server-reverses-queue", "server-lowercase-names"]

CLIENT_VARIANTS = [n for n, v in VARIANTS.items() if v.role == "client"]  # every one of them
SERVER_VARIANTS = [n for n, v in VARIANTS.items() if v.role == "server"]
SERVER_VARIANT_BUDGET = Budget(examples=4, shrink_runs=2)  # per benign server variant
PASSING = {"PASS", "INFORMATIONAL"}


def _explore(name: str, budget: Budget, seed: int, folder: Path) -> Explored:
    return explore(name, folder, budget, seed)


job("sample-client", weight=3)(partial(_explore, "sample-client", SAMPLE_BUDGET, SEED))
job("sample-server", weight=1)(partial(_explore, "sample-server", SERVER_BUDGET, SEED))
for _name in CLIENT_MUTANTS:
    job(f"mutant:{_name}", weight=4)(partial(_explore, _name, BUDGET, SEED))
for _name in SERVER_MUTANTS:
    job(f"mutant:{_name}", weight=2)(partial(_explore, _name, SERVER_BUDGET, SEED))
for _index, _name in enumerate(CLIENT_VARIANTS):
    job(f"variant:{_name}", weight=1)(partial(_explore, _name, VARIANT_BUDGET, 100 + _index))
for _index, _name in enumerate(SERVER_VARIANTS):
    job(f"variant:{_name}", weight=1)(partial(_explore, _name, SERVER_VARIANT_BUDGET, 200 + _index))

REPRO_MUTANT = "client-delete-keeps-children"
REPRO_BUDGET = Budget(examples=30, shrink_runs=0)


@job("repro", weight=2)
def _repro(folder: Path) -> tuple[Explored, Explored, Explored]:
    """The same seed twice in two run folders, then once more in the first folder."""
    first = explore(REPRO_MUTANT, folder, REPRO_BUDGET, 7, folder / "one")
    second = explore(REPRO_MUTANT, folder, REPRO_BUDGET, 7, folder / "two")
    again = explore(REPRO_MUTANT, folder, REPRO_BUDGET, 7, folder / "one")
    return first, second, again


def _run_case(dut: Path, case_file: Path) -> CaseRecord:
    """The written case, run by the engine against `dut`."""
    harness = Harness(Options(dut=dut, timeout_s=5.0))
    try:
        [case] = load_case_file(case_file, harness.catalog, harness.profile)
        return harness.run_case(case, {}, case.id)
    finally:
        harness.close()


def _check_written_case(run: Explored, requirement: str, role: str) -> Path:
    """The case of the divergence: in the run folder, valid, naming the requirement and the seed;
    it fails against the implementation explored and passes against the sample."""
    divergence = run.divergence
    assert divergence is not None, run.tail()
    path = Path(divergence["case_file"])
    assert path.parent == run.folder / "cases" / role, path
    [case] = load_case_file(path)
    assert case.role == role
    assert requirement in case.requirements, case.requirements
    assert f"seed {run.report['seed']}" in case.description
    against_dut = _run_case(run.dut, path)
    assert against_dut.verdict.value == "FAIL", against_dut.message
    assert requirement in against_dut.failed, (against_dut.failed, against_dut.message)
    against_sample = _run_case(bundled_dut(role), path)
    assert against_sample.verdict.value in PASSING, against_sample.message
    return path


KILLS: dict[str, tuple[str, str, float, int]] = {}  # mutant -> (requirement, IDs, s, runs)


@pytest.mark.explores(*(f"mutant:{n}" for n in CLIENT_MUTANTS))
@pytest.mark.parametrize("name", list(CLIENT_MUTANTS))
def test_exploration_finds_the_client_mutant_and_writes_a_case_that_kills_it(
    name: str, explorations: Pool
) -> None:
    run: Explored = explorations.result(f"mutant:{name}")
    requirement = patched(name).requirement
    assert run.returncode == 1, run.tail()
    divergence = run.divergence
    assert divergence is not None and requirement in divergence["ids"], run.tail()
    report = run.report
    assert report["first"] is not None and report["first"]["run"] <= BUDGET.examples
    assert "FAIL" in divergence["replay"], divergence["replay"]
    assert "DIVERGENCE" in run.stdout and requirement in run.stdout
    path = _check_written_case(run, requirement, "client")
    KILLS[name] = (requirement, ", ".join(divergence["ids"]), run.seconds, report["runs"])
    assert path.is_file()


@pytest.mark.explores("sample-client")
def test_exploration_finds_nothing_in_the_sample_client(explorations: Pool) -> None:
    run: Explored = explorations.result("sample-client")
    assert run.returncode == 0, run.tail()
    report = run.report
    assert report["divergence"] is None and not report["trouble"], run.tail()
    assert report["runs"] >= SAMPLE_BUDGET.examples - 2  # a script drawn twice runs once
    assert (run.folder / "seed").read_text().strip() == str(SEED)
    assert "no divergence from the model" in run.stdout
    assert "examples" in run.stderr  # the progress line


@pytest.mark.explores(*(f"variant:{n}" for n in VARIANTS))
@pytest.mark.parametrize("name", list(VARIANTS))
def test_exploration_finds_nothing_in_a_benign_variant(name: str, explorations: Pool) -> None:
    run: Explored = explorations.result(f"variant:{name}")
    report = run.report
    divergence = report["divergence"]
    assert divergence is None, f"{name}: {divergence['ids']}\n{divergence['message'][:3000]}"
    assert not report["trouble"], report["trouble"]
    assert run.returncode == 0 and report["runs"] >= 2, run.tail()


@pytest.mark.explores("repro")
def test_the_same_seed_finds_the_same_first_divergence(explorations: Pool) -> None:
    first, second, again = explorations.result("repro")
    one, two = first.report["first"], second.report["first"]
    assert one is not None and two is not None, first.tail()
    assert (one["ids"], one["run"], one["script"]) == (two["ids"], two["run"], two["script"])
    assert (first.folder / "hypothesis").is_dir()  # Hypothesis's example database
    replayed = again.report["first"]
    assert replayed is not None and replayed["run"] == 1, again.tail()  # from the database
    assert set(replayed["ids"]) & set(one["ids"])


@pytest.mark.explores("sample-server")
def test_exploration_finds_nothing_in_the_sample_server(explorations: Pool) -> None:
    run: Explored = explorations.result("sample-server")
    assert run.returncode == 0, run.tail()
    assert run.report["divergence"] is None and run.report["runs"] >= 2


@pytest.mark.explores(*(f"mutant:{n}" for n in SERVER_MUTANTS))
@pytest.mark.parametrize("name", SERVER_MUTANTS)
def test_exploration_finds_the_server_mutant(name: str, explorations: Pool) -> None:
    run: Explored = explorations.result(f"mutant:{name}")
    requirement = patched(name).requirement
    assert run.returncode == 1, run.tail()
    divergence = run.divergence
    assert divergence is not None and requirement in divergence["ids"], run.tail()
    _check_written_case(run, requirement, "server")


def test_print_the_exploration_kill_table(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs after the mutant tests (module order): mutant, requirement, what the divergence
    named, seconds and runs of the implementation (shrinking included)."""
    if not KILLS:
        pytest.skip("no mutant test ran in this session")
    lines = ["", f"exploration kill table (seed {SEED}, {BUDGET.examples} examples):"]
    for name, (requirement, ids, seconds, runs) in KILLS.items():
        lines.append(f"  {name:<34} {requirement:<13} {ids:<40} {seconds:5.0f} s {runs:3} runs")
    with capsys.disabled():
        print("\n".join(lines))


# -- the model alone: the freedoms of the profile are in its sets ------------------------------
def _model() -> Model:
    profile = load_profile()
    from conformance.dut import load_dut

    dut = load_dut(bundled_dut("client"))
    tree: dict[str, Any] = {
        "urn:oma:mo:oma-dm-conformance:1.0": {
            "0": {"Reboot": "", "Name": "a"},
            "1": {"S": {"V": 1}},
        },
        "urn:oma:mo:oma-dm-devinfo:1.0": {"0": {"DevID": "x"}},
    }
    return Model(World.of(dut, profile, tree))


def test_the_model_allows_every_outcome_the_profile_allows() -> None:
    model = _model()
    ok, accepted, failed = 200, 202, 500
    executed = model.execute(("urn:oma:mo:oma-dm-conformance:1.0", "0", "Reboot"), "{server_url}/a")
    assert executed.codes == {ok, accepted} and executed.alert is not None  # A5, A10
    media = model.get_into("d1", "media", {"N": 1}, ("urn:oma:mo:oma-dm-conformance:1.0", "7"))
    assert media.codes == {ok, failed}  # A13: refused or stored
    later = model.include([Uri(("urn:oma:mo:oma-dm-conformance:1.0", "7"))])
    assert later.codes == {ok, 404} and later.part is None  # stored or not: not predicted
    deleted = model.delete(("urn:oma:mo:oma-dm-conformance:1.0", "1", "S"))
    assert deleted.codes == {ok}
    gone = model.include([Uri(("urn:oma:mo:oma-dm-conformance:1.0", "1", "S"))])
    assert gone.codes == {404} and gone.basis == ("DM20-6.2-012",)
    star = model.include([Uri(None, 1)])
    assert star.codes == {ok} and star.part == {"$any": True}  # instance 7 is unknown


def test_a_private_mo_is_never_in_the_model_of_star() -> None:
    model = _model()
    assert model.world.private is not None
    doc = model.entries(Uri(None))
    assert doc is not None and not any(k.startswith(model.world.private[0]) for k in doc)
