"""`dm20-conformance validate` and collection of bad case files: every problem at its line."""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import main
from conformance.dut import bundled_dut
from conformance.engine.loader import packaged_cases_dir
from tests.harness.helpers import (
    CLI,
    line_of,
    problem_lines,
    pytest_argv,
    records_in,
    run,
    sample_dut,
    write_yaml,
)

GOOD_CASE: dict[str, Any] = {
    "id": "DM20-C-VALID-001",
    "title": "a case that is fine",
    "role": "client",
    "requirements": ["DM20-6.2-004"],
    "assumptions": ["A13"],
    "requires": ["GET"],
    "steps": [{"open": "session"}, {"close": "session"}],
}

SCHEMA_BROKEN = """\
- id: DM20-C-VALID-002
  title: a case with an unknown key and a wrong type
  role: client
  requirements: [DM20-6.2-004]
  colour: blue
  requires: GET
  steps:
    - open: session
    - close: session
"""

SYNTAX_BROKEN = """\
- id: DM20-C-VALID-003
  title: a case that is not YAML
  role: client: oops
  requirements: [DM20-6.2-004]
"""


def validate(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """`dm20-conformance validate ARGS` in-process: (exit status, stdout, stderr)."""
    code = main(["validate", *(str(a) for a in args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def no_cases(folder: Path) -> Path:
    """An empty case folder, so that validate checks only the DUT files given."""
    empty = folder / "no-cases"
    empty.mkdir(exist_ok=True)
    return empty


def case_file(folder: Path, name: str, data: Any) -> tuple[Path, str]:
    """Write a case file; (its resolved path, its text)."""
    path = write_yaml(folder / name, data).resolve()
    return path, path.read_text(encoding="utf-8")


# -- schema and YAML problems -------------------------------------------------------------------
def test_unknown_key_and_wrong_type_each_at_their_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(SCHEMA_BROKEN, encoding="utf-8")
    code, out, _ = validate(capsys, path)
    problems = problem_lines(out, path.resolve())
    assert code == 2
    assert (5, "[0].colour", "unknown key 'colour'") in problems, out
    assert any(
        line == 6 and where == "[0].requires" and "array" in what for line, where, what in problems
    ), out
    assert len(problems) == 2, out


def test_yaml_syntax_error_at_its_line(tmp_path: Path, capsys) -> None:
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA_BROKEN, encoding="utf-8")
    broken = tmp_path / "syntax.yaml"
    broken.write_text(SYNTAX_BROKEN, encoding="utf-8")
    code, out, err = validate(capsys, tmp_path)
    assert code == 2
    [(line, where, what)] = problem_lines(out, broken.resolve())
    assert (line, where) == (3, "(YAML)")
    assert "not valid YAML" in what and "mapping values are not allowed" in what
    assert len(problem_lines(out, schema.resolve())) == 2, "the other file is still checked"
    assert "2 case files" in err


def evil_case(marker: Path) -> str:
    return (
        f"- id: DM20-C-VALID-004\n"
        f'  title: !!python/object/apply:os.system ["touch {marker}"]\n'
        f"  role: client\n  requirements: [DM20-6.2-004]\n  steps: [{{open: session}}]\n"
    )


def test_the_python_tag_payload_would_run_if_loaded_unsafely(tmp_path: Path) -> None:
    """The control for the next test: the same text, loaded unsafely, does touch the file."""
    marker = tmp_path / "control"
    yaml.unsafe_load(evil_case(marker))
    assert marker.exists()


def test_python_tag_is_refused_and_runs_nothing(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(evil_case(marker), encoding="utf-8")
    code, out, _ = validate(capsys, path)
    [(line, where, what)] = problem_lines(out, path.resolve())
    assert code == 2
    assert (line, where) == (2, "(YAML)")
    assert "python/object/apply:os.system" in what
    assert not marker.exists()


def test_python_tag_in_a_dut_file_is_refused(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil-dut.yaml"
    data = {k: v for k, v in sample_dut("client").items() if k != "name"}
    evil = f'name: !!python/object/apply:os.system ["touch {marker}"]\n'
    path.write_text(evil + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, out, _ = validate(capsys, no_cases(tmp_path), "--dut", path)
    assert code == 2
    [(line, where, _what)] = problem_lines(out, path.resolve())
    assert (line, where) == (1, "(YAML)")
    assert not marker.exists()


# -- what the schema cannot say -----------------------------------------------------------------
def _requirement(case: dict[str, Any]) -> str:
    case["requirements"] = ["DM20-6.2-004", "DM20-6.2-999"]
    return "- DM20-6.2-999"


def _assumption(case: dict[str, Any]) -> str:
    case["assumptions"] = ["A13", "A99"]
    return "- A99"


def _feature(case: dict[str, Any]) -> str:
    case["requires"] = ["GET", "TELEPORT"]
    return "- TELEPORT"


def _step_kind(case: dict[str, Any]) -> str:
    case["steps"].insert(1, {"run": "session"})
    return "- run: session"


def _placeholder(case: dict[str, Any]) -> str:
    case["steps"][0]["url"] = "{nowhere_url}/x"
    return "url: '{nowhere_url}/x'"


def _placeholder_before_save(case: dict[str, Any]) -> str:
    case["steps"][0]["url"] = "{where}"
    case["steps"] += [{"open": "session", "save": {"where": "url"}}, {"close": "session"}]
    return "url: '{where}'"


def _matcher(case: dict[str, Any]) -> str:
    case["steps"][0]["body"] = {"$frobnicate": 1}
    return "- open: session"


def _other_side(case: dict[str, Any]) -> str:
    case["requirements"] = ["DM20-6.2-004", "DM20-6.2-002"]  # a MUST of the server
    return "- DM20-6.2-002"


def _untestable(case: dict[str, Any]) -> str:
    case["requirements"] = ["DM20-6.2-004", "DM20-6-005"]
    return "- DM20-6-005"


def _permission_only(case: dict[str, Any]) -> str:
    case["steps"][0]["verifies"] = ["DM20-6-002"]  # the first message MAY carry DevInfo …
    return "verifies:"


# name: (change the good case and return the text of the problem's line, words of the problem)
SEMANTIC = {
    "requirement-not-in-catalog": (
        _requirement,
        ["DM20-6.2-999", "neither in the requirement catalog nor an assumption"],
    ),
    "unknown-assumption": (_assumption, ["A99", "not an assumption or rule of profile dm20-draft"]),
    "unknown-feature": (_feature, ["'TELEPORT'", "not a feature of profile"]),
    "step-kind-of-the-other-role": (_step_kind, ["client-role case cannot use `run session`"]),
    "undefined-placeholder": (_placeholder, ["{nowhere_url}", "not defined before this step"]),
    "placeholder-used-before-save": (_placeholder_before_save, ["{where}", "not defined"]),
    "unknown-matcher": (_matcher, ["$frobnicate", "unknown matcher"]),
    "requirement-of-the-other-side": (
        _other_side,
        ["DM20-6.2-002 binds the server", "a client-role case tests the client"],
    ),
    "untestable-requirement": (_untestable, ["DM20-6-005 is untestable"]),
    "only-a-permission": (_permission_only, ["DM20-6-002 only allow (MAY)"]),
}


@pytest.mark.parametrize("kind", SEMANTIC)
def test_semantic_problem_reported_at_its_line(kind: str, tmp_path: Path, capsys) -> None:
    change, words = SEMANTIC[kind]
    case = copy.deepcopy(GOOD_CASE)
    needle = change(case)
    path, text = case_file(tmp_path, f"{kind}.yaml", [case])
    code, out, _ = validate(capsys, path)
    assert code == 2
    [(line, _where, what)] = problem_lines(out, path)
    assert line == line_of(text, needle), (out, text)
    for word in words:
        assert word in what, out


def test_good_case_validates_clean(tmp_path: Path, capsys) -> None:
    path, _ = case_file(tmp_path, "good.yaml", [GOOD_CASE])
    code, out, err = validate(capsys, path)
    assert (code, out) == (0, "")
    assert "0 problems" in err


def test_shipped_cases_and_sample_duts_validate_clean(capsys) -> None:
    code, out, err = validate(
        capsys, "--dut", bundled_dut("client"), "--dut", bundled_dut("server")
    )
    assert (code, out) == (0, ""), out
    assert "2 DUT files: 0 problems" in err


# -- DUT files ----------------------------------------------------------------------------------
def test_dut_file_problems(tmp_path: Path, capsys) -> None:
    unknown_key = sample_dut("client") | {"colour": "red"}
    no_section = {k: v for k, v in sample_dut("client").items() if k != "client"}
    bad_feature = sample_dut("client")
    bad_feature["features"] = [*bad_feature["features"], "TELEPORT"]
    paths = {
        name: write_yaml(tmp_path / f"{name}.yaml", data).resolve()
        for name, data in (
            ("unknown-key", unknown_key),
            ("no-client", no_section),
            ("bad-feature", bad_feature),
        )
    }
    args: list[str | Path] = []
    for path in paths.values():
        args += ["--dut", path]
    code, out, err = validate(capsys, no_cases(tmp_path), *args)
    assert code == 2
    text = paths["unknown-key"].read_text(encoding="utf-8")
    assert problem_lines(out, paths["unknown-key"]) == [
        (line_of(text, "colour:"), "colour", "unknown key 'colour'")
    ]
    [(_, _, what)] = problem_lines(out, paths["no-client"])
    assert "'client' is a required property" in what
    assert re.search(
        rf"{re.escape(str(paths['bad-feature']))}:\d+: features\[\d+\]: unknown feature 'TELEPORT'",
        out,
    )
    assert "3 DUT files: 3 problems" in err


def test_unknown_dut_feature_has_its_line(tmp_path: Path, capsys) -> None:
    data = sample_dut("client")
    data["features"] = [*data["features"], "TELEPORT"]
    path = write_yaml(tmp_path / "dut.yaml", data).resolve()
    _, out, _ = validate(capsys, no_cases(tmp_path), "--dut", path)
    text = path.read_text(encoding="utf-8")
    assert [line for line, _, _ in problem_lines(out, path)] == [line_of(text, "- TELEPORT")]


# -- gaps: names the profile could check, but validate lets through ----------------------------
@pytest.mark.parametrize("name", ["status.no_such_status", "profile.headers.no_such_header"])
def test_placeholder_the_profile_does_not_define(name: str, tmp_path: Path, capsys) -> None:
    case = copy.deepcopy(GOOD_CASE)
    case["steps"][0]["headers"] = {"X-Anything": f"{{{name}}}"}
    path, text = case_file(tmp_path, "case.yaml", [case])
    code, out, _ = validate(capsys, path)
    assert code == 2
    assert [line for line, _, _ in problem_lines(out, path)] == [line_of(text, "X-Anything")]


def test_unknown_type_matcher_argument(tmp_path: Path, capsys) -> None:
    case = copy.deepcopy(GOOD_CASE)
    case["steps"][0]["body"] = {"Status": {"$type": "str"}}
    path, _ = case_file(tmp_path, "case.yaml", [case])
    code, out, _ = validate(capsys, path)
    assert code == 2
    assert problem_lines(out, path), out


# -- the installed command, and pytest collection ----------------------------------------------
def test_validate_command_in_a_subprocess(tmp_path: Path) -> None:
    (tmp_path / "schema.yaml").write_text(SCHEMA_BROKEN, encoding="utf-8")
    ran = run([CLI, "validate", "schema.yaml"], cwd=tmp_path)
    assert ran.returncode == 2, ran.tail()
    problems = problem_lines(ran.stdout, (tmp_path / "schema.yaml").resolve())
    assert [line for line, _, _ in problems] == [5, 6], ran.tail()
    clean = run([CLI, "validate"], cwd=tmp_path)
    assert clean.returncode == 0, clean.tail()
    assert clean.stdout == ""


def test_collection_reports_the_same_problems_and_runs_nothing(tmp_path: Path, capsys) -> None:
    cases = tmp_path / "cases"
    good, _ = case_file(cases, "good.yaml", [GOOD_CASE])
    bad = cases / "schema.yaml"
    bad.write_text(SCHEMA_BROKEN, encoding="utf-8")
    _, expected, _ = validate(capsys, bad)
    reports = tmp_path / "rep"
    argv = pytest_argv("--dm-reports", reports, "--cases", cases, cases, rootdir=tmp_path)
    ran = run(argv, cwd=tmp_path)
    assert ran.returncode == 2, ran.tail()  # interrupted: errors during collection
    for line in expected.splitlines():
        assert line in ran.stdout, ran.tail()
    assert "Interrupted: 1 error during collection" in ran.stdout
    assert " passed" not in ran.stdout and " failed" not in ran.stdout
    assert records_in(reports) == []
    assert not (reports / "work" / "main" / "DM20-C-VALID-001").exists()
    assert good.exists()


def test_run_with_a_bad_dut_file_stops_before_anything_runs(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad-dut.yaml"
    bad.write_text(
        "name: x\nversion: 1\nrole: client\nprofile: dm20-draft\nfeatures: [GET]\ncolour: red\n",
        encoding="utf-8",
    )
    assert main(["run", "--dut", str(bad), "--reports", str(tmp_path / "reports")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:6: colour: unknown key 'colour'" in err
    assert not (tmp_path / "reports").exists()
    ran = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--dut",
            str(bad),
            str(packaged_cases_dir()),
        ],
        cwd=tmp_path,
    )
    assert ran.returncode == 4, ran.tail()  # pytest's usage error: no case ran
    assert f"{bad}:6: colour: unknown key 'colour'" in ran.stdout + ran.stderr
    assert "INTERNALERROR" not in ran.stdout + ran.stderr


# -- the closed list of ixit facts, and case IDs used twice --------------------------------------
def test_an_unknown_ixit_key_in_a_dut_file_is_refused_at_its_line(tmp_path: Path, capsys) -> None:
    data = sample_dut("client")
    data["ixit"]["exec_url"] = data["ixit"]["exec_uri"]  # a typo of exec_uri
    path = write_yaml(tmp_path / "dut.yaml", data).resolve()
    code, out, _ = validate(capsys, no_cases(tmp_path), "--dut", path)
    text = path.read_text(encoding="utf-8")
    assert code == 2
    assert problem_lines(out, path) == [
        (line_of(text, "exec_url:"), "ixit.exec_url", "unknown key 'exec_url'")
    ]


def test_an_unknown_ixit_placeholder_in_a_case_is_refused_at_its_line(
    tmp_path: Path, capsys
) -> None:
    case = copy.deepcopy(GOOD_CASE)
    case["requires"] = ["EXEC"]
    case["steps"].insert(1, {"send": "commands", "commands": [["EXEC", "{ixit.exec_url}"]]})
    path, text = case_file(tmp_path, "case.yaml", [case])
    code, out, _ = validate(capsys, path)
    assert code == 2
    [(line, _, what)] = problem_lines(out, path)
    assert line == line_of(text, "{ixit.exec_url}")
    assert "{ixit.exec_url}: no such ixit fact" in what and "exec_uri" in what


def vendor_copy(folder: Path, overrides: bool) -> tuple[Path, str]:
    """A vendor folder with its own DM20-C-GET-001 (an official ID); (its file, its text)."""
    case = copy.deepcopy(GOOD_CASE)
    case["id"] = "DM20-C-GET-001"
    case["title"] = "the vendor's own GET-001"
    if overrides:
        case["overrides"] = True
    return case_file(folder / "vendor", "mine.yaml", [case])


def test_an_official_case_id_in_a_vendor_folder_is_a_problem(tmp_path: Path, capsys) -> None:
    path, text = vendor_copy(tmp_path, overrides=False)
    code, out, _ = validate(capsys, "--cases", path.parent)
    assert code == 2
    [(line, where, what)] = problem_lines(out, path)
    assert (line, where) == (line_of(text, "DM20-C-GET-001"), "id")
    assert "also the id of a case at" in what and "get.yaml" in what
    assert "overrides: true" in what


def test_a_vendor_case_that_overrides_an_official_one_validates(tmp_path: Path, capsys) -> None:
    path, _ = vendor_copy(tmp_path, overrides=True)
    code, out, err = validate(capsys, "--cases", path.parent)
    assert (code, out) == (0, ""), out
    assert "0 problems" in err


def test_the_same_id_twice_among_official_cases_is_a_problem(tmp_path: Path, capsys) -> None:
    """`overrides` is for vendor cases: two case files given as paths are both official."""
    path, _ = vendor_copy(tmp_path, overrides=True)
    code, out, _ = validate(capsys, packaged_cases_dir(), path)
    assert code == 2
    assert len(problem_lines(out, path)) == 1, out


def test_run_stops_on_a_duplicate_id_unless_the_vendor_case_overrides(tmp_path: Path) -> None:
    path, _ = vendor_copy(tmp_path, overrides=False)
    argv = [CLI, "run", "--role", "client", "--cases", "vendor", "-k", "GET-001", "--timeout", "5"]
    stopped = run(argv, cwd=tmp_path)
    assert stopped.returncode == 2, stopped.tail()
    assert f"{path}:" in stopped.stderr and "also the id of a case at" in stopped.stderr
    assert not (tmp_path / "reports").exists(), "the run started though its cases are wrong"

    vendor_copy(tmp_path, overrides=True)
    replaced = run(argv, cwd=tmp_path)
    assert replaced.returncode == 0, replaced.tail()
    [run_dir] = (tmp_path / "reports").iterdir()
    records = [r for r in records_in(run_dir) if r.case == "DM20-C-GET-001"]
    assert [(r.title, r.origin.value) for r in records] == [("the vendor's own GET-001", "vendor")]
