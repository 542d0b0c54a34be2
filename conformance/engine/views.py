"""Received messages as the plain structures cases match against and `save` reads from: the
profile's wire names turned into the case format's names (`statuses[0].code`, `alerts[0].type`)."""

from __future__ import annotations

import re
from typing import Any

from conformance.core.errors import ProtocolError
from conformance.core.messages import Alert, ClientMessage, Status
from conformance.core.wire import parse_json, parse_media_type
from conformance.profiles import Profile
from conformance.roles.exchange import HttpExchange


def status_view(status: Status) -> dict[str, Any]:
    out: dict[str, Any] = {"code": status.sc}
    if status.uri is not None:
        out["uri"] = list(status.uri)
    if status.reason is not None:
        out["reason"] = status.reason
    return out


def alert_view(alert: Alert) -> dict[str, Any]:
    out: dict[str, Any] = {"type": alert.alert_type}
    for name, value in (("source", alert.source_uri), ("mark", alert.mark), ("data", alert.data)):
        if value is not None:
            out[name] = value
    return out


TEXT_LIMIT = 2000  # characters of a body that is not JSON kept for matching and messages


def body_json(body: bytes, profile: Profile) -> Any:
    """The body as JSON when it is JSON, else its text (cut at TEXT_LIMIT characters)."""
    try:
        return parse_json(body, profile)
    except ProtocolError:
        text = body[: TEXT_LIMIT * 4].decode("utf-8", "replace")
        return text if len(text) <= TEXT_LIMIT else f"{text[:TEXT_LIMIT]}… ({len(body)} bytes)"


def request_view(
    exchange: HttpExchange, message: ClientMessage | None, profile: Profile
) -> dict[str, Any]:
    """A client's session request as a case sees it."""
    view: dict[str, Any] = {
        "url": exchange.url,
        "headers": dict(exchange.request_headers),
        "body": body_json(exchange.request_body, profile),
    }
    if message is not None:
        view["statuses"] = [status_view(s) for s in message.statuses]
        view["includes"] = list(message.includes)
        view["alerts"] = [alert_view(a) for a in message.alerts or ()]
        if message.devinfo is not None:
            view["devinfo"] = message.devinfo
    return view


MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


def headers_view(headers: dict[str, str], expected: dict[str, Any]) -> dict[str, Any]:
    """The received headers under the names the case used (header names ignore case, A16). Where
    the case expects a bare media type, the received value counts by its type/subtype, whatever
    its case and parameters (A16)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    out: dict[str, Any] = {}
    for name, want in expected.items():
        if name.lower() in lowered:
            value = lowered[name.lower()]
            media = isinstance(want, str) and MEDIA_TYPE.match(want)
            if media and parse_media_type(value)[0] == want.lower():
                value = want
            out[name] = value
    return out
