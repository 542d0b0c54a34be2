"""The load mode's engines side by side, in one run on this machine, each against a fresh sample
server: sessions per second of the asyncio mode, of the locust engine with 1 and with 2 local
workers, and of a bare Locust FastHttpUser doing the same POSTs without judging (the ceiling),
with 1 and 2 workers.

    python benchmarks/bench_load.py [--devices 200] [--duration 20] [--workers 1 2]

The asyncio and locust runs are `dm20-conformance load [--engine locust --workers N] --json F`
(figures from F). The bare runs start the sample server (`ServerUnderTest`) and a Locust master
and workers with benchmarks/locust_bare.py, `--csv`; their figures come from Locust's CSV, and
the workers' CPU from /proc, sampled from the start of the load to the last sample before they
exit. Each session against the sample server is one exchange, so sessions/s = exchanges/s.

On a small machine the sample server (one Python process) bounds sessions/s before any engine
does; the generator's CPU per session, and the sessions/s one generator core makes at that cost,
compare the engines themselves."""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import machine, table

from conformance.dut import bundled_dut, load_dut
from conformance.load.runner import process_cpu_s
from conformance.roles.processes import DutProcess
from conformance.roles.server_under_test import ServerUnderTest, free_port

PYTHON = sys.executable
CLI = str(Path(PYTHON).parent / "dm20-conformance")
BARE = Path(__file__).with_name("locust_bare.py")
MARGIN_S = 90.0  # beyond the duration: start-up and the end of every process


def dm_run(label: str, key: str, extra: list[str], devices: int, duration: int, work: Path) -> dict:
    """One `dm20-conformance load` run (work folder `key`): its figures."""
    figures = work / f"{key}.json"
    argv = [CLI, "load", "--devices", str(devices), "--duration", str(duration),
            "--work", str(work / key), "--json", str(figures), *extra]  # fmt: skip
    print("$", " ".join(argv[1:]), flush=True)
    subprocess.run(argv, capture_output=True, timeout=duration + MARGIN_S, check=False)
    data = json.loads(figures.read_text())
    latency = data["exchange_latency"]
    return {
        "run": label,
        "sessions/s": data["sessions_per_s"],
        "p50": latency["p50_ms"],
        "p95": latency["p95_ms"],
        "generator CPU": data["generator_cpu_s"] / data["elapsed_s"],
        "server CPU": data["server_cpu_s"] / data["elapsed_s"],
        "non-conformant": data["non_conformant_exchanges"],
    }


class CpuSampler:
    """CPU seconds of some processes, sampled every 0.25 s from /proc until stopped."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.wait(0.25):
            values = [process_cpu_s(pid) for pid in self.pids]
            if any(math.isnan(v) for v in values):
                return  # one has exited: the last sample stands
            self.samples.append((time.monotonic(), sum(values)))

    def since(self, moment: float) -> tuple[float, float]:
        """CPU seconds and wall seconds from the first sample after `moment` to the last."""
        self.done.set()
        self.thread.join()
        later = [s for s in self.samples if s[0] >= moment]
        if len(later) < 2:
            return math.nan, math.nan
        return later[-1][1] - later[0][1], later[-1][0] - later[0][0]


def bare_run(workers: int, devices: int, duration: int, work: Path) -> dict:
    """The bare FastHttpUser on a Locust master and `workers` workers: its figures."""
    label = f"bare FastHttpUser, {workers} worker(s)"
    folder = work / f"bare-{workers}"
    server = ServerUnderTest(load_dut(bundled_dut("server")), folder, 10.0)
    processes: list[DutProcess] = []
    try:
        server.start()
        port = free_port()
        locust = [PYTHON, "-m", "locust", "-f", str(BARE)]
        master = [*locust, "--master", "--master-bind-host", "127.0.0.1",
                  "--master-bind-port", str(port), "--expect-workers", str(workers),
                  "--headless", "--only-summary", "--users", str(devices),
                  "--spawn-rate", str(devices), "--run-time", f"{duration}s",
                  "--stop-timeout", "0", "--host", server.url,
                  "--csv", str(folder / "bare")]  # fmt: skip
        worker = [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
        print("$ locust", " ".join(master[4:]), flush=True)
        print("$ locust", " ".join(worker[4:]), f"  # x {workers}", flush=True)
        processes.append(DutProcess(master, folder, folder / "master.log"))
        processes += [DutProcess(worker, folder, folder / f"w{i}.log") for i in range(workers)]
        pid = server.process.pid if server.process else None
        sampler = CpuSampler([p.pid for p in processes[1:]])
        log = folder / "master.log"
        deadline = time.monotonic() + MARGIN_S
        while "Sending spawn jobs" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        started, server_cpu = time.monotonic(), process_cpu_s(pid)
        processes[0].wait(duration + MARGIN_S)
        server_cpu = process_cpu_s(pid) - server_cpu
        wall = time.monotonic() - started
        cpu, sampled = sampler.since(started)
    finally:
        for process in processes:
            process.stop()
        server.stop()
    with (folder / "bare_stats.csv").open() as stats:
        total = next(row for row in csv.DictReader(stats) if row["Name"] == "Aggregated")
    return {
        "run": label,
        "sessions/s": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "generator CPU": cpu / sampled,
        "server CPU": server_cpu / wall,
        "non-conformant": f"not judged ({total['Failure Count']} failed)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(machine(), flush=True)
    print(f"# {args.devices} devices, {args.duration} s per run, sample server", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    rows: list[dict[str, Any]] = [
        dm_run("asyncio", "asyncio", [], args.devices, args.duration, work)
    ]
    for workers in args.workers:
        extra = ["--engine", "locust", "--workers", str(workers)]
        label = f"locust engine, {workers} worker(s)"
        rows.append(dm_run(label, f"locust-{workers}", extra, args.devices, args.duration, work))
        rows.append(bare_run(workers, args.devices, args.duration, work))
    print(machine(), flush=True)
    asyncio_rate = rows[0]["sessions/s"]
    bare = {r["run"].split(", ")[1]: r["sessions/s"] for r in rows if r["run"].startswith("bare")}
    per_core = {r["run"]: r["sessions/s"] / r["generator CPU"] for r in rows}
    bare_core = {r["run"].split(", ")[1]: per_core[r["run"]] for r in rows if "bare" in r["run"]}

    def ratios(row: dict[str, Any], rate: float, core: float) -> str:
        return f"{row['sessions/s'] / rate:.2f}x / {per_core[row['run']] / core:.2f}x"

    lines = []
    for row in rows:
        same = row["run"].split(", ")[-1]
        lines.append(
            [
                row["run"],
                f"{row['sessions/s']:.0f}",
                f"{row['p50']:.1f} / {row['p95']:.1f}",
                f"{row['generator CPU']:.0%} / {row['server CPU']:.0%}",
                f"{1000 / per_core[row['run']]:.3f}",
                f"{per_core[row['run']]:.0f}",
                ratios(row, asyncio_rate, per_core["asyncio"]),
                ratios(row, bare[same], bare_core[same]) if "locust" in row["run"] else "",
                row["non-conformant"],
            ]
        )
    header = ["run", "sessions/s", "exchange p50 / p95 ms", "CPU generator / server",
              "generator CPU ms per session", "sessions/s per generator core",
              "vs asyncio: sessions/s / per core", "vs bare, same workers: sessions/s / per core",
              "non-conformant"]  # fmt: skip
    print(table(header, lines))


if __name__ == "__main__":
    main()
