"""Runs a core ClientSession over real HTTP: POSTs its messages, fetches and uploads content,
loads SHOW pages as a browser would. The sample client and the reference client both drive the
core through this one class."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from conformance.core.client import Browse, ClientSession, Done, Fetch, Response, Send, Upload
from conformance.core.judge import header
from conformance.profiles import Profile
from conformance.roles.exchange import HttpExchange
from conformance.roles.http import ClientTls, new_client, request
from conformance.roles.network import is_loopback

REFUSED = "refused by the harness"
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str:
    """`host:port` of a URL, the port spelled out (https://h/ and https://h:443/ are one) and
    every loopback name one host (localhost is 127.0.0.1)."""
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        port = -1
    host = (parts.hostname or "").lower()
    if is_loopback(host):
        host = "loopback"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class Driver:
    """The HTTP side of one client: every request bounded by `timeout_s` and the profile's body
    limit, every exchange kept in `exchanges`."""

    profile: Profile
    http: httpx.Client
    timeout_s: float
    exchanges: list[HttpExchange] = field(default_factory=list)
    allowed: frozenset[str] | None = None  # origins (host:port) it may reach; None: any
    tls: ClientTls | None = None  # what it trusts and presents over TLS (None: system CAs)

    def allow(self, *urls: str) -> None:
        """Reach only the hosts and ports of `urls` from now on."""
        self.allowed = frozenset(origin(u) for u in urls)

    def call(
        self, method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> HttpExchange:
        if self.allowed is not None and origin(url) not in self.allowed:
            record = HttpExchange(method, url, dict(headers or {}), body)
            record.error = (
                f"{REFUSED}: {urlsplit(url).netloc} is not the server under test's host and port "
                "(a simulated device follows a server's URLs nowhere else)"
            )
            self.exchanges.append(record)
            return record
        if self.http.is_closed:  # a watchdog hung up on a peer that would not finish
            self.http = new_client(self.timeout_s, self.tls)
        record = request(
            self.http,
            method,
            url,
            headers=headers,
            body=body,
            deadline_s=self.timeout_s,
            max_bytes=self.profile.limits.max_body_bytes,
        )
        self.exchanges.append(record)
        return record

    def response(self, record: HttpExchange) -> Response | None:
        """The core's view of an exchange's answer; None when there was none."""
        if record.error is not None or record.status is None:
            return None
        content_type = header(record.response_headers, self.profile.headers.content_type)
        return Response(record.status, content_type, record.response_body)

    def answer(self, session: ClientSession, record: HttpExchange) -> None:
        """Hand the server's answer to a client message to the session (none counts as bad, A1)."""
        session.receive(self.response(record) or Response(0, None, (record.error or "").encode()))

    def until_send(self, session: ClientSession) -> Send | Done:
        """Carry out the session's actions (fetch, upload, browse) until it has a message to send
        or is done."""
        action = session.next_action()
        while isinstance(action, Fetch | Upload | Browse):
            if isinstance(action, Fetch):
                session.complete(self.response(self.call("GET", action.url)))
            elif isinstance(action, Upload):
                session.complete(
                    self.response(self.call(action.method, action.url, action.headers, action.body))
                )
            else:
                page = self.call(
                    "GET", action.url, {self.profile.headers.accept: self.profile.media.web}
                )
                session.complete(page.error is None and page.status == self.profile.http_ok)
            action = session.next_action()
        return action


def run_session(
    session: ClientSession, http: httpx.Client, timeout_s: float
) -> tuple[Done, list[HttpExchange]]:
    """Drive `session` from its first message to its end."""
    driver = Driver(session.profile, http, timeout_s)
    action: Send | Done = session.start()
    while isinstance(action, Send):
        driver.answer(session, driver.call("POST", action.url, action.headers, action.body))
        action = driver.until_send(session)
    return action, driver.exchanges
