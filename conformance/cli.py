"""The `dm20-conformance` command line:

    dm20-conformance run [--dut FILE] [--role client|server|both] [--cases DIR] …
    dm20-conformance list [--dut FILE] [--cases DIR]
    dm20-conformance validate [PATH …] [--cases DIR …] [--dut FILE …]
    dm20-conformance report RUN_DIR [RUN_DIR …] [--out DIR]
    dm20-conformance load [--dut FILE] --devices N --duration S [--rate R] [--enqueue N]
    dm20-conformance coverage [--cases DIR …] [--out DIR]
    dm20-conformance explore --dut FILE [--examples N | --time S] [--seed S]
    dm20-conformance draft [RUN_DIR …] [--out DIR]      (also: defects, whatif; conformance/editor/)
    dm20-conformance package RUN_DIR [--out FILE] [--sign KEY]
    dm20-conformance verify PACKAGE [--allowed-signers FILE [--identity ID]]
    dm20-conformance --version

`run` wraps pytest with the dm20 plugin and writes reports/<timestamp>/ (allure-results,
junit.xml, results/*.jsonl); `list` says which cases apply to a DUT and why the others do not;
`validate` checks case files and DUT files against their schemas before anything runs; `report`
merges runs into one conformance report and makes the Allure HTML report (Node's npx);
`coverage` prints the requirement x cases x role matrix and writes coverage.json and coverage.md;
`package` packs a run folder into one archive with a SHA-256 manifest (signed with an OpenSSH key
on request) and `verify` checks one. Exit status, every subcommand: 0 conforms (or nothing wrong
was found), 1 does not (something wrong was found), 2 usage or input error; see each --help."""

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
from conformance.dut import bundled_dut, load_dut, unknown_features
from conformance.editor.command import add_parser as add_editor_parsers
from conformance.engine.applicability import applicability
from conformance.engine.loader import case_files, ixit_facts, load_all, packaged_cases_dir
from conformance.explore.command import add_parser as add_explore_parser
from conformance.inputs import InputError, Problem
from conformance.load.command import add_parser as add_load_parser
from conformance.profiles import load_profile
from conformance.report import coverage as coverage_matrix
from conformance.report import package as packaging
from conformance.report import provenance
from conformance.report.conformance_report import build, merge_runs, runs_provenance, write
from conformance.report.gate import evaluate, gate_lines, load_baseline
from conformance.report.results import (
    RESULTS_DIR,
    count_verdicts,
    new_run_dir,
    read_results,
    summary_line,
)
from conformance.roles.network import network_for


def _vendor_cases(parser: argparse.ArgumentParser, help_text: str) -> None:
    """The repeatable --cases DIR option: a folder of vendor cases."""
    parser.add_argument("--cases", action="append", default=[], metavar="DIR", help=help_text)


def _roots(extra: list[str]) -> list[Path]:
    return [packaged_cases_dir(), *(Path(d) for d in extra)]


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
    if args.listen:
        argv += ["--dm-listen", args.listen]
    if args.advertise:
        argv += ["--dm-advertise", args.advertise]
    if args.tls:
        argv += ["--dm-tls"]
    if args.manual_operator:
        argv += ["--dm-operator"]
    for folder in args.cases:
        argv += ["--cases", str(Path(folder).resolve())]
    markers = [m for m in (args.markers, None if args.role == "both" else args.role) if m]
    if markers:
        argv += ["-m", " and ".join(f"({m})" for m in markers)]
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.workers:
        argv += ["-n", str(args.workers)]
    return argv + [str(p.resolve()) for p in _roots(args.cases)] + list(args.pytest_args)


