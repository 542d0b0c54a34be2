"""Bytes to JSON and back, within the profile's bounds, and media-type headers parsed: the lowest
layer every codec stands on. Anything a peer can send comes out as a value or a ProtocolError."""

from __future__ import annotations

import json
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
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ProtocolError(
            f"JSON nested deeper than {limits.max_json_depth} levels", where
        ) from None
    except ValueError as exc:
        raise ProtocolError(f"not valid JSON: {exc}", where) from None
    if _depth(value, limits.max_json_depth) > limits.max_json_depth:
        raise ProtocolError(f"JSON nested deeper than {limits.max_json_depth} levels", where)
    return value


def dump_json(value: Any) -> bytes:
    """The canonical encoding the core sends: compact UTF-8 JSON."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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
    separators = profile.accept.separators
    odd = next((s for s in separators if s != "," and s in value), None)
    text = value
    for sep in separators:
        text = text.replace(sep, ",")
    items = [item.strip().lower().rstrip(".") for item in text.split(",")]
    return [item for item in items if item and "=" not in item], odd
