"""Shared helpers of the core tests: the profile, a sample device, an in-process session driver."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from conformance.core.client import (
    Browse,
    ClientSession,
    Done,
    Fetch,
    Response,
    Send,
    Upload,
)
from conformance.core.codec import encode_client_message
from conformance.core.device import Device
from conformance.core.messages import ClientMessage, Command, Status
from conformance.core.observer import DeviceObserver, Routed
from conformance.core.server import ServerSession
from conformance.core.tnds import encode_document
from conformance.core.tree import Tree
from conformance.profiles import Profile, load_profile

# No example database: the tests write nothing outside tests/core.
settings.register_profile(
    "core", database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("core")

PROFILE: Profile = load_profile("dm20-draft")

DEVINFO = "urn:oma:mo:oma-dm-devinfo:1.0"
CONF = "urn:oma:mo:oma-dm-conformance:1.0"
SECRET = "urn:oma:mo:secret:1.0"
DEVICE_ID = "IMEI:493005100592800"
SESSION_URL = "http://srv.example/dm"
NO_CONTENT = Response(204)  # what an upload target answers by default

C = Command.of


def sc(name: str) -> int:
    """The profile's code for status `name` (never a literal in the tests)."""
    return PROFILE.status[name]


def cmd(action: str) -> str:
    """The wire name of the command that performs `action`."""
    return PROFILE.for_action(action).name


def client_headers(
    content_type: str | None,
    *,
    accept: str | None = PROFILE.accept.send,
    device_id: str | None = DEVICE_ID,
) -> dict[str, str]:
    """The headers of a client request as a conforming client sends them; None leaves one out."""
    names = PROFILE.headers
    headers = {names.content_type: content_type, names.accept: accept, names.device_id: device_id}
    return {k: v for k, v in headers.items() if v is not None}


def post_message(
    observer: DeviceObserver,
    message: ClientMessage,
    *,
    url: str = SESSION_URL,
    content_type: str | None = None,
    accept: str | None = PROFILE.accept.send,
    device_id: str | None = DEVICE_ID,
) -> Routed:
    """Encode `message` as the core's client does and hand it to `observer` as sent to `url`;
    `content_type` replaces the encoded Content-Type."""
    encoded_type, body = encode_client_message(message, PROFILE)
    headers = client_headers(content_type or encoded_type, accept=accept, device_id=device_id)
    return observer.client_message(url, headers, body)


def post_bytes(
    observer: DeviceObserver, content_type: str | None, body: bytes, *, url: str = SESSION_URL
) -> Routed:
    """Hand `observer` a client request with good headers and this Content-Type and body."""
    return observer.client_message(url, client_headers(content_type), body)


def tree_data() -> dict[str, dict[str, Any]]:
    """The sample device's tree: devinfo (permanent), a conformance MO with two instances (one
    with an executable node and a three-level subtree), a private MO."""
    return {
        DEVINFO: {"0": {"DevID": DEVICE_ID, "Man": "Acme", "Mod": "X1", "DmV": "2.0"}},
        CONF: {
            "0": {"Name": "zero", "Reboot": "", "Sub": {"A": {"B": 1, "C": {"D": True}}}},
            "1": {"Name": "one"},
        },
        SECRET: {"0": {"Key": "k"}},
    }


def make_tree() -> Tree:
    return Tree(
        tree_data(),
        permanent=[f"{DEVINFO}/0"],
        executable=[f"{CONF}/0/Reboot"],
        private=[SECRET],
    )


def make_device(features: Sequence[str] | None = None, *, without: Sequence[str] = ()) -> Device:
    """The sample device; by default it declares every feature of the profile."""
    declared = frozenset(PROFILE.features if features is None else features) - set(without)
    return Device(DEVICE_ID, {"DevID": DEVICE_ID, "Man": "Acme"}, make_tree(), declared)


def tnds(document: Mapping[str, Any]) -> Response:
    """A successful HTTP answer carrying a tnds20 document."""
    return Response(PROFILE.http_ok, PROFILE.media.tnds, encode_document(dict(document)))


@dataclass
class Run:
    """What one driven session did."""

    done: Done
    device: Device
    sends: list[Send] = field(default_factory=list)
    fetches: list[str] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    browses: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # the kind of every action, in order
    server: ServerSession | None = None

    def statuses(self, batch: int) -> tuple[Status, ...]:
        """The statuses the client sent for the server's `batch`-th command message."""
        return self.sends[batch + 1].message.statuses


Responder = Callable[[Send], Response]
Content = Mapping[str, Response | Mapping[str, Any] | None]


def drive_with(
    responder: Responder,
    *,
    device: Device | None = None,
    content: Content | None = None,
    upload: Response | None = NO_CONTENT,
    browse: bool = True,
    url: str = SESSION_URL,
    max_steps: int = 10_000,
) -> Run:
    """Run a ClientSession until Done: `responder` answers each Send; `content` answers each Fetch
    (a document is served as tnds20, a Response as is, None as a failed fetch); every Upload gets
    `upload`, every Browse `browse`."""
    device = device or make_device()
    session = ClientSession(PROFILE, device, url)
    run = Run(Done(True, "not run"), device)
    content = content or {}
    action: Any = session.start()
    for _ in range(max_steps):
        run.log.append(type(action).__name__)
        if isinstance(action, Done):
            run.done = action
            return run
        if isinstance(action, Send):
            run.sends.append(action)
            session.receive(responder(action))
        elif isinstance(action, Fetch):
            run.fetches.append(action.url)
            served = content.get(action.url)
            if served is not None and not isinstance(served, Response):
                served = tnds(served)
            session.complete(served)
        elif isinstance(action, Upload):
            run.uploads.append(action)
            session.complete(upload)
        elif isinstance(action, Browse):
            run.browses.append(action.url)
            session.complete(browse)
        else:  # pragma: no cover - a new action kind
            raise AssertionError(f"unknown action {action!r}")
        action = session.next_action()
    raise AssertionError(f"session not done after {max_steps} steps")


def drive(
    script: Sequence[Sequence[Command]],
    *,
    device: Device | None = None,
    content: Content | None = None,
    upload: Response | None = NO_CONTENT,
    browse: bool = True,
) -> Run:
    """Run a ClientSession against a ServerSession that sends `script` (END added to the last
    batch), and keep the server to inspect its findings."""
    server = ServerSession(PROFILE, SESSION_URL, script)

    def respond(send: Send) -> Response:
        reply = server.receive(send.url, send.headers, send.body)
        return Response(reply.status, reply.headers.get(PROFILE.headers.content_type), reply.body)

    run = drive_with(respond, device=device, content=content, upload=upload, browse=browse)
    run.server = server
    return run


@pytest.fixture
def profile() -> Profile:
    return PROFILE


@pytest.fixture
def tree() -> Tree:
    return make_tree()
