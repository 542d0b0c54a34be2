"""The dm20 plugin is installed in the environment (entry point `pytest11`) but acts only when a
run asks for it. A foreign suite, with a `testcases/` folder of unrelated YAML in client/ and
server/ folders, runs in the same environment exactly as with `-p no:dm20`: the same collected
items and outcomes, no signal handler replaced, no dm20 marker registered, nothing written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.harness.helpers import PYTHON, Ran, run

FOREIGN_TESTS = """
import json
import os
import signal

import pytest


def test_adds():
    assert 1 + 1 == 2


@pytest.mark.parametrize("word", ["client", "server"])
def test_words(word):
    assert word.isalpha()


def test_fails_on_purpose():
    assert "yaml" == "json"


def test_signal_handlers():
    names = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}
    seen = {name: repr(signal.getsignal(number)) for name, number in names.items()}
    with open(os.environ["SIGNALS_FILE"], "w") as out:
        json.dump(seen, out)
"""

FOREIGN_YAML = "# a deployment file of the foreign project, nothing to do with dm20\nreplicas: 3\n"


def foreign_suite(root: Path) -> Path:
    """A project of someone else's: tests, and YAML where the dm20 suite keeps its cases."""
    project = root / "project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_foreign.py").write_text(FOREIGN_TESTS, encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\ntestpaths = tests testcases\n", "utf-8")
    for role in ("client", "server"):
        folder = project / "testcases" / role
        folder.mkdir(parents=True)
        (folder / "deploy.yaml").write_text(FOREIGN_YAML, encoding="utf-8")
    return project


def files_below(folder: Path) -> list[str]:
    """Every file and folder below `folder` but Python's bytecode caches."""
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if "__pycache__" not in p.parts
    )


def pytest_in(project: Path, tmp: Path, *args: str, inert: bool) -> tuple[Ran, dict[str, str]]:
    """`python -m pytest ARGS` in the project (`-p no:dm20` when `inert`), with a temporary
    folder of its own; what it printed, and the signal handlers its test saw."""
    signals = tmp / "signals.json"
    env = {**os.environ, "SIGNALS_FILE": str(signals), "TMPDIR": str(tmp)}
    env.pop("PYTEST_ADDOPTS", None)
    argv = [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args]
    ran = run([*argv, *(["-p", "no:dm20"] if inert else [])], cwd=project, env=env)
    seen = json.loads(signals.read_text(encoding="utf-8")) if signals.exists() else {}
    return ran, seen


def summary(ran: Ran) -> list[str]:
    """The outcome lines of `-rA` (PASSED/FAILED node), in order, and the final count line."""
    lines = ran.stdout.splitlines()
    outcomes = [line for line in lines if line.split(" ", 1)[0] in ("PASSED", "FAILED")]
    return [*outcomes, lines[-1].split(" in ")[0]]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Ran, dict[str, str]]]:
    """The foreign suite run, collected and asked for its markers, with and without -p no:dm20."""
    root = tmp_path_factory.mktemp("foreign")
    project = foreign_suite(root)
    before = files_below(project)
    found = {}
    for inert in (False, True):
        for what, args in (("run", ()), ("collect", ("--co", "-q")), ("markers", ("--markers",))):
            tmp = root / f"tmp-{what}-{inert}"
            tmp.mkdir()
            found[f"{what}{'-inert' if inert else ''}"] = pytest_in(
                project, tmp, *args, inert=inert
            )
            assert os.listdir(tmp) == [] or os.listdir(tmp) == ["signals.json"], os.listdir(tmp)
    assert files_below(project) == before, "the foreign runs wrote into the project"
    return found


def test_the_plugin_is_installed_and_really_left_out_by_no_dm20(tmp_path: Path) -> None:
    """The control: `--help` shows the dm20 options with the plugin, not with -p no:dm20."""
    project = foreign_suite(tmp_path)
    with_plugin, _ = pytest_in(project, tmp_path, "--help", inert=False)
    without, _ = pytest_in(project, tmp_path, "--help", inert=True)
    assert "--dut" in with_plugin.stdout and "dm20" in with_plugin.stdout
    assert "--dut" not in without.stdout


def test_same_outcomes(runs: dict[str, tuple[Ran, dict[str, str]]]) -> None:
    (ran, _), (inert, _) = runs["run"], runs["run-inert"]
    assert ran.returncode == inert.returncode == 1, ran.tail()
    assert summary(ran) == summary(inert)
    assert summary(ran)[-1].endswith("1 failed, 4 passed"), ran.tail()


def test_same_collected_items(runs: dict[str, tuple[Ran, dict[str, str]]]) -> None:
    (ran, _), (inert, _) = runs["collect"], runs["collect-inert"]
    items = [line for line in ran.stdout.splitlines() if "::" in line]
    assert items == [line for line in inert.stdout.splitlines() if "::" in line]
    assert len(items) == 5 and all(i.startswith("tests/test_foreign.py::") for i in items)
    assert "deploy.yaml" not in ran.stdout + ran.stderr


def test_no_signal_handler_is_replaced(runs: dict[str, tuple[Ran, dict[str, str]]]) -> None:
    """The handlers a foreign test sees are those it sees without the plugin (Python's own, or
    SIG_IGN inherited where the suite itself runs in the background)."""
    (_, seen), (_, inert) = runs["run"], runs["run-inert"]
    assert set(seen) == {"SIGINT", "SIGTERM"}
    assert seen == inert


def test_no_dm20_marker_is_registered(runs: dict[str, tuple[Ran, dict[str, str]]]) -> None:
    (ran, _), (inert, _) = runs["markers"], runs["markers-inert"]
    assert ran.stdout == inert.stdout
    for marker in ("@pytest.mark.client:", "@pytest.mark.GET:", "@pytest.mark.MUST:"):
        assert marker not in ran.stdout


def test_nothing_is_written(runs: dict[str, tuple[Ran, dict[str, str]]]) -> None:
    """No report folder, results or work files appear (the `runs` fixture compared the project
    and each run's temporary folder before and after); nor is a dm20 report announced."""
    for ran, _ in runs.values():
        assert "conformance verdicts" not in ran.stdout
        assert "dm20-conformance:" not in ran.stdout and "dm20:" not in ran.stderr
