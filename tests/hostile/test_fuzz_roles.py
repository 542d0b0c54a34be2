"""Fuzzing the roles: whatever a peer sends, the harness's side turns it into findings or an
exchange error, never an exception. Malformed server answers go over real loopback HTTP (a raw
socket server of our own) into the reference client; malformed client requests go over httpx into
a live reference server whose held requests a waiter judges with the observer; and the judge path
(`judge_server_answer`, `DeviceObserver`) takes random headers and bodies directly."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conformance.core.judge import judge_server_answer
from conformance.core.messages import Command
from conformance.core.observer import DeviceObserver
from conformance.core.rules import Finding
from conformance.profiles import load_profile
from conformance.roles.exchange import HttpExchange
from conformance.roles.reference_client import ReferenceClient, simulated_device
from conformance.roles.reference_server import ReferenceServer

PROFILE = load_profile("dm20-draft")
FUZZ = settings(
    max_examples=150,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
CONF = "urn:oma:mo:oma-dm-conformance:1.0"
NAMES = [c.name for c in PROFILE.commands]


# -- a loopback server that answers with whatever it is given -----------------------------------
class Canned:
    """A raw-socket HTTP server on 127.0.0.1: each request (whatever its path) gets the next of
    `answers` (the last one repeats), as raw bytes, and the connection is closed."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(32)
        self.listener.settimeout(0.2)
        self.answers: list[bytes] = [b""]
        self.served = 0
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.listener.getsockname()[1]}"

    def url(self, path: str = "dm") -> str:
        return f"http://{self.netloc}/{path}"

    def load(self, answers: list[bytes]) -> None:
        with self.lock:
            self.answers, self.served = answers, 0

    def _next(self) -> bytes:
        with self.lock:
            answer = self.answers[min(self.served, len(self.answers) - 1)]
            self.served += 1
            return answer

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                conn.settimeout(2)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip() or 0)
                while len(body) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                conn.sendall(self._next())
                conn.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.closed.set()
        self.thread.join(2)
        self.listener.close()


@pytest.fixture(scope="module")
def canned():
    server = Canned()
    yield server
    server.close()


# -- strategies ----------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
# Printable ASCII for what goes into HTTP headers (httpx refuses control characters there); a
# URL or ClientURI the server sends may hold any character at all.
printable = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)


def server_uris(netloc: str) -> st.SearchStrategy[str]:
    """URLs on the canned server (the allow-list refuses anything else before connecting)."""
    return st.one_of(
        st.text(max_size=30).map(lambda p: f"http://{netloc}/{p}"),
        st.just(f"http://{netloc}/dm"),
        st.sampled_from(["http://127.0.0.1:1/x", "ftp://x/y", "http://", "/relative", ""]),
    )


client_uris = st.one_of(
    st.sampled_from(
        [f"{CONF}/0", f"{CONF}/7", f"{CONF}/0/Reboot", "*", f"{CONF}/0?Levels=1", "", "/", ".."]
    ),
    st.text(max_size=30),
)


def commands(netloc: str) -> st.SearchStrategy[list[Any]]:
    param = st.one_of(server_uris(netloc), client_uris, st.text(max_size=10))
    name = st.one_of(st.sampled_from(NAMES), st.text(max_size=6))
    command = st.builds(lambda n, ps: [n, *ps], name, st.lists(param, max_size=3))
    return st.lists(command, max_size=6)


def bodies(netloc: str) -> st.SearchStrategy[bytes]:
    end = [["END"]]
    return st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        json_values.map(lambda v: json.dumps({"CMD": v}).encode()),
        commands(netloc).map(lambda c: json.dumps({"CMD": c}).encode()),
        commands(netloc).map(lambda c: json.dumps({"CMD": [*c, *end]}).encode()),
        st.integers(0, 3000).map(lambda n: json.dumps({"CMD": [["END"]] * n}).encode()),
        st.integers(990, 1010).map(
            lambda n: json.dumps({"CMD": [["DELETE", f"{CONF}/99"]] * n + end}).encode()
        ),
        st.integers(1, 3000).map(lambda n: b'{"CMD":' + b"[" * n + b"]" * n + b"}"),
    )


content_types = st.one_of(
    st.sampled_from(
        [
            "application/dm20",
            "application/dm20; charset=utf-8",
            "APPLICATION/DM20",
            "application/dm20status",
            "text/plain",
            "application/json",
            "multipart/mixed; boundary=x",
            "",
        ]
    ),
    printable,
    st.none(),
)
statuses = st.one_of(st.just(200), st.sampled_from([201, 204, 302, 400, 404, 500]))


def http_answer(status: int, content_type: str | None, body: bytes, lie: int) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {max(0, len(body) + lie)}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def answers(netloc: str) -> st.SearchStrategy[bytes]:
    well_framed = st.builds(
        http_answer, statuses, content_types, bodies(netloc), st.sampled_from([0, 0, 0, -1, 5])
    )
    return st.one_of(well_framed, well_framed, st.binary(max_size=200))


