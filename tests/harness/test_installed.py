"""The package installed as a wheel (not editable) works from any folder with its own data."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.helpers import (
    PASSING,
    PYTHON,
    REPO,
    CliRun,
    Ran,
    job,
    name_of,
    report_json,
    run,
    write_yaml,
)

PROBE = "DM20-C-INSTALLED-001"  # a case that exists only in the installed copy


@dataclass
class Installed:
    src: Path  # the snapshot of the repo that was installed
    site: Path
    install: Ran
    where: Ran  # which conformance the interpreter imports
    suite: CliRun


def snapshot(folder: Path) -> Path:
    """What the build needs, copied, so that the build's own files are not written into the repo."""
    src = folder / "src"
    skip = shutil.ignore_patterns("__pycache__", "reports", "*.egg-info", "build")
    for name in ("pyproject.toml", "README.md"):
        src.mkdir(exist_ok=True)
        shutil.copy2(REPO / name, src / name)
    for name in ("conformance", "testcases"):
        shutil.copytree(REPO / name, src / name, ignore=skip)
    return src


def probe_case() -> list[dict[str, object]]:
    """A GET case (so `-k GET` selects it) that only the installed case folder holds."""
    return [
        {
            "id": PROBE,
            "title": "The installed case folder is the one collected",
            "role": "client",
            "requirements": ["DM20-6.2-004"],
            "requires": ["GET"],
            "content": {"doc": {"any": {"Name": "installed"}}},
            "steps": [
                {"open": "session"},
                {
                    "send": "commands",
                    "commands": [["GET", "{content_url}/doc", "{ixit.writable_moid}/7"]],
                },
                {"expect": "fetch", "path": "doc"},
                {"expect": "request", "statuses": [{"code": "ok"}]},
                {"close": "session"},
            ],
        }
    ]


@job("installed", weight=50)
def install_and_run(folder: Path) -> Installed:
    src = snapshot(folder)
    site = folder / "site"
    pip = [PYTHON, "-m", "pip", "install", "--no-deps", "--quiet", "--target", site, "."]
    install = run(pip, cwd=src)
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = run(
        [PYTHON, "-c", "import conformance, sys; print(conformance.__file__)"], elsewhere, env
    )
    cases = site / "conformance" / "testcases"
    if cases.is_dir():
        write_yaml(cases / "client" / "installed-probe.yaml", probe_case())
    argv = [PYTHON, "-m", "conformance.cli", "run", "--role", "client", "-k", "GET"]
    suite = CliRun(run(argv, elsewhere, env), elsewhere, [])
    return Installed(src, site, install, where, suite)


installed = pytest.mark.uses_job("installed")


@pytest.fixture(scope="module")
def done(jobs) -> Installed:
    result: Installed = jobs.result("installed")
    assert result.install.returncode == 0, result.install.tail()
    return result


def shipped(src: Path) -> dict[str, Path]:
    """Source file -> where the wheel must put it (relative to site-packages): every file of the
    package (modules and data: profiles, catalog and its seeds, schemas, samples, the report's
    CSS), and the case folder as conformance.testcases."""
    package = src / "conformance"
    wanted = {p: p.relative_to(src) for p in package.rglob("*") if p.is_file()}
    testcases = src / "testcases"
    for path in [*testcases.rglob("*.yaml"), testcases / "README.md", *testcases.rglob("*.py")]:
        wanted[path] = Path("conformance/testcases") / path.relative_to(testcases)
    return wanted


@installed
def test_the_interpreter_imports_the_installed_copy(done: Installed) -> None:
    assert done.where.returncode == 0, done.where.tail()
    imported = Path(done.where.stdout.strip())
    assert imported == done.site / "conformance" / "__init__.py"
    assert REPO not in imported.parents


@installed
def test_the_wheel_ships_the_data_and_every_module(done: Installed) -> None:
    [dist_info] = done.site.glob("dm20_conformance-*.dist-info")
    record = {line.split(",")[0] for line in (dist_info / "RECORD").read_text().splitlines()}
    wanted = shipped(done.src)
    assert len([p for p in wanted.values() if p.suffix == ".yaml"]) > 10
    missing = sorted(str(target) for target in wanted.values() if target.as_posix() not in record)
    assert not missing, f"not in the wheel: {missing}"
    for target in wanted.values():
        assert (done.site / target).is_file(), target
    assert (done.site / "conformance/testcases/README.md").is_file()
    assert (done.site / "conformance/testcases/client/get.yaml").is_file()


@installed
def test_a_run_from_another_folder_uses_the_installed_cases(done: Installed) -> None:
    suite = done.suite
    assert suite.ran.returncode == 0, suite.ran.tail()
    verdicts = suite.verdicts()
    assert verdicts.get(PROBE) == "PASS", "the installed case folder was not the one collected"
    assert verdicts.get("DM20-C-GET-001") == "PASS"
    assert not {n: v for n, v in verdicts.items() if v not in PASSING}
    assert all(r.role == "client" for r in suite.records)
    files = [Path(i["file"]) for i in report_json(suite.reports)["implementations"]]
    assert files and all(done.site in f.parents for f in files), files
    assert suite.reports.is_relative_to(suite.cwd / "reports")
    assert all(name_of(r).startswith("DM20-C-") for r in suite.records)
