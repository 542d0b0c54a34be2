"""A locustfile whose users are simulated DM devices. Only Locust imports it, in processes of its
own (`locust -f …/locust_devices.py`, started by `dm20-conformance load --engine locust` or by
hand); the harness never does, because importing Locust monkey-patches the interpreter (gevent).

Every user drives the load mode's device cycle (cycle.py: a core ClientSession, every server
answer judged by `judge_server_answer`) over Locust's FastHttpUser client, and reports to Locust:

- every HTTP request, named `exchange` (a session's message) or `command request` (a fetch,
  upload or page a command asked for), failed on a transport error or an HTTP error status;
- one `session` event per session (request type SESSION) with its duration, failed with the
  reason when it was aborted;
- one event per requirement an exchange broke (request type NONCONFORMANT), named by the
  requirement and failed with the judge's message;

so Locust's web UI, charts, CSV/HTML reports and --headless statistics show them unchanged (its
`Aggregated` row adds the three kinds together: sessions/s is the SESSION row's rate).

The load mode's own figures (LoadStats: findings by requirement, sessions, latencies) go from
every worker to the master as Locust custom messages:

- `dm20-stats` (worker to master): the figures since the last one, each time Locust reports its
  own statistics, and once more marked final when the worker stops;
- `dm20-flush` (master to worker): the test is over: stop your devices, send your final figures.
  The master waits for them (bounded) before it prints the report `dm20-conformance load` prints
  and writes it to --dm-stats-json.

Alone (no --master), one process is all of it:

    locust -f conformance/load/locust_devices.py --host http://127.0.0.1:8080/dm \\
        --headless -u 100 -r 100 -t 30s

A device asks for no content coding (Accept-Encoding: identity), so the body it reads, up to the
profile's bound, is the body it judges."""

from __future__ import annotations

import itertools
import json
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, events, task
from locust.contrib.fasthttp import LocustUserAgent
from locust.env import Environment
from locust.rpc.protocol import Message
from locust.runners import STATE_MISSING, MasterRunner, Runner, WorkerRunner

from conformance.core.device import Device
from conformance.core.rules import Finding
from conformance.load.cycle import (
    ERROR_BACKOFF_S,
    Answer,
    Request,
    clone_device,
    device_cycle,
    device_prefix,
    worker_device_id,
)
from conformance.load.findings import failed
from conformance.load.stats import LoadStats
from conformance.profiles import load_profile
from conformance.roles.reference_client import simulated_device

STATS = "dm20-stats"
FLUSH = "dm20-flush"
FLUSH_TIMEOUT_S = 10.0  # how long the master waits for the workers' final figures
READ_CHUNK = 65536
EVERY_STATUS = frozenset(range(100, 600))  # the judge, not the transport, judges a status
SESSION, NONCONFORMANT = "SESSION", "NONCONFORMANT"  # request types of our own events


class SessionAborted(Exception):
    """A session the server did not end: aborted (what Locust lists as the session's failure)."""


class NonConformant(Exception):
    """A requirement an exchange broke (what Locust lists as the requirement's failure)."""


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("dm20-conformance (simulated DM devices)")
    group.add_argument(
        "--dm-profile", default="", help="wire profile: a shipped name (default: the default one)"
    )
    group.add_argument(
        "--dm-device-prefix",
        default="",
        help="device IDs are PREFIX-w<worker>-<number> (default: a test device ID and a tag)",
    )
    group.add_argument(
        "--dm-timeout", type=float, default=10.0, help="deadline of every request, s (default: 10)"
    )
    group.add_argument(
        "--dm-pace",
        type=float,
        default=0.0,
        help="seconds from the start of one of a device's sessions to its next (default: 0, "
        "as fast as answered)",
    )
    group.add_argument(
        "--dm-ca-file",
        default="",
        help="https servers: verify the server's certificate against this CA bundle (default: "
        "the system's CAs); never unverified",
    )
    group.add_argument("--dm-cert", default="", help="https: the device's certificate (mutual TLS)")
    group.add_argument("--dm-key", default="", help="https: the key of --dm-cert")
    group.add_argument(
        "--dm-stats-json",
        default="",
        help="the master (or a lone process) writes the load mode's figures to this file",
    )


def _parsed(environment: Environment) -> Any:
    """Locust's parsed options, ours among them (parsed before any user or listener runs)."""
    if environment.parsed_options is None:
        raise RuntimeError("Locust has not parsed its options yet")
    return environment.parsed_options


def _runner(environment: Environment) -> Runner:
    """The runner of this process (there is one once Locust's init event has fired)."""
    if environment.runner is None:
        raise RuntimeError("Locust has no runner yet")
    return environment.runner


def _verifying(options: Any) -> Callable[..., ssl.SSLContext]:
    """The TLS context factory of every device: the server's certificate verified against
    --dm-ca-file (or the system's CAs), --dm-cert presented; never Locust's unverified default."""

    def context(**_: Any) -> ssl.SSLContext:
        made = ssl.create_default_context(cafile=options.dm_ca_file or None)  # gevent's, patched
        if options.dm_cert:
            made.load_cert_chain(options.dm_cert, options.dm_key or None)
        return made

    return context


