"""`dm20-conformance explore` against the bundled sample client: generated sessions and HTTP
exchanges per second, beside the hand-written client cases run by the same engine in the same
run (the baseline), and what generating a session costs without running it.

    python benchmarks/bench_explore.py [--examples 30] [--seed 1]

- explore: an in-process `Exploration` (discovery, then `--examples` generated sessions; the
  sample client diverges nowhere, so nothing is shrunk), its sessions and exchanges per second;
- baseline: every hand-written client case of the suite, each run once by `Harness.run_case`,
  its exchanges per second (a case's HTTP exchanges counted by a listener);
- generation alone: Hypothesis drawing the same number of scripts, each rendered to a case file
  and loaded as one, without running them (what exploration adds to a case run)."""

from __future__ import annotations

import argparse
import io
import logging
import shutil
import tempfile
import time
from pathlib import Path

from common import machine, table
from hypothesis import HealthCheck, given, seed, settings

from conformance.dut import bundled_dut
from conformance.engine.harness import Harness, Options
from conformance.engine.loader import load_all, load_case_file, packaged_cases_dir
from conformance.explore.client_explorer import ClientExplorer
from conformance.explore.run import Exploration, Settings
from conformance.explore.search import Budget, Exchanges, Progress
from conformance.explore.writer import write_case

logging.getLogger("werkzeug").setLevel(logging.ERROR)


def explore(examples: int, seed_value: int, folder: Path) -> tuple[float, int, int]:
    """Seconds, generated sessions and exchanges of one exploration of the sample client."""
    budget = Budget(examples=examples, shrink_runs=0)
    settings_ = Settings(bundled_dut("client"), budget, seed_value)
    started = time.perf_counter()
    report = Exploration(settings_, folder, say=lambda _: None).go(Progress(io.StringIO()))
    return time.perf_counter() - started, report.runs, report.exchanges


def hand_written(folder: Path) -> tuple[float, int, int]:
    """Seconds, cases and exchanges of every hand-written client case, run once each."""
    cases, problems = load_all([packaged_cases_dir()])
    assert not problems, problems
    harness = Harness(Options(reports=folder, worker="baseline"))
    listener = Exchanges()
    count = 0
    started = time.perf_counter()
    try:
        for case in sorted((c for c in cases if c.role == "client"), key=lambda c: c.id):
            for suffix, params in case.variants():
                harness.run_case(case, params, f"{case.id}[{suffix}]", [listener])
                count += 1
    finally:
        harness.close()
    return time.perf_counter() - started, count, len(listener.seen)


def generation(examples: int, seed_value: int, folder: Path) -> tuple[float, int]:
    """Seconds to draw, render and load `examples` scripts without running them."""
    harness = Harness(Options(reports=folder, worker="generation"))
    explorer = ClientExplorer(harness, folder, say=lambda _: None)
    explorer.discover()
    strategy = explorer.strategy()
    drawn: list[object] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(seed_value)
    @given(strategy)
    def draw(script: object) -> None:
        drawn.append(script)

    started = time.perf_counter()
    draw()
    for index, script in enumerate(drawn):
        rendered = explorer.render(script)  # type: ignore[arg-type]
        path = write_case(folder / "gen" / f"{index}.yaml", rendered.data)
        load_case_file(path, harness.catalog, harness.profile)
    seconds = time.perf_counter() - started
    harness.close()
    return seconds, len(drawn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dm20-bench-explore-"))
    try:
        print(machine())
        seconds, runs, exchanges = explore(args.examples, args.seed, root / "explore")
        base_s, cases, base_exchanges = hand_written(root / "baseline")
        gen_s, drawn = generation(args.examples, args.seed, root / "generation")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rate, base_rate = exchanges / seconds, base_exchanges / base_s
    rows = [
        [
            "exchanges per second",
            f"{rate:.1f} ({exchanges} in {seconds:.1f} s)",
            f"{base_rate:.1f} ({base_exchanges} in {base_s:.1f} s)",
            f"{rate / base_rate:.2f}x",
        ],
        [
            "sessions (cases) per second",
            f"{runs / seconds:.2f} ({runs} generated)",
            f"{cases / base_s:.2f} ({cases} hand-written)",
            f"{(runs / seconds) / (cases / base_s):.2f}x",
        ],
        [
            "exchanges per session",
            f"{exchanges / max(runs, 1):.1f}",
            f"{base_exchanges / max(cases, 1):.1f}",
            "",
        ],
        [
            "generating a session (draw, render, load), no run",
            f"{gen_s / max(drawn, 1) * 1000:.1f} ms ({drawn} scripts)",
            "",
            "",
        ],
    ]
    print(
        f"explore --dut sample-client --examples {args.examples} --seed {args.seed} "
        "(discovery included) vs every hand-written client case, run once each"
    )
    print(table(["figure", "explore", "hand-written cases", "ratio"], rows))


if __name__ == "__main__":
    main()
