"""Runs a core ClientSession over real HTTP: POSTs its messages, fetches and uploads content,
loads SHOW pages as a browser would. The sample client and the reference client both drive the
core through this one loop."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from conformance.core.client import (
    Browse,
    ClientSession,
    Done,
    Fetch,
    Response,
    Send,
    Upload,
)
from conformance.core.judge import header
from conformance.profiles import Profile
from conformance.roles.exchange import HttpExchange
from conformance.roles.http import request


@dataclass
class SessionRun:
    """What one session did on the wire and how it ended."""

    done: Done
    exchanges: list[HttpExchange] = field(default_factory=list)


def _response(record: HttpExchange, profile: Profile) -> Response | None:
    if record.error is not None or record.status is None:
        return None
    content_type = header(record.response_headers, profile.headers.content_type)
    return Response(record.status, content_type, record.response_body)


def run_session(session: ClientSession, client: httpx.Client, timeout_s: float) -> SessionRun:
    """Drive `session` to its end; every request bounded by `timeout_s` and the profile's body
    limit."""
    profile = session.profile
    limit = profile.limits.max_body_bytes
    run = SessionRun(Done(True, "not started"))

    def call(
        method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> HttpExchange:
        record = request(
            client, method, url, headers=headers, body=body, deadline_s=timeout_s, max_bytes=limit
        )
        run.exchanges.append(record)
        return record

    action = session.start()
    while not isinstance(action, Done):
        if isinstance(action, Send):
            record = call("POST", action.url, action.headers, action.body)
            answer = _response(record, profile)
            session.receive(answer or Response(0, None, (record.error or "").encode()))
        elif isinstance(action, Fetch):
            session.complete(_response(call("GET", action.url), profile))
        elif isinstance(action, Upload):
            session.complete(
                _response(call(action.method, action.url, action.headers, action.body), profile)
            )
        elif isinstance(action, Browse):
            page = call("GET", action.url, {profile.headers.accept: profile.media.web})
            session.complete(page.error is None and page.status == profile.http_ok)
        action = session.next_action()
    run.done = action
    return run
