"""Many simulated devices against one DM server at once, every exchange judged by the core.

    stats = run_load(load_dut("server.yaml"), LoadSettings(devices=500, duration_s=30))

One asyncio loop drives every device: each runs the core's ClientSession (synchronous, sans I/O)
through the load mode's device cycle (cycle.py) and awaits only its HTTP, through its own
httpx.AsyncClient. Every answer goes through the judge (`judge_server_answer`), so a server that
breaks a requirement only under load is caught and named. The server is started and stopped
through its DUT file (`ServerUnderTest`), its `enqueue` hook can give each device commands before
the load starts, and the run is bounded: by its duration (sessions still open then are cut off,
not waited for), by a deadline on every request, and by Ctrl-C or SIGTERM, which end it early
with the figures so far."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import math
import os
import signal
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from conformance.core.device import Device
from conformance.dut import DutFile
from conformance.load.cycle import (
    ERROR_BACKOFF_S,
    Answer,
    clone_device,
    device_cycle,
    device_prefix,
)
from conformance.load.stats import LoadStats
from conformance.profiles import Profile, load_profile
from conformance.roles.http import client_context
from conformance.roles.reference_client import simulated_device
from conformance.roles.server_under_test import ServerUnderTest


class LoadError(Exception):
    """The load cannot run (the DUT file is no server's, the server does not start, …)."""


@dataclass(frozen=True)
class LoadSettings:
    """How much load, for how long."""

    devices: int
    duration_s: float
    rate: float | None = None  # sessions started per second, all devices together; None: flat out
    timeout_s: float | None = None  # deadline of every request; None: the DUT file's timeout_s
    enqueue: int = 0  # commands queued per device through the enqueue hook, one batch each
    ramp_s: float = 1.0  # devices start evenly spread over this many seconds
    hook_workers: int = 0  # enqueue hooks run at once; 0: twice the cores


# -- the devices ----------------------------------------------------------------------------------
class _Pacer:
    """Hands out session starts at `rate` per second, in the order they are asked for."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = time.monotonic()

    async def turn(self) -> None:
        now = time.monotonic()
        slot = max(self.next, now)
        self.next = slot + self.interval
        await asyncio.sleep(slot - now)


class LoadRun:
    """The devices of one run, sharing one pacer and one LoadStats."""

    def __init__(
        self,
        profile: Profile,
        url: str,
        device_ids: list[str],
        settings: LoadSettings,
        timeout_s: float,
        stats: LoadStats,
        server_pid: int | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.profile = profile
        self.tls = tls or client_context()  # verifies the server as the DUT file says
        self.server_pid = server_pid  # for its CPU time, when we started it
        self.url = url
        self.settings = settings
        self.timeout_s = timeout_s
        self.stats = stats
        template = simulated_device(device_ids[0] if device_ids else "", profile)
        self.devices = [clone_device(template, d, profile) for d in device_ids]
        self.in_session = [False] * len(device_ids)
        self.pacer = _Pacer(settings.rate) if settings.rate else None
        self.max_body = profile.limits.max_body_bytes

    async def run(self, stop: asyncio.Event) -> LoadStats:
        """Run every device until the duration is over or `stop` is set; cut off the rest."""
        count = len(self.devices)
        # One client, so one connection, per device, as a fleet has: httpcore's pool looks at
        # every connection it holds on every request, so one shared pool of N connections
        # costs O(N) per request. The TLS context (https servers) is made once for all.
        tls = self.tls
        clients = [
            httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s),
                limits=httpx.Limits(max_connections=2, max_keepalive_connections=1),
                verify=tls,
                trust_env=False,
                follow_redirects=False,
            )
            for _ in range(count)
        ]
        started, cpu = time.monotonic(), time.process_time()
        server_cpu = process_cpu_s(self.server_pid)
        tasks = [
            asyncio.create_task(self._device_loop(client, index))
            for index, client in enumerate(clients)
        ]
        stopper = asyncio.create_task(stop.wait())
        try:
            await _wait_until(stopper, self.settings.duration_s)
        finally:
            self.stats.elapsed_s = time.monotonic() - started
            self.stats.cpu_s = time.process_time() - cpu
            self.stats.server_cpu_s = process_cpu_s(self.server_pid) - server_cpu
            self.stats.cut_off = sum(self.in_session)
            for task in (*tasks, stopper):
                task.cancel()
            await asyncio.gather(*tasks, stopper, return_exceptions=True)
            await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)
        return self.stats

    async def _device_loop(self, http: httpx.AsyncClient, index: int) -> None:
        if self.settings.ramp_s > 0 and len(self.devices) > 1:
            await asyncio.sleep(self.settings.ramp_s * index / len(self.devices))
        device = self.devices[index]
        while True:
            if self.pacer is not None:
                await self.pacer.turn()
            self.in_session[index] = True
            try:
                ok = await self._cycle(http, device)
            except Exception as exc:  # a bug must not silently stop a device: count it, go on
                self.stats.session_ended(0.0, True, f"harness error: {type(exc).__name__}: {exc}")
                ok = False
            self.in_session[index] = False
            if not ok:
                await asyncio.sleep(ERROR_BACKOFF_S)

    async def _cycle(self, http: httpx.AsyncClient, device: Device) -> bool:
        """One cycle of the device (a session and its follow-ups), its requests awaited; False
        after a transport error."""
        cycle = device_cycle(self.profile, device, self.url, self.stats)
        try:
            request = next(cycle)
            while True:
                answer = await self._request(
                    request.method, request.url, request.headers, request.body, http
                )
                request = cycle.send(answer)
        except StopIteration as end:
            return bool(end.value)

    async def _request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        http: httpx.AsyncClient,
    ) -> Answer | str:
        """One bounded request: the answer, or what went wrong, in words."""
        try:
            async with asyncio.timeout(self.timeout_s):
                async with http.stream(method, url, headers=headers, content=body or None) as r:
                    chunks, size = [], 0
                    async for chunk in r.aiter_bytes():
                        size += len(chunk)
                        if size > self.max_body:
                            return f"answer larger than {self.max_body} bytes"
                        chunks.append(chunk)
                    return Answer(r.status_code, r.headers, b"".join(chunks))
        except TimeoutError:
            return f"no complete answer within {self.timeout_s} s"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:200] if str(exc) else type(exc).__name__


def process_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc); NaN when unknown."""
    if pid is None:
        return math.nan
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return math.nan


async def _wait_until(stopper: asyncio.Task[object], seconds: float) -> None:
    """Return after `seconds`, or sooner when `stopper` finishes."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(stopper), timeout=seconds)


# -- the run ------------------------------------------------------------------------------------
def load_commands(dut: DutFile, profile: Profile, count: int) -> list[list[list[str]]]:
    """`count` batches of one command each for a device, from what the DUT file declares and the
    simulated device can do without any other host: INCLUDE of the permanent node (A9), EXEC of
    the executable node without a ServerURI, INCLUDE of an instance."""
    menu = []
    ixit = dut.ixit
    include, execute = profile.for_action("include").name, profile.for_action("exec").name
    if dut.declares(include):
        menu.append([include, str(ixit.get("permanent_uri", "urn:oma:mo:oma-dm-devinfo:1.0/0"))])
    if dut.declares(execute) and ixit.get("exec_uri"):
        menu.append([execute, str(ixit["exec_uri"])])
    if dut.declares(include) and ixit.get("instance_uri"):
        menu.append([include, str(ixit["instance_uri"])])
    if count and not menu:
        raise LoadError(f"{dut.name} declares neither {include} nor {execute}: nothing to enqueue")
    return [[menu[i % len(menu)]] for i in range(count)]


def check_settings(dut: DutFile, settings: LoadSettings) -> tuple[Profile, list[list[list[str]]]]:
    """The DUT file's profile and the batches to enqueue per device, once the DUT file and the
    settings are known to make a load (LoadError otherwise)."""
    if dut.role != "server":
        raise LoadError(
            f"{dut.path}: the load mode needs a DM server's DUT file, not a {dut.role}'s"
        )
    if settings.devices < 1 or not math.isfinite(settings.duration_s) or settings.duration_s <= 0:
        raise LoadError("--devices must be at least 1 and --duration a positive number of seconds")
    if settings.rate is not None and settings.rate <= 0:
        raise LoadError("--rate must be a positive number of sessions per second")
    profile = load_profile(dut.profile)
    batches = load_commands(dut, profile, settings.enqueue)
    if batches and not dut.has("enqueue"):
        raise LoadError(f"--enqueue needs a server.enqueue command in {dut.path.name}")
    return profile, batches


def enqueue_all(
    server: ServerUnderTest,
    device_ids: list[str],
    batches: list[list[list[str]]],
    workers: int,
    log: Path,
    stats: LoadStats,
) -> None:
    """Every device's batches through the DUT's enqueue hook, `workers` hooks at a time."""
    started = time.monotonic()

    def one(device_id: str) -> None:
        for batch in batches:
            problem = server.enqueue(device_id, batch, log)
            if problem:
                stats.enqueue_problems[problem[:200]] += 1
                return

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="enqueue") as pool:
        futures = [pool.submit(one, d) for d in device_ids]
        try:
            for future in futures:
                future.result()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    stats.enqueue_s = time.monotonic() - started


def device_ids(dut: DutFile, count: int) -> list[str]:
    """One ID per device: the DUT file's ixit device_id, a tag of this run, the device's number."""
    prefix = device_prefix(dut)
    return [f"{prefix}-{index:05d}" for index in range(count)]


async def _main(run: LoadRun) -> LoadStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    previous = {}  # Ctrl-C and SIGTERM end the load early; whoever handled them before, after
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            handler = signal.getsignal(sig)
            loop.add_signal_handler(sig, stop.set)
            previous[sig] = handler
    try:
        return await run.run(stop)
    finally:
        for sig, handler in previous.items():
            loop.remove_signal_handler(sig)
            signal.signal(sig, handler)
        run.stats.interrupted = stop.is_set()


def run_load(
    dut: DutFile,
    settings: LoadSettings,
    workdir: Path,
    say: Callable[[str], None] = print,
) -> LoadStats:
    """Start the DUT server (if its file says how), enqueue, run the load, stop the server."""
    profile, batches = check_settings(dut, settings)
    timeout_s = settings.timeout_s or dut.timeout_s
    stats = LoadStats(devices=settings.devices)
    ids = device_ids(dut, settings.devices)
    server = ServerUnderTest(dut, workdir, dut.timeout_s)
    try:
        server.start()
        if server.error:
            raise LoadError(
                f"the server under test is not usable: {server.error}\n{server.output()}"
            )
        say(f"server under test: {dut.name} at {server.url}")
        if batches:
            workers = settings.hook_workers or 2 * (os.cpu_count() or 1)
            say(f"enqueue: {len(batches)} batch(es) for each of {len(ids)} devices …")
            enqueue_all(server, ids, batches, workers, workdir / "enqueue.log", stats)
        if importlib.util.find_spec("sniffio") is None:
            say(
                "note: sniffio is not installed, so httpcore fails to import it on every request "
                "(pip install 'dm20-conformance[load]' makes the generator faster)"
            )
        say(
            f"load: {settings.devices} devices for {settings.duration_s:g} s"
            + (f" at {settings.rate:g} sessions/s" if settings.rate else "")
            + f", {timeout_s:g} s per request"
        )
        pid = server.process.pid if server.process is not None else None
        tls = client_context(server.tls)  # the DUT file's server.tls: its CA, mutual TLS
        run = LoadRun(profile, server.url, ids, settings, timeout_s, stats, pid, tls)
        return asyncio.run(_main(run))
    finally:
        server.stop()
