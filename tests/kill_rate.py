"""The kill rate of the suite over the faulty variants of the samples (tests/mutants/):

    python tests/kill_rate.py [--workers N] [--only NAME …]

Each mutant runs as the kill matrix (tests/harness/test_faulty_variants.py) runs it, through the
same `run_mutant`: one pytest subprocess with `--dut <mutant DUT> -k <requirement>` over the
packaged cases, stopped at the first kill, several at once on a thread pool. A mutant is KILLED
when a case that names its requirement FAILs with a message that names the requirement (the
matrix's `named_kill`). Prints mutant -> requirement -> killed? -> killing cases -> seconds, then
the kill rate; exits 1 if any mutant survives."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness.helpers import kill_live, name_of
from tests.harness.stop_on_kill import STOPPED
from tests.harness.test_faulty_variants import KILLED, named_kill, run_mutant
from tests.mutants.registry import MUTANTS, Mutant


@dataclass(frozen=True)
class Outcome:
    """What one mutant's run showed."""

    mutant: Mutant
    killed: bool
    killers: tuple[str, ...]
    verdicts: tuple[str, ...]  # `case verdict` of every case that ran
    seconds: float
    problem: str = ""  # why the run itself is suspect (no case ran, usage or internal error)


def killers(mutant: Mutant, records: list[dict[str, Any]]) -> list[str]:
    """The cases that killed `mutant`: FAIL, naming its requirement, in requirements and message."""
    return [name_of(r) for r in records if named_kill(mutant, [r])]


def assess(mutant: Mutant, root: Path) -> Outcome:
    folder = root / mutant.name
    folder.mkdir(parents=True)
    started = time.monotonic()
    result = run_mutant(mutant, folder)
    seconds = time.monotonic() - started
    try:
        records = result.records
    except (AssertionError, OSError) as exc:
        records, problem = [], f"no results: {exc}"
    else:
        problem = ""
    stopped = f"Interrupted: {STOPPED}" in result.ran.stdout
    if not records:
        problem = problem or "no case ran"
    elif result.ran.returncode not in ((2,) if stopped else (0, 1)):
        problem = f"pytest exit {result.ran.returncode}"
    elif "INTERNALERROR" in result.ran.stdout + result.ran.stderr:
        problem = "pytest INTERNALERROR"
    if not problem and not named_kill(mutant, records):
        failed = [r for r in records if r["verdict"] == KILLED]
        if failed:
            problem = "its failures name another requirement"
    return Outcome(
        mutant,
        not problem and named_kill(mutant, records),
        tuple(killers(mutant, records)),
        tuple(f"{name_of(r)} {r['verdict']}" for r in records),
        seconds,
        problem,
    )


def table(outcomes: list[Outcome]) -> str:
    rows = [("mutant", "requirement", "killed?", "killing cases", "s")]
    for o in outcomes:
        if o.killed:
            state, detail = "KILLED", ", ".join(o.killers[:3])
            detail += f" (+{len(o.killers) - 3} more)" if len(o.killers) > 3 else ""
        else:
            state = "SURVIVED"
            detail = o.problem or "; ".join(o.verdicts)
        rows.append((o.mutant.name, o.mutant.requirement, state, detail, f"{o.seconds:.1f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[4]:>6}  {r[3]}"
        for r in rows
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--only", nargs="*", metavar="NAME", help="run only these mutants")
    parser.add_argument("--keep", action="store_true", help="keep the run folders")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only or ()) - set(MUTANTS))
    if unknown:
        parser.error(f"no such mutant: {', '.join(unknown)}")
    chosen = [MUTANTS[n] for n in args.only] if args.only else list(MUTANTS.values())
    root = Path(tempfile.mkdtemp(prefix="dm20-kill-rate-"))
    started = time.monotonic()
    # Server mutants take longest (they start a server per run): start them first.
    ordered = sorted(chosen, key=lambda m: m.role != "server")
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
            done = dict(zip(ordered, pool.map(lambda m: assess(m, root), ordered), strict=True))
    except KeyboardInterrupt:
        kill_live()
        raise
    outcomes = [done[m] for m in chosen]
    elapsed = time.monotonic() - started
    killed = sum(o.killed for o in outcomes)
    print(table(outcomes))
    print(
        f"\nkill rate: {killed}/{len(outcomes)} ({100 * killed / max(1, len(outcomes)):.0f}%) "
        f"in {elapsed:.0f} s with {args.workers} worker(s)"
    )
    if args.keep or killed != len(outcomes):
        print(f"run folders: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if killed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
