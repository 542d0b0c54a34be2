"""The reference server: the harness as a DM server when the implementation under test is a DM
client. It runs on pytest-httpserver, bound to 127.0.0.1 on a free port unless the run's Network
says otherwise (roles/network.py: another address, a fixed port, an advertised base URL, TLS),
with three endpoints:

    /dm/…        session URLs (the first one, and any a CONT, DEFAULT or EXEC names): each request
                 is held until the case's next `send` step answers it (bounded by the timeout)
    /content/…   documents a GET fetches; PUT and POST uploads are captured
    /web/…       pages the SHOW browser loads

Every request becomes an Event with a sequence number, so a case can check what came in which
order (a SHOW's status must come after the page loaded, A11)."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pytest_httpserver import HTTPServer, HTTPServerError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from conformance.profiles import Profile
from conformance.roles.exchange import HttpExchange
from conformance.roles.network import Network, url_host

SESSION, CONTENT, WEB = "dm", "content", "web"
# The harness keeps its own record of every request; werkzeug's access log would only be noise.
logging.getLogger("werkzeug").setLevel(logging.WARNING)
HANDSHAKE_S = 5.0  # a TLS handshake that takes longer is given up (a peer that never sends one)


@dataclass
class Served:
    """What a content or web URL answers."""

    status: int
    content_type: str
    body: bytes


@dataclass
class Event:
    """One request the implementation made to the harness."""

    seq: int
    kind: str  # "session", "fetch", "upload", "browse", "stray"
    path: str  # below its endpoint: "" for /dm, "doc1" for /content/doc1
    exchange: HttpExchange
    answered: threading.Event = field(default_factory=threading.Event)
    late: bool = False  # the harness had released the request before answering it
    problem: str | None = None  # what made the harness refuse it (a body over the limit)

    KINDS = frozenset({"session", "fetch", "upload", "browse", "stray"})

    @property
    def url(self) -> str:
        return self.exchange.url


class _TlsServer(ThreadedWSGIServer):
    """Werkzeug's threaded server, TLS done per connection in the connection's own thread with
    a deadline (werkzeug's own wraps the listening socket, so a peer that connects and never
    says hello would hold the accepting thread, and with it the server's stop, for ever)."""

    tls: ssl.SSLContext | None = None
    tls_failed: Callable[[str], None] = staticmethod(lambda what: None)


class _Handler(WSGIRequestHandler):
    server: _TlsServer
    _tls_failed = False

    def setup(self) -> None:
        context = self.server.tls
        if context is not None:
            raw = self.request
            raw.settimeout(HANDSHAKE_S)
            try:
                self.request = context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                self._tls_failed = True
                self.server.tls_failed(f"{self.client_address[0]}: {describe_tls_error(exc)}")
                self.rfile, self.wfile = io.BytesIO(), io.BytesIO()
                return
            self.request.settimeout(None)
        super().setup()

    def handle(self) -> None:
        if not self._tls_failed:
            super().handle()

    def finish(self) -> None:
        super().finish()
        if isinstance(self.request, ssl.SSLSocket):
            with contextlib.suppress(OSError):
                self.request.close()


def describe_tls_error(exc: BaseException) -> str:
    """A TLS failure in words (the reason OpenSSL gives)."""
    if isinstance(exc, TimeoutError):
        return f"no TLS handshake within {HANDSHAKE_S} s"
    reason = getattr(exc, "reason", None)
    text = str(exc)
    return f"{reason}: {text}" if reason and reason not in text else text


class _BoundedHTTPServer(HTTPServer):
    """pytest-httpserver's server with three changes for a peer that is not trusted: it does not
    read a body before the handler has set its size limit, nor keep every request in a log
    (the harness keeps its own events); it notices a stop within 10 ms rather than half a
    second (one reference server runs per case, so its shutdown is on every case's path); and
    TLS is done per connection, bounded (_TlsServer)."""

    def __init__(
        self,
        host: str,
        port: int,
        tls: ssl.SSLContext | None = None,
        tls_failed: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(host=host, port=port, threaded=True)
        self._tls = tls
        self._tls_failed = tls_failed

    def start(self) -> None:
        if self.is_running():
            raise HTTPServerError("Server is already running")
        server = _TlsServer(self.host, self.port, Request.application(self.application), _Handler)
        server.ssl_context = server.tls = self._tls  # ssl_context: werkzeug's environ says https
        if self._tls_failed is not None:
            server.tls_failed = self._tls_failed
        self.server = server
        self.port = server.port
        self.server_thread = threading.Thread(target=self.thread_target, daemon=True)
        self.server_thread.start()

    def application(self, request: Request) -> Response:
        return self.dispatch(request)

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=0.01)


class ReferenceServer:
    """One reference server for one test case."""

    def __init__(
        self,
        profile: Profile,
        timeout_s: float,
        content: dict[str, Served] | None = None,
        uploads: dict[str, int] | None = None,
        pages: dict[str, Served] | None = None,
        network: Network | None = None,
    ) -> None:
        self.profile = profile
        self.timeout_s = timeout_s
        self.content = content or {}
        self.uploads = uploads or {}
        self.pages = pages or {}
        self.events: list[Event] = []
        self.tls_failures: list[str] = []  # TLS handshakes that failed, in words
        self._changed = threading.Condition()
        self._closed = False
        self.network = network or Network()
        self.prefix = self.network.case_prefix()
        root = urlsplit(self.network.advertise).path if self.network.advertise else ""
        self._endpoint = re.compile(
            rf"^{re.escape(root + self.prefix)}/(dm|content|web)(?:/(.*))?$"
        )
        tls = self.network.tls.context if self.network.tls else None
        self.httpd = _BoundedHTTPServer(self.network.host, self.network.port, tls, self._tls_failed)
        self.httpd.no_handler_status_code = 404
        self.httpd.expect_request(re.compile(".*")).respond_with_handler(self._handle)

    # -- lifetime ------------------------------------------------------------------------------
    def __enter__(self) -> ReferenceServer:
        self.httpd.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release every held request and stop serving."""
        with self._changed:
            self._closed = True
            for event in self.events:
                event.answered.set()
            self._changed.notify_all()
        if self.httpd.is_running():
            self.httpd.stop()

    @property
    def local_url(self) -> str:
        """Where it listens, as a URL."""
        return f"{self.network.scheme}://{url_host(self.httpd.host)}:{self.httpd.port}"

    @property
    def base_url(self) -> str:
        """The base of the URLs handed out: the advertised one, else where it listens; with the
        case's own path when the port is fixed."""
        return (self.network.advertise or self.local_url) + self.prefix

    def url(self, endpoint: str) -> str:
        return f"{self.base_url}/{endpoint}"

    # -- what the runner asks ------------------------------------------------------------------
    def wait_for(self, kinds: Iterable[str], after: int, timeout_s: float) -> Event | None:
        """The first event of one of `kinds` with a sequence number above `after`, waiting up to
        `timeout_s` for it."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for event in self.events:
                    if event.seq > after and event.kind in kinds:
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return None
                self._changed.wait(remaining)

    def last_seq(self) -> int:
        """The sequence number of the latest request (0 before any)."""
        with self._changed:
            return len(self.events)

    def since(self, after: int, kinds: Iterable[str] | None = None) -> list[Event]:
        """Every event after sequence number `after` (of `kinds`, if given)."""
        with self._changed:
            return [e for e in self.events if e.seq > after and (kinds is None or e.kind in kinds)]

    def answer(self, event: Event, status: int, headers: dict[str, str], body: bytes) -> None:
        """Answer a held session request."""
        exchange = event.exchange
        exchange.status, exchange.response_headers, exchange.response_body = status, headers, body
        event.answered.set()

    # -- serving -------------------------------------------------------------------------------
    def _record(self, kind: str, path: str, request: Request, body: bytes) -> Event:
        exchange = HttpExchange(request.method, request.url, dict(request.headers.items()), body)
        with self._changed:
            event = Event(len(self.events) + 1, kind, path, exchange)
            self.events.append(event)
            self._changed.notify_all()
        return event

    def _tls_failed(self, what: str) -> None:
        with self._changed:
            if len(self.tls_failures) < 100:
                self.tls_failures.append(what)

    def _handle(self, request: Request) -> Response:
        matched = self._endpoint.match(request.path)
        if matched is None:  # another path, or a request of another case on a fixed port
            return Response("no such resource", status=404)
        endpoint, path = matched.group(1), matched.group(2) or ""
        limit = self.profile.limits.max_body_bytes
        request.max_content_length = limit
        try:
            body = request.get_data(cache=True)
        except RequestEntityTooLarge:
            kind = "session" if endpoint == SESSION and request.method == "POST" else "stray"
            event = self._record(kind, path, request, b"")
            size = request.content_length
            event.problem = (
                f"the {request.method} to {request.path} carried "
                f"{f'{size} bytes' if size is not None else 'a body'}, larger than {limit} "
                "bytes, the profile's limit"
            )
            self.answer(event, 413, {}, b"")
            return Response("body too large", status=413)
        if endpoint == SESSION and request.method == "POST":
            if self._pending() >= self.profile.limits.max_exchanges:
                self._record("stray", path, request, body)
                return Response("too many unanswered session requests", status=503)
            return self._session(self._record("session", path, request, body))
        if endpoint == CONTENT and request.method == "GET" and path in self.content:
            return self._serve(self._record("fetch", path, request, body), self.content[path])
        if endpoint == CONTENT and request.method in ("PUT", "POST"):
            event = self._record("upload", path, request, body)
            status = self.uploads.get(path, 204)
            return self._serve(event, Served(status, self.profile.media.text, b""))
        if endpoint == WEB and request.method == "GET" and path in self.pages:
            return self._serve(self._record("browse", path, request, body), self.pages[path])
        event = self._record("stray", path, request, body)
        return self._serve(event, Served(404, self.profile.media.text, b"no such resource"))

    def _pending(self) -> int:
        with self._changed:
            return sum(1 for e in self.events if e.kind == "session" and not e.answered.is_set())

    def _serve(self, event: Event, served: Served) -> Response:
        headers = {self.profile.headers.content_type: served.content_type} if served.body else {}
        self.answer(event, served.status, headers, served.body)
        return Response(served.body, status=served.status, headers=headers)

    def _session(self, event: Event) -> Response:
        if not event.answered.wait(self.timeout_s + 1.0) or event.exchange.status is None:
            event.late = True
            event.exchange.error = "the harness gave no answer (the case had no step for it)"
            return Response("no answer", status=503)
        exchange = event.exchange
        return Response(
            exchange.response_body, status=exchange.status, headers=exchange.response_headers
        )
