"""The kill table by exploration alone, beside the hand-written one (tests/kill_rate.py):

    python tests/explore/kill_table.py [--examples N] [--seed S] [--workers N] [--only NAME …]

For every client mutant of tests/mutants/ (or the ones named), `dm20-conformance explore` with
the stated budget, going on after a divergence for up to `--divergences` of different IDs (a
mutant may break more than its own requirement on the way: a DELETE that keeps children may
also ignore access rights): the mutant is KILLED when a divergence it reports names the mutant's
requirement and the case written for it fails against the mutant (its replay) and passes
against the sample client. Prints mutant -> requirement -> found? -> the IDs the divergence
named -> the run of the first divergence -> runs (shrinking included) and seconds -> the case
written; then the mutants exploration cannot reach, with the reason. Exits 1 if a reachable
mutant survives."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from conformance.dut import bundled_dut
from conformance.engine.harness import Harness, Options
from conformance.engine.loader import load_case_file
from tests.explore.runs import Budget, Explored, explore
from tests.mutants.registry import MUTANTS

logging.getLogger("werkzeug").setLevel(logging.ERROR)

# Mutants exploration cannot reach, and why (none of the client mutants, so far: every fault
# of tests/mutants/ shows in the messages, requests or documents of some generated session).
UNREACHABLE: dict[str, str] = {}


def sample_verdict(case_file: Path) -> str:
    harness = Harness(Options(dut=bundled_dut("client"), timeout_s=5.0))
    try:
        [case] = load_case_file(case_file, harness.catalog, harness.profile)
        return harness.run_case(case, {}, case.id).verdict.value
    finally:
        harness.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--shrink-runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--divergences", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=[])
    args = parser.parse_args()
    budget = Budget(
        examples=args.examples, shrink_runs=args.shrink_runs, divergences=args.divergences
    )
    names = [
        n
        for n, m in MUTANTS.items()
        if m.role == "client" and n not in UNREACHABLE and (not args.only or n in args.only)
    ]
    root = Path(tempfile.mkdtemp(prefix="dm20-explore-kills-"))

    def one(name: str) -> tuple[str, Explored]:
        return name, explore(name, root, budget, args.seed)

    rows = [("mutant", "requirement", "found?", "divergence names", "first", "runs", "s", "case")]
    survivors = 0
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        for name, run in pool.map(one, names):
            requirement = MUTANTS[name].requirement
            report = run.report
            divergences = report.get("divergences") or []
            naming = [d for d in divergences if requirement in d["ids"]]
            divergence: dict[str, Any] = naming[0] if naming else {}
            if not naming and divergences:
                divergence = divergences[0]
            ids = divergence.get("ids") or []
            case = Path(divergence["case_file"]) if divergence.get("case_file") else None
            killed = (
                bool(naming)
                and "FAIL" in divergence.get("replay", "")
                and case is not None
                and sample_verdict(case) in ("PASS", "INFORMATIONAL")
            )
            at = divergences.index(divergence) if divergence in divergences else 0
            before = [", ".join(d["ids"]) for d in divergences[:at]]
            if naming and before:  # other defects of the mutant came first
                ids = [*ids, f"(after {'; '.join(before)})"]
            survivors += 0 if killed else 1
            first = (report.get("first") or {}).get("run", "-")
            rows.append(
                (
                    name,
                    requirement,
                    "yes" if killed else "NO",
                    ", ".join(ids) or report.get("trouble", "")[:60] or "-",
                    str(first),
                    str(report["runs"]),
                    f"{run.seconds:.0f}",
                    case.name if case else "-",
                )
            )
            print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(
        f"\nexploration kill table: seed {args.seed}, {budget.examples} examples, "
        f"shrinking {budget.shrink_runs} runs, timeout {budget.timeout_s} s, up to "
        f"{budget.divergences} divergences"
    )
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    found = len(names) - survivors
    print(f"\nfound {found} of {len(names)} reachable client mutants")
    for name, why in UNREACHABLE.items():
        print(f"not reachable by exploration: {name} ({MUTANTS[name].requirement}): {why}")
    print(f"work folder: {root}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