class Fleet:
    """This process's share of the run, and the recorder of its devices' cycles: the figures
    since the last report (a worker), or of the whole run (the master, a lone process)."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.stats = LoadStats()
        self.sent = LoadStats()  # a worker's own totals: everything it sent
        self.final_from: set[str] = set()  # the master: workers whose final figures arrived
        self.final_sent = False  # a worker: its final figures of this test are sent
        self.in_session: set[int] = set()  # devices inside a cycle (cut off if stopped there)
        self.numbers = itertools.count()  # across tests, so that every device ID is new
        self.created = 0  # devices of this test
        self.started = self.cpu_mark = 0.0
        self.template: Device | None = None

    # -- the devices ----------------------------------------------------------------------------
    def new_device(self) -> Device:
        """The next device of this process (the master's options have reached a worker once
        its first user starts)."""
        options = _parsed(self.environment)
        if self.template is None:
            self.profile = (
                load_profile(options.dm_profile) if options.dm_profile else load_profile()
            )
            self.prefix = options.dm_device_prefix or device_prefix(None)
            self.timeout_s = float(options.dm_timeout)
            self.max_body = self.profile.limits.max_body_bytes
            self.template = simulated_device("", self.profile)
        worker = max(getattr(self.environment.runner, "worker_index", 0), 0)
        self.created += 1
        device_id = worker_device_id(self.prefix, worker, next(self.numbers))
        return clone_device(self.template, device_id, self.profile)

    # -- the recorder a cycle reports to --------------------------------------------------------
    def exchange(self, seconds: float) -> None:
        self.stats.exchange(seconds)

    def error(self, what: str) -> None:
        self.stats.error(what)

    def judged(self, findings: list[Finding], where: str) -> None:
        self.stats.judged(findings, where)
        for finding in failed(findings):
            self._event(NONCONFORMANT, finding.requirement, 0.0, NonConformant(finding.message))

    def session_ended(self, seconds: float, aborted: bool, reason: str) -> None:
        self.stats.session_ended(seconds, aborted, reason)
        self._event(SESSION, "session", seconds * 1000, SessionAborted(reason) if aborted else None)

    def _event(self, kind: str, name: str, ms: float, exception: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type=kind,
            name=name,
            response_time=ms,
            response_length=0,
            exception=exception,
            context={},
        )

    # -- the test's start and end ---------------------------------------------------------------
    def test_start(self, **_: Any) -> None:
        self.stats, self.sent = LoadStats(), LoadStats()
        self.final_from.clear()
        self.final_sent = False
        self.in_session.clear()
        self.created = 0
        self.started, self.cpu_mark = time.monotonic(), time.process_time()

    def report(self, **_: Any) -> None:
        """A worker: Locust is sending its statistics to the master; send ours along."""
        news = self.stats.exchanges.values or self.stats.aborted or self.stats.errors
        if news or self.stats.violations:
            self._send(final=False)

    def flush(self, environment: Environment, msg: Message, **_: Any) -> None:
        """A worker, told by the master that the test is over: stop the devices (which sends the
        final figures), or send them again if it had stopped already."""
        _runner(environment).stop()
        if not self.final_sent:
            self._send(final=True)

    def worker_stopped(self, **_: Any) -> None:
        self._send(final=True)
        self.sent.elapsed_s = time.monotonic() - self.started
        self.sent.devices = self.created
        print(f"dm20 worker figures (sent to the master):\n{self.sent.report()}", flush=True)

    def _send(self, final: bool) -> None:
        now = time.process_time()
        self.stats.cpu_s, self.cpu_mark = now - self.cpu_mark, now
        if final:
            self.stats.cut_off = len(self.in_session)
            self.in_session.clear()
            self.final_sent = True
        _runner(self.environment).send_message(
            STATS, {"final": final, "stats": self.stats.to_wire()}
        )
        self.sent.merge(self.stats)
        self.stats = LoadStats()

    def received(self, environment: Environment, msg: Message, **_: Any) -> None:
        """The master: a worker's figures."""
        self.stats.merge(LoadStats.from_wire(msg.data["stats"]))
        if msg.data["final"]:
            self.final_from.add(msg.node_id)

    def master_stopped(self, **_: Any) -> None:
        """The master: ask every worker for its final figures, wait for them (bounded), then
        print and write the run's figures."""
        elapsed = time.monotonic() - self.started
        runner = _runner(self.environment)
        assert isinstance(runner, MasterRunner)  # registered on the master only
        asked = {c.id for c in runner.clients.all if c.state != STATE_MISSING} - self.final_from
        for client_id in asked:
            runner.send_message(FLUSH, None, client_id)
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        while not asked <= self.final_from and time.monotonic() < deadline:
            gevent.sleep(0.05)
        self._finish(elapsed, sorted(asked - self.final_from))

    def alone_stopped(self, **_: Any) -> None:
        """A lone process (no master, no workers): it counted everything itself."""
        self.stats.cpu_s = time.process_time() - self.cpu_mark
        self.stats.cut_off = len(self.in_session)
        self._finish(time.monotonic() - self.started, [])

    def _finish(self, elapsed: float, silent: list[str]) -> None:
        self.stats.elapsed_s = elapsed
        self.stats.devices = int(getattr(self.environment.runner, "target_user_count", 0) or 0)
        print(f"dm20-conformance load figures (every worker):\n{self.stats.report()}", flush=True)
        for client_id in silent:
            print(f"note: worker {client_id} sent no final figures within {FLUSH_TIMEOUT_S:g} s")
        path = _parsed(self.environment).dm_stats_json
        if path:
            data = {"stats": self.stats.to_wire(), "silent_workers": silent}
            Path(path).write_text(json.dumps(data), encoding="utf-8")


