"""The `dm20-conformance` command line:

    dm20-conformance run [--dut FILE] [--role client|server|both] [--cases DIR] …
    dm20-conformance list [--dut FILE] [--cases DIR]
    dm20-conformance validate [PATH …] [--dut FILE …]
    dm20-conformance report RUN_DIR [RUN_DIR …] [--out DIR]
    dm20-conformance load [--dut FILE] --devices N --duration S [--rate R] [--enqueue N]
    dm20-conformance coverage [--cases DIR …] [--out DIR]

`run` wraps pytest with the dm20 plugin and writes reports/<timestamp>/ (allure-results,
junit.xml, results/*.jsonl); `list` says which cases apply to a DUT and why the others do not;
`validate` checks case files and DUT files against their schemas before anything runs; `report`
merges runs into one conformance report and makes the Allure HTML report (Node's npx);
`coverage` prints the requirement x cases x role matrix and writes coverage.json and coverage.md."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conformance.catalog import load_catalog
from conformance.dut import load_dut, unknown_features
from conformance.inputs import InputError, Problem
from conformance.load.command import add_parser as add_load_parser
from conformance.plugin.cases import case_files, load_all, packaged_cases_dir
from conformance.plugin.session import applicability
from conformance.profiles import load_profile
from conformance.report import coverage as coverage_matrix
from conformance.report.conformance_report import build, merge_runs, write
from conformance.report.gate import evaluate, load_baseline
from conformance.report.results import RESULTS_DIR, count_verdicts, read_results, summary_line
from conformance.samples import dut_file


def _roots(extra: list[str]) -> list[Path]:
    return [packaged_cases_dir(), *(Path(d) for d in extra)]


def new_report_dir(root: Path) -> Path:
    """reports/<UTC timestamp>/, unique even for runs started in the same second."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for suffix in ["", *(f"-{n}" for n in range(1, 1000))]:
        path = root / f"{stamp}{suffix}"
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot make a new report folder under {root}")


def pytest_args(args: argparse.Namespace, out: Path) -> list[str]:
    """The pytest command line of a run: the plugin's options, the report files, no user config."""
    argv = [
        "-c",
        os.devnull,
        "--rootdir",
        str(packaged_cases_dir()),
        "-p",
        "no:cacheprovider",
        "--dm-reports",
        str(out),
        "--alluredir",
        str(out / "allure-results"),
        "--junitxml",
        str(out / "junit.xml"),
        "-o",
        "junit_family=xunit2",
        "-q",
    ]
    if args.dut:
        argv += ["--dut", str(Path(args.dut).resolve())]
    if args.profile:
        argv += ["--dm-profile", args.profile]
    if args.timeout:
        argv += ["--dm-timeout", str(args.timeout)]
    if args.baseline:
        argv += ["--dm-baseline", str(Path(args.baseline).resolve())]
    if args.strict:
        argv += ["--dm-strict"]
    for folder in args.cases:
        argv += ["--cases", str(Path(folder).resolve())]
    markers = [m for m in (args.markers, None if args.role == "both" else args.role) if m]
    if markers:
        argv += ["-m", " and ".join(f"({m})" for m in markers)]
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.workers:
        argv += ["-n", str(args.workers)]
    return argv + [str(p.resolve()) for p in _roots(args.cases)] + args.pytest_args


def cmd_run(args: argparse.Namespace) -> int:
    if args.dut:
        load_dut(args.dut)  # a bad DUT file stops here, with its file:line problems
    if args.baseline:
        load_baseline(Path(args.baseline))
    out = new_report_dir(Path(args.reports).resolve())
    print(f"dm20-conformance: writing reports to {out}")
    code = pytest.main(pytest_args(args, out))
    records = read_results(out)
    counts = count_verdicts(records)
    print(f"dm20-conformance: {summary_line(counts)} ({len(records)} cases) -> {out}")
    return int(code)  # the gate's decision (see report/gate.py)


ALLURE_NPM = "allure@3"  # Allure 3's command line, from the npm registry (runs on Node, no Java)


