"""The `dm20-conformance` command line:

    dm20-conformance run [--dut FILE] [--role client|server|both] [--cases DIR] …
    dm20-conformance list [--dut FILE] [--cases DIR]
    dm20-conformance validate [PATH …] [--dut FILE …]

`run` wraps pytest with the dm20 plugin and writes reports/<timestamp>/ (allure-results,
junit.xml, results/*.jsonl); `list` says which cases apply to a DUT and why the others do not;
`validate` checks case files and DUT files against their schemas before anything runs."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conformance.dut import load_dut, unknown_features
from conformance.inputs import InputError, Problem
from conformance.plugin.cases import case_files, load_all, packaged_cases_dir
from conformance.plugin.session import applicability
from conformance.profiles import load_profile
from conformance.report.results import count_verdicts, read_results, summary_line
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
    out = new_report_dir(Path(args.reports))
    print(f"dm20-conformance: writing reports to {out}")
    code = pytest.main(pytest_args(args, out))
    records = read_results(out)
    counts = count_verdicts(records)
    print(f"dm20-conformance: {summary_line(counts)} ({len(records)} cases) -> {out}")
    return int(code)  # the gate's decision (see report/gate.py)


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
