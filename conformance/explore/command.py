"""The `dm20-conformance explore` subcommand: its options and what it prints (the CLI registers
it with `add_parser`). Hypothesis (the `explore` extra) is imported only when it runs."""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import Any

from conformance.dut import load_dut


def cmd_explore(args: argparse.Namespace) -> int:
    """Exit status: 0 when no divergence was found, 1 when one was (its case written), 2 when
    exploration could not run or could not judge a generated case."""
    try:
        from conformance.explore.run import Exploration, Settings, explain_ids, new_run_folder
        from conformance.explore.search import Budget
    except ImportError as exc:  # Hypothesis is the explore extra's
        print(
            f"dm20-conformance explore needs Hypothesis: pip install 'dm20-conformance[explore]' "
            f"({exc})",
            file=sys.stderr,
        )
        return 2
    dut = load_dut(args.dut)
    examples = args.examples
    if examples is None and args.time is None:
        examples = 50
    budget = Budget(
        examples=examples,
        seconds=args.time,
        shrink_runs=args.shrink_runs,
        shrink_seconds=args.shrink_time,
        divergences=args.divergences,
    )
    seed = args.seed if args.seed is not None else secrets.randbelow(10**6)
    folder = Path(args.out) if args.out else new_run_folder(Path(args.reports))
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings(dut.path, budget, seed, args.timeout, args.profile)
    print(
        f"dm20-conformance explore: {dut.name} {dut.version} ({dut.role}), seed {seed}, "
        f"budget {budget.describe()}\n  run folder {folder}",
        flush=True,
    )
    exploration = Exploration(settings, folder, say=lambda text: print(text, flush=True))
    try:
        report = exploration.go()
    except KeyboardInterrupt:
        print("dm20-conformance explore: interrupted", file=sys.stderr)
        return 130
    rate = report.runs / report.seconds if report.seconds else 0.0
    print(
        f"{report.runs} generated sessions in {report.seconds:.1f} s ({rate:.2f}/s); "
        f"{report.shrink_runs} of them shrinking"
    )
    if report.trouble:
        print(f"exploration could not judge a generated case: {report.trouble}", file=sys.stderr)
    if not report.divergences:
        print(f"no divergence from the model (seed {seed})")
        return report.exit_status
    units = ("batches", "commands") if report.role == "server" else ("messages", "commands")
    first = report.first
    if first is not None:
        print(
            f"first divergence at run {first.run}: {', '.join(first.ids)} "
            f"({first.messages} {units[0]}, {first.commands} {units[1]})"
        )
    catalog, profile = exploration.harness.catalog, exploration.harness.profile
    for divergence in report.divergences:
        print(
            f"DIVERGENCE (shrunk to {divergence.messages} {units[0]}, {divergence.commands} "
            f"{units[1]}): it breaks {', '.join(divergence.ids)}"
        )
        for line in explain_ids(divergence.ids, catalog, profile):
            print(f"  {line}")
        print("the session:")
        for line in divergence.script:
            print(f"  {line}")
        print(
            f"case written: {divergence.case_file} "
            f"(against the implementation: {divergence.replay})"
        )
        print(
            f"run it: dm20-conformance run --dut {dut.path} --cases {folder / 'cases'} "
            f"-k {Path(divergence.case_file).stem}"
        )
        if args.verbose:
            print(divergence.message)
    for other in report.others:
        print(f"also seen while shrinking (not shrunk): {', '.join(other.ids)} at run {other.run}")
    return report.exit_status


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add `explore` to the CLI's subcommands (the object `add_subparsers` returned)."""
    explore = commands.add_parser(
        "explore",
        help="generated sessions judged against the model of the profile; a divergence is "
        "shrunk into a YAML case",
        description="Generate sessions (Hypothesis) within the features and ixit facts the DUT "
        "file declares, run each against the implementation, judge every outcome against the "
        "set the profile allows; shrink the first divergence and write it as a YAML case. Exit "
        "status: 0 no divergence, 1 a divergence (its case written), 2 exploration could not run.",
    )
    explore.add_argument("--dut", required=True, help="DUT file of a DM client or DM server")
    explore.add_argument(
        "--examples",
        type=int,
        metavar="N",
        help="generated sessions to run (default: 50, unless --time is given)",
    )
    explore.add_argument("--time", type=float, metavar="S", help="seconds of exploration")
    explore.add_argument("--seed", type=int, help="Hypothesis's seed (default: a new one, printed)")
    explore.add_argument(
        "--shrink-runs",
        type=int,
        default=40,
        metavar="N",
        help="runs of the implementation while shrinking a divergence (default: 40)",
    )
    explore.add_argument(
        "--shrink-time",
        type=float,
        default=120.0,
        metavar="S",
        help="seconds of shrinking a divergence (default: 120)",
    )
    explore.add_argument(
        "--divergences",
        type=int,
        default=1,
        metavar="N",
        help="go on after a divergence until N divergences of different requirements are "
        "found and shrunk, or the budget is spent (default: 1)",
    )
    explore.add_argument("--timeout", type=float, metavar="S", help="seconds for every wait")
    explore.add_argument("--profile", help="wire profile name or file")
    explore.add_argument(
        "--reports",
        default="reports",
        metavar="DIR",
        help="where the run folder explore-<timestamp> is made (default: ./reports)",
    )
    explore.add_argument(
        "--out", metavar="DIR", help="the run folder itself (reuse one to replay its database)"
    )
    explore.add_argument(
        "-v", "--verbose", action="store_true", help="print the divergent run's explanation"
    )
    explore.set_defaults(func=cmd_explore)
    parser: argparse.ArgumentParser = explore
    return parser


def main(argv: list[str] | None = None) -> int:
    """`python -m conformance.explore.command` (the same as `dm20-conformance explore`)."""
    top = argparse.ArgumentParser(prog="dm20-conformance")
    add_parser(top.add_subparsers(dest="command", required=True))
    args = top.parse_args(["explore", *(argv if argv is not None else sys.argv[1:])])
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