def cmd_run(args: argparse.Namespace) -> int:
    dut = load_dut(args.dut) if args.dut else None  # a bad DUT file stops here, with its problems
    if args.baseline:
        load_baseline(Path(args.baseline))
    try:  # where the reference server listens: a refused choice stops here, before anything runs
        network = network_for(args.listen, args.advertise, args.tls)
    except ValueError as exc:
        raise InputError([Problem("dm20-conformance run", None, "network", str(exc))]) from None
    if network.fixed_port and args.workers:
        raise InputError(
            [
                Problem(
                    "dm20-conformance run",
                    None,
                    "network",
                    f"--dm-listen with a fixed port ({network.port}) serves one case at a time: "
                    "it cannot be shared by parallel workers (-n)",
                )
            ]
        )
    name = args.profile or (dut.profile if dut else "dm20-draft")
    try:
        profile = load_profile(name)
    except InputError:
        raise
    except ValueError as exc:  # no such profile
        raise InputError([Problem(name, None, "profile", str(exc))]) from None
    _, problems = load_all([packaged_cases_dir()], profile, [Path(d) for d in args.cases])
    if problems:  # a bad case file or a case ID used twice stops here, as a bad DUT file does
        raise InputError(problems)
    if args.run_by:  # who ran it, as the report's provenance names them
        os.environ[provenance.OPERATOR_ENV] = args.run_by
    out = new_run_dir(Path(args.reports).resolve())
    print(f"dm20-conformance: writing reports to {out}")
    code = pytest.main(pytest_args(args, out))
    records = read_results(out)
    counts = count_verdicts(records)
    print(f"dm20-conformance: {summary_line(counts)} ({len(records)} cases) -> {out}")
    # 0 and 1 are the gate's decision (see report/gate.py); pytest's other codes (interrupted,
    # internal error, usage error, nothing selected) are a run that decided nothing: 2.
    return int(code) if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) else 2


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
    baseline = load_baseline(Path(args.baseline)) if args.baseline else None
    gate = evaluate(records, catalog, baseline, args.strict).as_dict()
    origin = [provenance.CaseSource(packaged_cases_dir(), "official")] + [
        provenance.CaseSource(Path(d), "vendor") for d in args.cases
    ]
    made = provenance.collect(
        implementations=implementations,
        profile=profile,
        catalog=catalog,
        case_sources=origin,
        baseline=Path(args.baseline) if args.baseline else None,
        started=started or "",
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    made["merged_from"] = [str(r.resolve()) for r in runs]
    made["runs"] = runs_provenance(runs)  # what each run recorded of itself
    data = build(
        records,
        implementations,
        profile,
        catalog,
        case_files(_roots(args.cases)),
        started,
        gate,
        made,
    )
    as_json, as_html = write(out, data)
    print(f"conformance report: {as_html} and {as_json}")
    print(f"{len(records)} cases from {len(runs)} run(s): {summary_line(count_verdicts(records))}")
    for line in gate_lines(data["gate"]):
        print(line)
    if not args.no_allure:
        results = [r / "allure-results" for r in runs if (r / "allure-results").is_dir()]
        print(allure_html(results, out / "allure-report"))
    return 0 if data["gate"]["outcome"] == "PASSED" else 1


def cmd_list(args: argparse.Namespace) -> int:
    dut = load_dut(args.dut) if args.dut else None
    cases, problems = load_all([packaged_cases_dir()], vendor=[Path(d) for d in args.cases])
    if problems:  # a bad case file or a case ID used twice: as `run` would stop, with file:line
        raise InputError(problems)
    runs = 0
    for case in sorted(cases, key=lambda c: (c.role, c.id)):
        target = dut if dut is not None and dut.role == case.role else None
        if dut is not None and target is None:
            print(f"{case.id:<24} skip   the DUT is a {dut.role}; this case is for a {case.role}")
            continue
        target = target or load_dut(bundled_dut(case.role))
        reason = applicability(case, target)
        for suffix, _ in case.variants():
            name = f"{case.id}[{suffix}]" if suffix else case.id
            print(f"{name:<24} {'skip' if reason else 'run':<6} {reason or case.title}")
            runs += 0 if reason else 1
    print(f"{runs} case runs apply", file=sys.stderr)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    problems: list[Problem] = []
    targets = [Path(p) for p in args.paths] or [packaged_cases_dir()]
    files = case_files(targets)
    vendor = [Path(d) for d in args.cases]
    _, found = load_all(files, vendor=vendor)
    files += [p for p in case_files(vendor) if p not in files]
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
    return 2 if problems else 0


def cmd_coverage(args: argparse.Namespace) -> int:
    cases, problems = load_all(_roots(args.cases))
    for problem in problems:
        print(problem, file=sys.stderr)
    data = coverage_matrix.coverage(load_catalog(), coverage_matrix.collected(cases))
    as_json, as_md = coverage_matrix.write(Path(args.out), data)
    print(coverage_matrix.markdown(data), end="")
    print(f"coverage matrix: {as_md} and {as_json}", file=sys.stderr)
    return 1 if problems or data["summary"]["gaps"] else 0


def cmd_package(args: argparse.Namespace) -> int:
    run = Path(args.run)
    out = Path(args.out) if args.out else run.resolve().parent / f"{run.resolve().name}.zip"
    if packaging.archive_kind(out) is None:
        raise packaging.PackageError(f"{out}: the package is a .zip, .tar, .tar.gz or .tgz")
    made = packaging.make(run, out, Path(args.sign) if args.sign else None)
    print(f"package: {out} ({made['manifest_files']} files in {packaging.MANIFEST}", end="")
    print(f", signed: {packaging.SIGNATURE})" if made["signed"] else ", not signed)")
    for entry in made["inputs"]:
        if not entry["packed"]:
            print(f"  left out: the {entry['kind']} file {entry['source']}: {entry['note']}")
    print(f"  the run's gate: {made['gate'] or 'unknown'}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    if args.identity and not args.allowed_signers:
        raise packaging.PackageError("--identity needs --allowed-signers")
    signers = Path(args.allowed_signers) if args.allowed_signers else None
    found = packaging.verify(Path(args.package), signers, args.identity)
    print(f"package: {Path(args.package).resolve()}")
    for line in found.lines():
        print(line)
    return 0 if found.ok else 1


class _Version(argparse.Action):
    """--version: the harness's version and where its code comes from (computed when asked)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help=(
                "print the version, the source commit (from a git clone) and the Python, and exit"
            ),
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(provenance.version_line())
        parser.exit()


EXIT_RUN = (
    "Exit status: 0 the implementation conforms (the gate passed: no FAIL, ERROR or "
    "INCONCLUSIVE beyond the baseline's waivers and advisory SHOULD/MAY failures); 1 it does "
    "not; 2 a usage or input error (a bad DUT file, baseline, profile or case file, a case ID "
    "used twice) or a run that decided nothing (interrupted, no case selected)."
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="dm20-conformance",
        description="A conformance test harness for the OMA DM 2.0 draft protocol. Exit status, "
        "every subcommand: 0 conforms (or nothing wrong was found), 1 does not, 2 usage or "
        "input error; each subcommand's --help says what they mean for it.",
    )
    top.add_argument("--version", action=_Version)
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="run the suite against an implementation",
        description="Run the cases that apply to the DUT and write reports/<timestamp>/ "
        "(report.html, report.json, junit.xml, allure-results, results, work). " + EXIT_RUN,
    )
    run.add_argument("--dut", help="DUT file (default: the bundled samples, both roles)")
    run.add_argument(
        "--role",
        choices=["client", "server", "both"],
        default="both",
        help="run only the cases of this role (default: both, or the DUT file's)",
    )
    _vendor_cases(
        run,
        "a folder of vendor cases, run with the official ones and marked as vendor cases "
        "in every report; an official ID again is an error unless the case says "
        "`overrides: true` (repeatable)",
    )
    run.add_argument(
        "--reports", default="reports", metavar="DIR", help="where runs write (default: ./reports)"
    )
    run.add_argument("--profile", help="wire profile name or file")
    run.add_argument("--timeout", type=float, help="seconds for every wait")
    run.add_argument("--baseline", metavar="FILE", help="known deviations (YAML) the gate accepts")
    run.add_argument("--strict", action="store_true", help="SHOULD/MAY failures fail the run too")
    run.add_argument(
        "--dm-listen",
        dest="listen",
        metavar="HOST[:PORT]",
        help="where the reference server listens (default 127.0.0.1, a free port per case)",
    )
    run.add_argument(
        "--dm-advertise",
        dest="advertise",
        metavar="BASE_URL",
        help="base of the URLs handed to a device that reaches the harness by another name",
    )
    run.add_argument(
        "--dm-tls", dest="tls", action="store_true", help="the reference server speaks HTTPS"
    )
    run.add_argument(
        "--dm-operator",
        dest="manual_operator",
        action="store_true",
        help="someone carries out the DUT file's manual steps though standard input is not a "
        "terminal (the prompts go to standard output)",
    )
    run.add_argument("-k", dest="keyword", help="pytest -k expression (e.g. GET)")
    run.add_argument("-m", dest="markers", help='pytest -m expression (e.g. "client and MUST")')
    run.add_argument("-n", dest="workers", help="parallel workers (pytest-xdist), e.g. auto")
    run.add_argument(
        "--run-by",
        metavar="NAME",
        help="who runs it, as the report's provenance names them "
        f"(default: ${provenance.OPERATOR_ENV}, else the login name)",
    )
    run.add_argument("pytest_args", nargs="*", help="more pytest arguments, after --")
    run.set_defaults(func=cmd_run)
    listing = commands.add_parser(
        "list",
        help="the cases that apply to a DUT, and why the others do not",
        description="List every case with `run` or `skip` and why. Exit status: 0 listed; 2 a "
        "usage or input error (a bad DUT file or case file, a case ID used twice: each with "
        "its file:line, as `run` says them).",
    )
    listing.add_argument("--dut", help="DUT file (default: the bundled samples)")
    _vendor_cases(listing, "a folder of vendor cases, listed with the official ones (repeatable)")
    listing.set_defaults(func=cmd_list)
    report = commands.add_parser(
        "report",
        help="rebuild the conformance report of one or more runs (merged) and the Allure HTML",
        description="Merge the results of one or more run folders into one conformance report "
        "(report.json, report.html), decide the gate and print it as `run` does, and make "
        "the Allure HTML report when Node's npx is there. Exit status: 0 the merged runs "
        "conform (the gate passed); 1 they do not; 2 a usage or input error (not a run "
        "folder, a bad baseline).",
    )
    report.add_argument("runs", nargs="+", metavar="RUN_DIR", help="reports/<timestamp> folders")
    report.add_argument(
        "--out", metavar="DIR", help="where to write (default: the first run folder)"
    )
    report.add_argument(
        "--profile",
        default="dm20-draft",
        help="the wire profile the runs used (default: dm20-draft)",
    )
    _vendor_cases(
        report, "a vendor case folder the runs used, listed in the provenance (repeatable)"
    )
    report.add_argument(
        "--baseline", metavar="FILE", help="known deviations (YAML) the gate accepts"
    )
    report.add_argument(
        "--strict", action="store_true", help="SHOULD/MAY failures fail the gate too"
    )
    report.add_argument("--no-allure", action="store_true", help="skip the Allure HTML report")
    report.set_defaults(func=cmd_report)
    validate = commands.add_parser(
        "validate",
        help="check case files and DUT files against their schemas",
        description="Check case files (and vendor case folders) and DUT files before anything "
        "runs; print every problem as file:line: where: what. The ixit facts a DUT file may "
        "give are a closed list: " + ", ".join(ixit_facts()) + " (an unknown key is a "
        "problem). Exit status: 0 no problem; 2 a "
        "problem found (a file does not conform to its schema, a case ID used twice) or a "
        "usage error.",
    )
    validate.add_argument(
        "paths", nargs="*", help="case files or folders (default: the shipped cases)"
    )
    _vendor_cases(validate, "a vendor case folder, checked with the others (repeatable)")
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
        description="Print the requirement x cases x role matrix and write coverage.json and "
        "coverage.md. Exit status: 0 every testable requirement has a case; 1 a gap or a "
        "case file with a problem; 2 a usage error.",
    )
    _vendor_cases(cover, "vendor case folder")
    cover.add_argument(
        "--out", default=".", metavar="DIR", help="where to write (default: the current folder)"
    )
    cover.set_defaults(func=cmd_coverage)
    add_load_parser(commands)  # many simulated devices against a server (conformance/load/)
    add_explore_parser(commands)  # generated sessions judged against the model (explore/)
    add_editor_parsers(commands)  # draft, defects, whatif: the spec editor's (conformance/editor/)
    add_package_parsers(commands)  # package, verify: the certification package (report/package)
    return top


def add_package_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`package` and `verify`."""
    pack = commands.add_parser(
        "package",
        help="pack a run folder into one archive a test lab can check (MANIFEST.sha256, "
        "optional OpenSSH signature)",
        description="Pack RUN_DIR into one archive: report.html, report.json, junit.xml, "
        "allure-results, results, the per-case logs (work/), the DUT files, the baseline and "
        "the vendor case files, with MANIFEST.sha256 (the SHA-256 of every file) and, with "
        "--sign, MANIFEST.sha256.sig (ssh-keygen -Y sign -n dm20-conformance). Exit status: 0 "
        "the package is written; 2 a usage or input error (not a run folder, a key that "
        "cannot sign).",
    )
    pack.add_argument("run", metavar="RUN_DIR", help="a reports/<timestamp> folder")
    pack.add_argument(
        "--out",
        metavar="FILE",
        help="the package: .zip, .tar, .tar.gz or .tgz (default: RUN_DIR.zip beside RUN_DIR)",
    )
    pack.add_argument(
        "--sign",
        metavar="KEY",
        help="sign the manifest with this OpenSSH private key (or a public key whose private "
        "half is in ssh-agent)",
    )
    pack.set_defaults(func=cmd_package)
    check = commands.add_parser(
        "verify",
        help="check a package: every file against its manifest, and who signed it",
        description="Check every file of PACKAGE against MANIFEST.sha256 and name each file "
        "changed, missing or added; check that the DUT files, baseline and vendor cases in it "
        "are those whose SHA-256 the report states; with --allowed-signers, check the "
        "signature and say who signed. Exit status: 0 the package is intact (and, when asked, "
        "signed by an allowed signer); 1 it is not (a file changed, missing or added, a bad or "
        "missing signature); 2 a usage or input error (not a package).",
    )
    check.add_argument(
        "package", metavar="PACKAGE", help="a package: .zip, .tar, .tar.gz, .tgz, or unpacked"
    )
    check.add_argument(
        "--allowed-signers",
        metavar="FILE",
        help="an OpenSSH allowed_signers file (principal, then public key, per line): the "
        "package must be signed by one of its keys",
    )
    check.add_argument(
        "--identity",
        metavar="ID",
        help="the principal that must have signed (default: whichever of the file's did)",
    )
    check.set_defaults(func=cmd_verify)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    provenance.set_command(["dm20-conformance", *(sys.argv[1:] if argv is None else argv)])
    try:
        code: int = args.func(args)
        return code
    except (InputError, packaging.PackageError) as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