# -- the reference client against malformed answers --------------------------------------------
def drive(canned: Canned, raw: list[bytes]) -> list[Finding]:
    """One session of the reference client (as ServerRoleRun drives it) against `raw`."""
    canned.load(raw)
    client = ReferenceClient(PROFILE, simulated_device("IMEI:000000000000001", PROFILE), 1.0)
    client.driver.allowed = frozenset({canned.netloc})
    findings: list[Finding] = []
    try:
        exchange = client.send_first(canned.url())
        for _ in range(4):
            if exchange.error is None:
                _, found = judge_server_answer(
                    exchange.status, exchange.response_headers, exchange.response_body, PROFILE
                )
                findings += found
            exchange = client.send_statuses()
            if exchange is None:
                break
    finally:
        client.close()
    return findings


@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_reference_client_survives_any_server_answer(canned: Canned, data: st.DataObject) -> None:
    raw = data.draw(st.lists(answers(canned.netloc), min_size=1, max_size=3))
    findings = drive(canned, raw)
    assert all(isinstance(f, Finding) for f in findings)


def test_reference_client_survives_a_server_uri_httpx_cannot_parse(canned: Canned) -> None:
    bad = json.dumps({"CMD": [["GET", canned.url("doc\x7f"), f"{CONF}/7"], ["END"]]}).encode()
    drive(canned, [http_answer(200, "application/dm20", bad, 0)])


def test_describing_an_exchange_survives_deep_json() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    HttpExchange("POST", "http://127.0.0.1:9/dm", {}, deep, 200, {}, deep).describe()


# -- the reference server against malformed requests ------------------------------------------
@pytest.fixture(scope="module")
def reference():
    """A reference server whose session requests a waiter thread judges and answers with END,
    as ClientRoleRun does; `errors` collects what the waiter raised."""
    server = ReferenceServer(PROFILE, 2.0)
    errors: list[BaseException] = []
    stop = threading.Event()

    def waiter() -> None:
        observer = DeviceObserver(PROFILE)
        after = 0
        while not stop.is_set():
            event = server.wait_for({"session"}, after, 0.1)
            if event is None:
                continue
            after = event.seq
            try:
                exchange = event.exchange
                routed = observer.client_message(
                    event.url, exchange.request_headers, exchange.request_body
                )
                if routed.session is not None:
                    routed.session.commands((Command("END", ()),))
            except Exception as exc:
                errors.append(exc)
            finally:
                body = json.dumps({"CMD": [["END"]]}).encode()
                server.answer(event, 200, {"Content-Type": "application/dm20"}, body)

    with server:
        thread = threading.Thread(target=waiter, daemon=True)
        thread.start()
        with httpx.Client(timeout=5, trust_env=False) as http:
            yield server, http, errors
        stop.set()
        thread.join(2)


header_names = st.sampled_from(["Content-Type", "Accept", "X-OMADMDevID", "X-Other"])
header_values = printable  # httpx itself refuses to send control characters or edge spaces
request_bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps({"Status": v}).encode()),
    st.builds(
        lambda s, d: json.dumps({"Status": s, "DevInfo": d}).encode(),
        st.lists(st.fixed_dictionaries({"sc": st.integers()}), max_size=3),
        json_values,
    ),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
)


@settings(FUZZ, max_examples=60)
@given(
    path=st.sampled_from(["dm", "dm/a", "dm/" + "x" * 50, "content/none", "web/none"]),
    headers=st.dictionaries(header_names, header_values, max_size=4),
    body=request_bodies,
)
def test_reference_server_judges_any_request(reference, path, headers, body) -> None:
    server, http, errors = reference
    response = http.post(f"{server.base_url}/{path}", headers=headers, content=body)
    assert response.status_code in (200, 204, 404, 413), response.text
    assert not errors, f"the observer raised: {errors[-1]!r}"


# -- the judge path, directly --------------------------------------------------------------------
any_headers = st.dictionaries(
    st.one_of(header_names, st.text(max_size=10)), st.text(max_size=60), max_size=5
)


@FUZZ
@given(
    status=st.integers(-1, 999),
    headers=any_headers,
    body=st.one_of(bodies("127.0.0.1:9"), st.binary(max_size=500)),
)
@example(status=200, headers={"content-type": "application/dm20"}, body=b"[" * 100_000)
def test_judge_server_answer_never_raises(status, headers, body) -> None:
    message, findings = judge_server_answer(status, headers, body, PROFILE)
    assert all(isinstance(f, Finding) for f in findings)
    if message is None:
        assert findings, "an answer without a message and without a finding"


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("message"),
            st.sampled_from(["http://h/dm", "http://h/dm/a", ""]),
            any_headers,
            request_bodies,
        ),
        st.tuples(st.just("commands"), commands("127.0.0.1:9")),
        st.tuples(st.just("bad_answer")),
        st.tuples(st.just("settle")),
    ),
    max_size=8,
)


@FUZZ
@given(ops=operations)
def test_device_observer_never_raises(ops) -> None:
    """Messages routed to the sessions of one device, the server's answers to the latest one."""
    observer = DeviceObserver(PROFILE)
    for op in ops:
        latest = observer.sessions[-1] if observer.sessions else None
        if op[0] == "message":
            routed = observer.client_message(op[1], op[2], op[3])
            assert all(isinstance(f, Finding) for f in routed.findings)
            if routed.message is None:
                assert routed.findings and routed.session is None
            else:
                assert routed.session in observer.sessions
        elif op[0] == "settle":
            observer.settle()
        elif latest is None:
            continue
        elif op[0] == "commands":
            latest.commands(tuple(Command(str(c[0]), tuple(map(str, c[1:]))) for c in op[1]))
        else:
            latest.bad_answer()