_fleet: Fleet | None = None


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    global _fleet
    _fleet = fleet = Fleet(environment)
    runner, on = environment.runner, environment.events
    on.test_start.add_listener(fleet.test_start)
    if isinstance(runner, MasterRunner):
        runner.register_message(STATS, fleet.received)
        on.test_stop.add_listener(fleet.master_stopped)
    elif isinstance(runner, WorkerRunner):
        runner.register_message(FLUSH, fleet.flush)
        on.report_to_master.add_listener(fleet.report)
        on.test_stop.add_listener(fleet.worker_stopped)
    else:
        on.test_stop.add_listener(fleet.alone_stopped)


class DmDevice(FastHttpUser):
    """A simulated DM device: the sample client's factory device under its own ID, opening a
    session (and the follow-ups its commands ask for) at --host, the server's session URL."""

    def __init__(self, environment: Environment) -> None:
        if _fleet is None:
            raise RuntimeError("Locust starts users only after its init event")
        self.fleet = _fleet
        self.device = self.fleet.new_device()
        self.network_timeout = self.connection_timeout = self.fleet.timeout_s
        self.insecure = False
        self.ssl_context_factory = _verifying(_parsed(environment))
        super().__init__(environment)
        # Every status reaches us, so that we read its body within bounds (geventhttpclient reads
        # all of a body it finds bad, to quote it); the exchange fails in Locust's table for the
        # statuses Locust's client would have failed.
        self.client.client.valid_response_codes = EVERY_STATUS  # type: ignore[misc]  # per user
        self.failed = False
        self.cycle_started = 0.0

    def wait_time(self) -> float:
        pause = ERROR_BACKOFF_S if self.failed else 0.0
        pace = float(_parsed(self.environment).dm_pace)
        if pace > 0:
            pause = max(pause, pace - (time.monotonic() - self.cycle_started))
        return pause

    @task
    def cycle(self) -> None:
        """One cycle: a session and its follow-ups."""
        self.cycle_started = time.monotonic()
        self.fleet.in_session.add(id(self))
        try:
            self.failed = not self._cycle()
        except Exception as exc:  # a bug must not silently stop a device: count it, go on
            reason = f"harness error: {type(exc).__name__}: {exc}"
            self.fleet.session_ended(0.0, True, reason)
            self.failed = True
        self.fleet.in_session.discard(id(self))

    def _cycle(self) -> bool:
        cycle = device_cycle(self.fleet.profile, self.device, str(self.host), self.fleet)
        try:
            request = next(cycle)
            while True:
                request = cycle.send(self._request(request))
        except StopIteration as end:
            return bool(end.value)

    def _request(self, request: Request) -> Answer | str:
        """One request through Locust's client, bounded in time as a whole and in body size:
        the answer, or what went wrong, in words."""
        deadline = gevent.Timeout(self.fleet.timeout_s)
        deadline.start()
        try:
            with self.client.request(
                request.method,
                request.url,
                name="exchange" if request.exchange else "command request",
                data=request.body or None,  # type: ignore[arg-type]  # bytes go as they are
                headers={**request.headers, "Accept-Encoding": "identity"},
                catch_response=True,
                stream=True,
                allow_redirects=False,
            ) as response:
                answer = self._read(response, deadline)
                if isinstance(answer, str):
                    response.failure(answer)
                elif answer.status not in LocustUserAgent.valid_response_codes:
                    response.failure(f"HTTP status {answer.status}")
                return answer
        except gevent.Timeout as expired:
            if expired is not deadline:
                raise
            return self._too_slow()
        finally:
            deadline.close()

    def _read(self, response: Any, deadline: gevent.Timeout) -> Answer | str:
        """The body of `response`, read up to the profile's bound before `deadline`."""
        error = getattr(response, "error", None)
        if error is not None:
            if not deadline.pending:
                return self._too_slow()
            text = f"{type(error).__name__}: {error}"[:200]
            return text if str(error) else type(error).__name__
        chunks, size = [], 0
        try:
            while chunk := response.read(READ_CHUNK):
                size += len(chunk)
                if size > self.fleet.max_body:
                    return f"answer larger than {self.fleet.max_body} bytes"
                chunks.append(chunk)
        except gevent.Timeout as expired:
            if expired is not deadline:
                raise
            return self._too_slow()
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"[:200]
        finally:
            response.release()
        return Answer(response.status_code, response.headers, b"".join(chunks))

    def _too_slow(self) -> str:
        return f"no complete answer within {self.fleet.timeout_s:g} s"
