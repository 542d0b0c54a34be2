"""The whole suite against the bundled sample client and server: wall time, cases per second, the
speed-up of `-n 2` (pytest-xdist), and the share of the time spent starting DUT processes.

    python benchmarks/bench_suite.py [--workers 0 2] [--starts 10]

Each run is `dm20-conformance run --reports DIR [-n W]` in a subprocess. DUT process start-up is
measured apart, on loopback, `--starts` times each:

- the sample client's interpreter start-up (`python -m conformance.samples.client --help`);
- from starting `python -m conformance.samples.client session …` to its first request reaching a
  bare werkzeug server (what a client-role case waits for on every DUT start);
- a whole run of the sample server's enqueue hook (`… samples.server enqueue`, start to exit),
  which server-role cases run once per `enqueue` step.

The runs' work folders say how many DUT processes started (one `dut-N-*.log` each) and the
server-role results how many enqueue hooks ran; times the start-up gives the share."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import bare_server, machine, summary, table
from werkzeug.wrappers import Request, Response

from conformance.engine.loader import load_all, packaged_cases_dir
from conformance.engine.records import Verdict
from conformance.report.results import read_results

PYTHON = sys.executable
CLI = str(Path(PYTHON).parent / "dm20-conformance")
PROCESS_TIMEOUT_S = 60.0


def help_start(count: int) -> list[float]:
    """Seconds of `python -m conformance.samples.client --help`, start to exit."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        subprocess.run(
            [PYTHON, "-m", "conformance.samples.client", "--help"],
            capture_output=True,
            timeout=PROCESS_TIMEOUT_S,
            check=True,
        )
        times.append(time.perf_counter() - started)
    return times


def first_request(count: int, folder: Path) -> list[float]:
    """Seconds from starting a sample client session to its first request arriving."""
    arrived: list[float] = []
    signal = threading.Event()
    end = json.dumps({"CMD": [["END"]]}).encode()

    def answer(_request: Request) -> Response:
        if not signal.is_set():
            arrived.append(time.perf_counter())
            signal.set()
        return Response(end, status=200, headers={"Content-Type": "application/dm20"})

    times = []
    with bare_server(answer) as base:
        for index in range(count):
            signal.clear()
            arrived.clear()
            state = folder / f"state-{index}"
            started = time.perf_counter()
            argv = [PYTHON, "-m", "conformance.samples.client", "session"]
            proc = subprocess.Popen(
                [*argv, "--server", f"{base}/dm", "--state", str(state)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                if signal.wait(PROCESS_TIMEOUT_S):
                    times.append(arrived[0] - started)
                proc.wait(PROCESS_TIMEOUT_S)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    return times


def hook_run(count: int) -> list[float]:
    """Seconds of a whole run of the sample server's enqueue hook against a bare server."""

    def queued(_request: Request) -> Response:
        return Response("queued", status=200, headers={"Content-Type": "text/plain"})

    payload = json.dumps({"device_id": "IMEI:1", "commands": [["END"]]}).encode()
    times = []
    with bare_server(queued) as base:
        port = base.rsplit(":", 1)[1]
        for _ in range(count):
            started = time.perf_counter()
            subprocess.run(
                [PYTHON, "-m", "conformance.samples.server", "enqueue", "--port", port],
                input=payload,
                capture_output=True,
                timeout=PROCESS_TIMEOUT_S,
                check=True,
            )
            times.append(time.perf_counter() - started)
    return times


def enqueue_steps() -> dict[str, int]:
    """Case ID -> enqueue steps, for the shipped server-role cases."""
    cases, _ = load_all([packaged_cases_dir()])
    return {c.id: sum(1 for s in c.all_steps() if s.kind.key == "enqueue") for c in cases}


def suite(workers: int, folder: Path) -> dict[str, Any]:
    """One `dm20-conformance run` (with `-n workers` when > 0) and what it did."""
    reports = folder / f"reports-n{workers}"
    argv = [CLI, "run", "--reports", str(reports)] + (["-n", str(workers)] if workers else [])
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - started
    [run] = [p for p in reports.iterdir() if p.is_dir()]
    records = read_results(run)
    steps = enqueue_steps()
    ran = [r for r in records if r.verdict is not Verdict.NOT_APPLICABLE]
    return {
        "workers": workers,
        "exit": done.returncode,
        "wall_s": wall,
        "cases": len(records),
        "case_s": sum(r.seconds for r in records),
        "dut_processes": len(list((run / "work").rglob("dut-*.log"))),
        "hook_runs": sum(steps.get(r.case, 0) for r in ran if r.role == "server"),
        "summary": done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="0: no xdist")
    parser.add_argument("--starts", type=int, default=10, help="DUT start-ups to time")
    args = parser.parse_args()
    print(machine())
    folder = Path(tempfile.mkdtemp(prefix="dm20-bench-suite-"))
    try:
        helps = summary(help_start(args.starts))
        firsts = summary(first_request(args.starts, folder))
        hooks = summary(hook_run(args.starts))
        runs = [suite(w, folder) for w in args.workers]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"sample client --help: mean {helps['mean'] / 1e3:.0f} ms, "
        f"p95 {helps['p95'] / 1e3:.0f} ms; "
        f"start to first request: mean {firsts['mean'] / 1e3:.0f} ms, "
        f"p95 {firsts['p95'] / 1e3:.0f} ms; enqueue hook run: mean {hooks['mean'] / 1e3:.0f} ms "
        f"(n={args.starts} each)"
    )
    rows = []
    base = runs[0]["wall_s"]
    for run in runs:
        start_s = (
            run["dut_processes"] * firsts["mean"] / 1e6 + run["hook_runs"] * hooks["mean"] / 1e6
        )
        rows.append(
            [
                f"-n {run['workers']}" if run["workers"] else "serial",
                f"{run['wall_s']:.1f} s",
                str(run["cases"]),
                f"{run['cases'] / run['wall_s']:.2f}",
                f"{base / run['wall_s']:.2f}x",
                f"{run['dut_processes']} + {run['hook_runs']} hooks",
                f"{start_s:.1f} s = {100 * start_s / run['case_s']:.0f}% of case time",
                f"{run['exit']}: {run['summary'][:60]}",
            ]
        )
    print(
        table(
            [
                "run",
                "wall",
                "cases",
                "cases/s",
                "speed-up",
                "DUT processes",
                "DUT start-up (est.)",
                "exit: summary",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
