"""`dm20-conformance load --engine locust`: the load on Locust's distributed runners, for more
load than one core (or one machine) makes.

The harness starts the DUT server (`ServerUnderTest`), runs its enqueue hook for the devices to
come, then a Locust master and N local workers, each a process of its own running
conformance/load/locust_devices.py; workers on other machines join with the command printed.
The harness itself never imports Locust (importing it monkey-patches the interpreter). The
master gathers every worker's figures (Locust custom messages) and writes them at the end to a
JSON file; they come back here as a LoadStats, printed as the asyncio mode prints them. Every
wait is bounded; master, workers and server are stopped at the end whatever happened
(terminated, then killed); Ctrl-C or SIGTERM ends the load early with the figures so far."""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import json
import math
import os
import shlex
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from conformance.dut import DutFile
from conformance.load.cycle import device_prefix, worker_device_id
from conformance.load.runner import (
    LoadError,
    LoadSettings,
    check_settings,
    enqueue_all,
    process_cpu_s,
)
from conformance.load.stats import LoadStats
from conformance.roles.processes import DutProcess
from conformance.roles.server_under_test import ServerUnderTest, free_port

LOCUSTFILE = Path(__file__).with_name("locust_devices.py")
MASTER_MARGIN_S = 60.0  # beyond workers' wait + duration: Locust's start, the flush (10 s), its end
FIGURES_GRACE_S = 20.0  # a master told to stop gathers the workers' figures within this
WORKERS_EXIT_S = 5.0  # workers leave on the master's quit message; after this they are stopped
WILDCARDS = ("0.0.0.0", "::", "")
INSTALL_HINT = "pip install 'dm20-conformance[load]'"


@dataclass(frozen=True)
class LocustSettings:
    """Where the load runs: how many workers here and elsewhere, and the master's address."""

    workers: int = 1  # local worker processes
    expect_workers: int = 0  # workers the master waits for, here and elsewhere; 0: `workers`
    master_host: str = "127.0.0.1"  # the master binds there, and workers connect there
    master_port: int = 0  # 0: a free port
    workers_wait_s: float = 60.0  # how long the master waits for every worker to connect
    html: str = ""  # Locust's HTML report of the run, if a path is given

    @property
    def expected(self) -> int:
        return max(self.expect_workers, self.workers)


def locust_missing() -> str | None:
    """What to do when Locust is not installed (checked without importing it), else None."""
    if importlib.util.find_spec("locust") is None:
        return f"the locust engine needs Locust, which the load extra installs: {INSTALL_HINT}"
    return None


def worker_command(host: str, port: int) -> list[str]:
    """The command that runs a worker on another machine (with the harness installed there): it
    fetches the locustfile from the master."""
    if host in WILDCARDS:
        host = socket.getfqdn()
    return ["locust", "-f", "-", "--worker", "--master-host", host, "--master-port", str(port)]


def run_locust(
    dut: DutFile,
    settings: LoadSettings,
    where: LocustSettings,
    workdir: Path,
    say: Callable[[str], None] = print,
) -> LoadStats:
    """Start the DUT server, enqueue, run the load on a Locust master and its workers, stop
    them all; the figures of every worker."""
    missing = locust_missing()
    if missing:
        raise LoadError(missing)
    _, batches = check_settings(dut, settings)  # the profile is loaded in every Locust process
    if where.expected < 1:
        raise LoadError("--workers 0 needs --expect-workers N: the workers other machines run")
    if where.workers < 0 or where.workers_wait_s <= 0:
        raise LoadError("--workers cannot be negative nor --workers-wait zero")
    timeout_s = settings.timeout_s or dut.timeout_s
    prefix = device_prefix(dut)
    before = LoadStats(devices=settings.devices)
    server = ServerUnderTest(dut, workdir, dut.timeout_s)
    processes: list[DutProcess] = []
    try:
        server.start()
        if server.error:
            raise LoadError(
                f"the server under test is not usable: {server.error}\n{server.output()}"
            )
        say(f"server under test: {dut.name} at {server.url}")
        if batches:
            # Each worker numbers its own devices; Locust shares the devices evenly out.
            per_worker = math.ceil(settings.devices / where.expected)
            ids = [
                worker_device_id(prefix, w, n)
                for w in range(where.expected)
                for n in range(per_worker)
            ]
            hooks = settings.hook_workers or 2 * (os.cpu_count() or 1)
            say(f"enqueue: {len(batches)} batch(es) for each of {len(ids)} devices …")
            enqueue_all(server, ids, batches, hooks, workdir / "enqueue.log", before)
        port = where.master_port or free_port(
            "127.0.0.1" if where.master_host in WILDCARDS else where.master_host
        )
        figures = workdir / "locust-figures.json"
        with contextlib.suppress(FileNotFoundError):
            figures.unlink()
        run_time = max(1, math.ceil(settings.duration_s))
        master_argv = _master_argv(dut, settings, where, server.url, port, timeout_s, prefix)
        master_argv += ["--run-time", f"{run_time}s", "--dm-stats-json", str(figures)]
        pid = server.process.pid if server.process is not None else None
        server_cpu = process_cpu_s(pid)
        master = DutProcess(master_argv, workdir, workdir / "locust-master.log")
        processes.append(master)
        connect = "127.0.0.1" if where.master_host in WILDCARDS else where.master_host
        for index in range(where.workers):
            argv = _locust(["--worker", "--master-host", connect, "--master-port", str(port)])
            processes.append(DutProcess(argv, workdir, workdir / f"locust-worker-{index + 1}.log"))
        say(
            f"load: {settings.devices} devices for {run_time} s"
            + (f" at {settings.rate:g} sessions/s" if settings.rate else "")
            + f", {timeout_s:g} s per request, on Locust: master {where.master_host}:{port}, "
            f"{where.workers} local worker(s) of {where.expected}"
        )
        if where.expected > where.workers:
            if _loopback(server.url):
                say(
                    f"note: the server under test is at {server.url}, which workers on other "
                    "machines cannot reach; give the DUT file a server.url they can"
                )
            say(
                f"waiting up to {where.workers_wait_s:g} s for "
                f"{where.expected - where.workers} worker(s) on other machines; on each, run:\n"
                f"    {shlex.join(worker_command(where.master_host, port))}"
            )
        bound = where.workers_wait_s + run_time + MASTER_MARGIN_S
        interrupted = _wait_for_master(master, bound, say)
        stats = _figures(figures, master, interrupted, say)
        stats.server_cpu_s = process_cpu_s(pid) - server_cpu
        stats.enqueue_s, stats.enqueue_problems = before.enqueue_s, before.enqueue_problems
        return stats
    finally:
        for process in processes[:1]:  # the master first: it asks the workers for their figures
            _terminate(process, FIGURES_GRACE_S)
        for process in processes[1:]:
            process.wait(WORKERS_EXIT_S)
            _terminate(process, 0.0)
        server.stop()


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls_argv(dut: DutFile) -> list[str]:
    """The DUT file's server.tls for the devices: the CA bundle to verify the server against,
    the device's certificate for mutual TLS (paths as on this machine: a worker on another
    machine needs the same files at the same paths)."""
    files = dut.tls
    if files is None:
        return []
    pairs = (("--dm-ca-file", files.ca_file), ("--dm-cert", files.cert), ("--dm-key", files.key))
    return [word for option, path in pairs if path is not None for word in (option, str(path))]


