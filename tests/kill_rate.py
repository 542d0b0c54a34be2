"""The kill rate of the suite over the faulty variants of the samples (tests/mutants/):

    python tests/kill_rate.py [--workers N] [--only NAME …]

Each mutant runs as the kill matrix (tests/harness/test_faulty_variants.py) runs it, through the
same `run_mutant` and `assess`: one pytest subprocess with `--dut <mutant DUT>` over the packaged
cases (`-k <requirement>` when some case of its role verifies it, else every case of its role),
stopped at the first kill, several at once on a thread pool. A mutant is KILLED when a record
FAILs with its requirement in `failed` and in the message. Prints the kill table (mutant,
requirement, killed?, killed by, seconds), then the kill rate; exits 1 if any mutant survives."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness.test_faulty_variants import Outcome, assess, kill_table, run_mutant, selection
from tests.mutants.registry import MUTANTS, Mutant
from tests.processes import kill_live


def outcome_of(mutant: Mutant, root: Path) -> Outcome:
    folder = root / mutant.name
    folder.mkdir(parents=True)
    return assess(mutant, run_mutant(mutant, folder))


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
    # Mutants that run every case of their role take longest: start them first.
    ordered = sorted(chosen, key=lambda m: selection(m).startswith("-k"))
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
            found = pool.map(lambda m: outcome_of(m, root), ordered)
            done = dict(zip(ordered, found, strict=True))
    except KeyboardInterrupt:
        kill_live()
        raise
    outcomes = [done[m] for m in chosen]
    elapsed = time.monotonic() - started
    killed = sum(o.killed for o in outcomes)
    print(kill_table(outcomes))
    for outcome in outcomes:
        if not outcome.killed:
            print(f"\n{outcome.mutant.name} survived ({selection(outcome.mutant)}):")
            print(outcome.problem or outcome.describe())
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
