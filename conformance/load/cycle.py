"""A simulated device of the load mode, sans I/O. One cycle is a session and the follow-up
sessions it asked for (A10), written as a generator that yields every HTTP request and is sent
the answer, or what went wrong in words. Both engines drive it, the asyncio loop (runner.py) and
Locust's workers (locust_devices.py), so the sessions and their judging are the same code
whichever engine carries the requests:

    cycle = device_cycle(profile, device, url, recorder)
    request = next(cycle)
    while True:                   # StopIteration's value: True, or False after a transport error
        request = cycle.send(answer_to(request))

Every server answer goes through the judge (`judge_server_answer`); what a cycle sees goes to
its recorder (a `LoadStats`, or anything with the same four methods)."""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from conformance.core.client import Browse, ClientSession, Done, Fetch, Response, Send, Upload
from conformance.core.device import Device
from conformance.core.judge import header, judge_server_answer
from conformance.core.messages import Alert
from conformance.core.rules import Finding
from conformance.dut import DutFile
from conformance.load.findings import never_ended
from conformance.profiles import Profile

MAX_FOLLOW_UPS = 10  # sessions an EXEC may ask for after one session (A10), per cycle
ERROR_BACKOFF_S = 0.05  # a device whose request failed waits this long before its next cycle
DEFAULT_DEVICE_ID = "IMEI:000000000000000"  # when the DUT file gives no ixit device_id


@dataclass(frozen=True)
class Request:
    """An HTTP request of a device: a session's message (`exchange`), or a request one of the
    server's commands asked for (a fetch, an upload, a browser page)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    exchange: bool


@dataclass(frozen=True)
class Answer:
    """The server's answer to a request."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Recorder(Protocol):
    """Where a cycle reports what it saw (`LoadStats` is one)."""

    def exchange(self, seconds: float) -> None: ...

    def error(self, what: str) -> None: ...

    def judged(self, findings: list[Finding], where: str) -> None: ...

    def session_ended(self, seconds: float, aborted: bool, reason: str) -> None: ...


Cycle = Generator[Request, Answer | str, bool]


def device_cycle(profile: Profile, device: Device, url: str, recorder: Recorder) -> Cycle:
    """One session at `url` and the follow-up sessions it asked for; returns False after a
    transport error. Requests a command asks for go only to `url`'s host and port."""
    allowed = urlsplit(url).netloc
    pending: list[tuple[str, Alert | None]] = [(url, None)]
    follow_ups = 0
    while pending:
        session_url, alert = pending.pop(0)
        session = ClientSession(
            profile, device, session_url, alerts=(alert,) if alert is not None else None
        )
        done = yield from _session(profile, session, allowed, recorder)
        if done is None:
            return False
        for follow_up in done.follow_ups:
            if follow_ups < MAX_FOLLOW_UPS:
                pending.append((follow_up.url, follow_up.alert))
                follow_ups += 1
    return True


def _session(
    profile: Profile, session: ClientSession, allowed: str, recorder: Recorder
) -> Generator[Request, Answer | str, Done | None]:
    """One session from its first message to its end: how it ended, None after a transport
    error."""
    begin = time.perf_counter()
    device_id = session.device.device_id
    action: Send | Done = session.start()
    while isinstance(action, Send):
        sent = time.perf_counter()
        answer = yield Request("POST", action.url, action.headers, action.body, True)
        if isinstance(answer, str):
            recorder.error(answer)
            recorder.session_ended(0.0, True, "transport error (see above)")
            return None
        recorder.exchange(time.perf_counter() - sent)
        _, findings = judge_server_answer(answer.status, answer.headers, answer.body, profile)
        recorder.judged(findings, f"{device_id}: POST {action.url} -> {answer.status}")
        session.receive(_received(answer, profile))
        action = yield from _until_send(profile, session, allowed)
    if action.aborted and session.state.exchanges > session.state.max_exchanges:
        finding = never_ended(session.state.max_exchanges)
        recorder.judged([finding], f"{device_id}: session at {session.state.url}")
    recorder.session_ended(time.perf_counter() - begin, action.aborted, action.reason)
    return action


def _until_send(
    profile: Profile, session: ClientSession, allowed: str
) -> Generator[Request, Answer | str, Send | Done]:
    """Carry out the session's fetches, uploads and browser loads until it has a message to
    send or is done (Driver.until_send, as requests)."""
    action = session.next_action()
    while isinstance(action, Fetch | Upload | Browse):
        if isinstance(action, Fetch):
            answer = yield from _side(Request("GET", action.url, {}, b"", False), allowed)
            session.complete(_response(answer, profile))
        elif isinstance(action, Upload):
            upload = Request(action.method, action.url, action.headers, action.body, False)
            session.complete(_response((yield from _side(upload, allowed)), profile))
        else:
            accept = {profile.headers.accept: profile.media.web}
            page = yield from _side(Request("GET", action.url, accept, b"", False), allowed)
            session.complete(isinstance(page, Answer) and page.status == profile.http_ok)
        action = session.next_action()
    return action


def _side(request: Request, allowed: str) -> Generator[Request, Answer | str, Answer | str]:
    """A request a command asks for: only to the server under test's own host."""
    netloc = urlsplit(request.url).netloc
    if netloc != allowed:
        return f"refused: {netloc} is not the server under test"
    return (yield request)


def _response(answer: Answer | str, profile: Profile) -> Response | None:
    return None if isinstance(answer, str) else _received(answer, profile)


def _received(answer: Answer, profile: Profile) -> Response:
    content_type = header(answer.headers, profile.headers.content_type)
    return Response(answer.status, content_type, answer.body)


# -- the devices of a run -----------------------------------------------------------------------
def device_prefix(dut: DutFile | None) -> str:
    """What every device ID of a run starts with: the DUT file's ixit device_id and a tag of
    this run."""
    base = str(dut.ixit.get("device_id", DEFAULT_DEVICE_ID)) if dut else DEFAULT_DEVICE_ID
    return f"{base}-load{random.getrandbits(16):04x}"


def worker_device_id(prefix: str, worker: int, number: int) -> str:
    """The ID of a Locust worker's `number`th device: unique across the workers of a run, and
    known beforehand, so the harness can enqueue commands for it."""
    return f"{prefix}-w{worker}-{number:05d}"


def clone_device(template: Device, device_id: str, profile: Profile) -> Device:
    """A copy of the `template` device under `device_id`."""
    device = copy.deepcopy(template)
    device.device_id = device_id
    device.devinfo = {**device.devinfo, profile.keys.devid: device_id}
    return device