def _locust(arguments: list[str]) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *arguments]


def _master_argv(
    dut: DutFile,
    settings: LoadSettings,
    where: LocustSettings,
    url: str,
    port: int,
    timeout_s: float,
    prefix: str,
) -> list[str]:
    spawn_rate = settings.devices / settings.ramp_s if settings.ramp_s > 0 else settings.devices
    pace = settings.devices / settings.rate if settings.rate else 0.0
    argv = _locust(
        [
            "--master",
            "--master-bind-host",
            where.master_host,
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(where.expected),
            "--expect-workers-max-wait",
            f"{where.workers_wait_s:g}",
            "--headless",
            "--only-summary",
            "--users",
            str(settings.devices),
            "--spawn-rate",
            f"{spawn_rate:g}",
            "--stop-timeout",
            "0",
            "--host",
            url,
            "--dm-profile",
            dut.profile,
            "--dm-device-prefix",
            prefix,
            "--dm-timeout",
            f"{timeout_s:g}",
            "--dm-pace",
            f"{pace:g}",
            *_tls_argv(dut),
        ]
    )
    if where.html:
        argv += ["--html", str(Path(where.html).resolve())]
    return argv


def _wait_for_master(master: DutProcess, bound_s: float, say: Callable[[str], None]) -> bool:
    """Wait until the master ends, at most `bound_s`; on Ctrl-C or SIGTERM tell it to stop (it
    then gathers the workers' figures). True when the load was interrupted."""
    with _signals_set() as stop:
        deadline = time.monotonic() + bound_s
        while master.wait(0.2) is None:
            if stop.is_set():
                say("interrupted: the Locust master gathers the workers' figures and stops")
                _terminate(master, FIGURES_GRACE_S)
                return True
            if time.monotonic() > deadline:
                raise LoadError(
                    f"the Locust master did not end within {bound_s:g} s\n{master.output()}"
                )
    return False


@contextlib.contextmanager
def _signals_set() -> Iterator[threading.Event]:
    """An event that Ctrl-C and SIGTERM set while the block runs (the main thread only)."""
    stop = threading.Event()
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: the default stays
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _figures(
    path: Path, master: DutProcess, interrupted: bool, say: Callable[[str], None]
) -> LoadStats:
    """The figures the master wrote; what went wrong when it wrote none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        if interrupted:
            raise KeyboardInterrupt from None
        raise LoadError(
            f"the Locust master (exit status {master.poll()}) ended without figures; "
            f"its last output:\n{master.output()}"
        ) from None
    stats = LoadStats.from_wire(data["stats"])
    stats.interrupted = interrupted
    for client_id in data["silent_workers"]:
        say(f"note: worker {client_id} sent no final figures: its last seconds are missing")
    return stats


def _terminate(process: DutProcess, grace_s: float) -> None:
    """SIGTERM, up to `grace_s` to end on its own terms, then stopped as any DUT process is
    (its process group and every process it started, killed)."""
    if process.poll() is None and grace_s > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace_s)
    process.stop()
