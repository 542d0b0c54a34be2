"""Bytes to JSON and back, within the profile's bounds, and media-type headers parsed: the lowest
layer every codec stands on. Anything a peer can send comes out as a value or a ProtocolError."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from conformance.core.errors import ProtocolError
from conformance.profiles import Profile


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
    """`multipart/mixed; boundary="x"` -> ("multipart/mixed", {"boundary": "x"}), lowercased."""
    if not value:
        return "", {}
    head, *rest = value.split(";")
    params = {}
    for item in rest:
        key, sep, val = item.partition("=")
        if sep:
            params[key.strip().lower()] = val.strip().strip('"')
    return head.strip().lower(), params


def accept_lists(value: str | None, profile: Profile) -> tuple[list[str], str | None]:
    """The media types an Accept value lists, and the separator it used where that is not the
    HTTP comma (A3: the seed's own `;`)."""
    if not value:
        return [], None
    others = "".join(re.escape(s) for s in profile.accept.separators if s != ",")
    items: list[str] = []
    odd = None
    for chunk in value.split(","):
        head, *rest = re.split(f"[{others}]", chunk) if others else [chunk]
        items.append(head)
        for piece in rest:
            if "=" in piece:  # an HTTP parameter such as q=0.9, not a media type
                continue
            items.append(piece)
            odd = odd or next(c for c in chunk if c in others)
    cleaned = [item.strip().lower().rstrip(".") for item in items]
    return [item for item in cleaned if item], odd