def allure_html(results: list[Path], out: Path) -> str:
    """Turn allure-results folders into the Allure HTML report at `out`; what happened, in words."""
    npx = shutil.which("npx")
    if npx is None:
        return (
            f"no Node.js here, so no Allure HTML: install Node.js (it brings npx), then run "
            f"`npx --yes {ALLURE_NPM} generate {' '.join(map(str, results))} -o {out}`"
        )
    argv = [npx, "--yes", ALLURE_NPM, "generate", *map(str, results), "-o", str(out)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return "the Allure command line did not finish within 600 s"
    if done.returncode != 0:
        return f"the Allure command line failed ({done.returncode}): {done.stderr.strip()[-800:]}"
    return f"Allure HTML report: {out / 'index.html'}"


def cmd_report(args: argparse.Namespace) -> int:
    runs = [Path(r) for r in args.runs]
    missing = [r for r in runs if not (r / RESULTS_DIR).is_dir()]
    if missing:
        print(
            f"not a run folder (no {RESULTS_DIR}/): {', '.join(map(str, missing))}", file=sys.stderr
        )
        return 2
    out = Path(args.out) if args.out else runs[0]
    records, implementations, started = merge_runs(runs)
    catalog = load_catalog()
    profile = load_profile(args.profile)
    data = build(
        records, implementations, profile, catalog, case_files(_roots(args.cases)), started
    )
    baseline = load_baseline(Path(args.baseline)) if args.baseline else None
    data["gate"] = evaluate(records, catalog, baseline, args.strict).as_dict()
    as_json, as_html = write(out, data)
    print(f"conformance report: {as_html} and {as_json}")
    print(f"{len(records)} cases from {len(runs)} run(s): {summary_line(count_verdicts(records))}")
    if not args.no_allure:
        results = [r / "allure-results" for r in runs if (r / "allure-results").is_dir()]
        print(allure_html(results, out / "allure-report"))
    return 0 if data["gate"]["outcome"] == "PASSED" else 1


def cmd_list(args: argparse.Namespace) -> int:
    dut = load_dut(args.dut) if args.dut else None
    cases, problems = load_all(_roots(args.cases))
    for problem in problems:
        print(problem, file=sys.stderr)
    runs = 0
    for case in sorted(cases, key=lambda c: (c.role, c.id)):
        target = dut if dut is not None and dut.role == case.role else None
        if dut is not None and target is None:
            print(f"{case.id:<24} skip   the DUT is a {dut.role}; this case is for a {case.role}")
            continue
        target = target or load_dut(dut_file(case.role))
        reason = applicability(case, target)
        for suffix, _ in case.variants():
            name = f"{case.id}[{suffix}]" if suffix else case.id
            print(f"{name:<24} {'skip' if reason else 'run':<6} {reason or case.title}")
            runs += 0 if reason else 1
    print(f"{runs} case runs apply", file=sys.stderr)
    return 1 if problems else 0


def cmd_validate(args: argparse.Namespace) -> int:
    problems: list[Problem] = []
    targets = [Path(p) for p in args.paths] or [packaged_cases_dir()]
    files = case_files(targets)
    _, found = load_all(files)
    problems += found
    for path in args.dut:
        try:
            dut = load_dut(path)
            problems += unknown_features(dut, load_profile(dut.profile).features)
        except InputError as exc:
            problems += exc.problems
        except ValueError as exc:
            problems.append(Problem(str(path), None, "profile", str(exc)))
    for problem in problems:
        print(problem)
    print(
        f"{len(files)} case files, {len(args.dut)} DUT files: "
        f"{len(problems)} problem{'s' if len(problems) != 1 else ''}",
        file=sys.stderr,
    )
    return 1 if problems else 0


def cmd_coverage(args: argparse.Namespace) -> int:
    cases, problems = load_all(_roots(args.cases))
    for problem in problems:
        print(problem, file=sys.stderr)
    data = coverage_matrix.coverage(load_catalog(), coverage_matrix.collected(cases))
    as_json, as_md = coverage_matrix.write(Path(args.out), data)
    print(coverage_matrix.markdown(data), end="")
    print(f"coverage matrix: {as_md} and {as_json}", file=sys.stderr)
    return 1 if problems or data["summary"]["gaps"] else 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dm20-conformance", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the suite against an implementation")
    run.add_argument("--dut", help="DUT file (default: the bundled samples, both roles)")
    run.add_argument("--role", choices=["client", "server", "both"], default="both")
    run.add_argument(
        "--cases",
        action="append",
        default=[],
        metavar="DIR",
        help="vendor case folder (repeatable)",
    )
    run.add_argument(
        "--reports", default="reports", metavar="DIR", help="where runs write (default: ./reports)"
    )
    run.add_argument("--profile", help="wire profile name or file")
    run.add_argument("--timeout", type=float, help="seconds for every wait")
    run.add_argument("--baseline", metavar="FILE", help="known deviations (YAML) the gate accepts")
    run.add_argument("--strict", action="store_true", help="SHOULD/MAY failures fail the run too")
    run.add_argument("-k", dest="keyword", help="pytest -k expression (e.g. GET)")
    run.add_argument("-m", dest="markers", help='pytest -m expression (e.g. "client and MUST")')
    run.add_argument("-n", dest="workers", help="parallel workers (pytest-xdist), e.g. auto")
    run.add_argument("pytest_args", nargs="*", help="more pytest arguments, after --")
    run.set_defaults(func=cmd_run)
    listing = commands.add_parser(
        "list", help="the cases that apply to a DUT, and why the others do not"
    )
    listing.add_argument("--dut", help="DUT file (default: the bundled samples)")
    listing.add_argument("--cases", action="append", default=[], metavar="DIR")
    listing.set_defaults(func=cmd_list)
    report = commands.add_parser(
        "report",
        help="rebuild the conformance report of one or more runs (merged) and the Allure HTML",
    )
    report.add_argument("runs", nargs="+", metavar="RUN_DIR", help="reports/<timestamp> folders")
    report.add_argument(
        "--out", metavar="DIR", help="where to write (default: the first run folder)"
    )
    report.add_argument("--profile", default="dm20-draft")
    report.add_argument("--cases", action="append", default=[], metavar="DIR")
    report.add_argument("--baseline", metavar="FILE")
    report.add_argument("--strict", action="store_true")
    report.add_argument("--no-allure", action="store_true", help="skip the Allure HTML report")
    report.set_defaults(func=cmd_report)
    validate = commands.add_parser(
        "validate", help="check case files and DUT files against their schemas"
    )
    validate.add_argument(
        "paths", nargs="*", help="case files or folders (default: the shipped cases)"
    )
    validate.add_argument(
        "--dut",
        action="append",
        default=[],
        metavar="FILE",
        help="a DUT file to check (repeatable)",
    )
    validate.set_defaults(func=cmd_validate)
    cover = commands.add_parser(
        "coverage",
        help="the requirement x cases x role matrix (writes coverage.json and coverage.md)",
    )
    cover.add_argument(
        "--cases", action="append", default=[], metavar="DIR", help="vendor case folder"
    )
    cover.add_argument(
        "--out", default=".", metavar="DIR", help="where to write (default: the current folder)"
    )
    cover.set_defaults(func=cmd_coverage)
    add_load_parser(commands)  # many simulated devices against a server (conformance/load/)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
