"""Management object data, `application/tnds20`: one JSON object mapping each ClientURI (without
its query) to its node value. An interior node is an object of its children, a leaf a string,
number or boolean."""

from __future__ import annotations

from typing import Any

from conformance.core.errors import ProtocolError
from conformance.core.wire import dump_json, parse_json
from conformance.profiles import Profile
from conformance.schemas import format_path, message_validator, schema_errors

Document = dict[str, Any]


def validate_document(value: Any, profile: Profile, where: str = "tnds20") -> Document:
    """Check a parsed value is a tnds20 document; raise ProtocolError at the first problem."""
    problems = schema_errors(value, "tnds20", message_validator("tnds20", profile))
    if problems:
        path, what = problems[0]
        raise ProtocolError(what, f"{where}.{format_path(path)}" if path else where)
    document: Document = value
    return document


def decode_document(body: bytes, profile: Profile, where: str = "tnds20") -> Document:
    """Parse and check a tnds20 document."""
    return validate_document(parse_json(body, profile, where), profile, where)


def encode_document(document: Document) -> bytes:
    """The bytes of a tnds20 document."""
    return dump_json(document)
