"""Bytes to JSON and back, within the profile's bounds, and media-type headers parsed: the lowest
layer every codec stands on. Anything a peer can send comes out as a value or a ProtocolError."""

from __future__ import annotations

import json
import math
import re
from email import policy as email_policy
from typing import Any

from conformance.core.errors import ProtocolError
from conformance.profiles import Profile

_HEADERS = email_policy.HTTP


def _depth(value: Any, limit: int) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:20]} is too large")
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _lone_surrogate(value: Any) -> bool:
    """Whether a string anywhere in `value` holds a lone UTF-16 surrogate: no text, but a JSON
    escape like \\ud800 makes one, and it cannot be encoded again."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any("\ud800" <= c <= "\udfff" for c in item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json(body: bytes, profile: Profile, where: str = "body") -> Any:
    """Decode a JSON body: at most limits.max_body_bytes, strict UTF-8, no NaN, at most
    limits.max_json_depth levels of nesting."""
    limits = profile.limits
    if len(body) > limits.max_body_bytes:
        raise ProtocolError(
            f"{len(body)} bytes, more than the limit of {limits.max_body_bytes}", where
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"not UTF-8 (byte {exc.start})", where) from None
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise ProtocolError(
            f"JSON nested deeper than {limits.max_json_depth} levels", where
        ) from None
    except ValueError as exc:
        raise ProtocolError(f"not valid JSON: {exc}", where) from None
    shallow = body.count(b"[") + body.count(b"{") <= limits.max_json_depth  # no walk needed
    if not shallow and _depth(value, limits.max_json_depth) > limits.max_json_depth:
        raise ProtocolError(f"JSON nested deeper than {limits.max_json_depth} levels", where)
    if _SURROGATE_ESCAPE.search(text) and _lone_surrogate(value):
        raise ProtocolError("a string holds a lone UTF-16 surrogate (\\uD800-\\uDFFF)", where)
    return value


def dump_json(value: Any) -> bytes:
    """The canonical encoding the core sends: compact UTF-8 JSON."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
        "utf-8"
    )


def parse_media_type(value: str | None) -> tuple[str, dict[str, str]]:
    """`multipart/mixed; boundary="x"` -> ("multipart/mixed", {"boundary": "x"}): type/subtype
    lowercased, parameters unquoted, as RFC 9110 reads a media type (the standard library's
    header parser does the reading). A value that is no media type comes back as it was."""
    if not value or not value.strip():
        return "", {}
    head = _split_outside_quotes(value, ";")[0].strip()
    if not _MEDIA_TYPE.match(head):
        return value.strip().lower(), {}
    try:
        parsed = _HEADERS.header_factory("content-type", value)
        params = {k.lower(): v for k, v in parsed.params.items()}
    except IndexError:  # the standard library's parser fails on some parameters ("a/b; x*")
        params = {}
    return head.lower(), params


_MEDIA_TYPE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _split_outside_quotes(value: str, separators: str) -> list[str]:
    """`value` split at every character of `separators` that stands outside double quotes."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char in separators and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def _elements(value: str) -> list[str]:
    """The comma-separated elements of an HTTP list header, commas inside quotes kept."""
    return [item.strip() for item in _split_outside_quotes(value, ",") if item.strip()]


def accept_lists(value: str | None, profile: Profile) -> tuple[list[str], str | None]:
    """The media types an Accept value admits (lowercased type/subtype, `q=0` ones left out), and
    the separator it used where that is not the HTTP comma (A3: the seed's own `;`, which makes
    a second media type look like a parameter of the first)."""
    if not value:
        return [], None
    others = [s for s in profile.accept.separators if s != ","]
    admitted: list[str] = []
    odd = None
    for element in _elements(value):
        head, *rest = (p.strip() for p in _split_outside_quotes(element, "".join(others)))
        media = [head]
        refused = False
        for piece in rest:
            name, eq, weight = piece.partition("=")
            if eq:  # an HTTP parameter: q=0 takes the media type back
                refused |= name.strip().lower() == "q" and _zero(weight)
            elif "/" in piece:
                media.append(piece)
                odd = odd or next(s for s in others if s in element)
        if not refused:
            admitted += [m.lower().rstrip(".") for m in media if m]
    return admitted, odd


def _zero(weight: str) -> bool:
    try:
        return float(weight.strip().strip('"')) == 0
    except ValueError:
        return False
