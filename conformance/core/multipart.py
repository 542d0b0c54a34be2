"""`multipart/mixed` bodies: the status message that carries INCLUDE data (A8). Strict on what it
reads: a boundary from the Content-Type, CRLF line ends, a Content-Type on every part."""

from __future__ import annotations

import hashlib

from conformance.core.errors import ProtocolError
from conformance.core.wire import parse_media_type

CRLF = b"\r\n"


def make_boundary(parts: list[tuple[str, bytes]]) -> str:
    """A boundary that occurs in no part: derived from the parts, so encoding is deterministic."""
    digest = hashlib.sha256(b"".join(body for _, body in parts)).hexdigest()
    salt = 0
    while True:
        boundary = f"dm20-{digest[:24]}-{salt}"
        if not any(boundary.encode() in body for _, body in parts):
            return boundary
        salt += 1


def encode_multipart(media_type: str, parts: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """(Content-Type header value, body) of a multipart message of (content type, body) parts."""
    boundary = make_boundary(parts)
    delimiter = b"--" + boundary.encode("ascii")
    chunks = []
    for content_type, body in parts:
        chunks += [
            delimiter,
            CRLF,
            b"Content-Type: ",
            content_type.encode("ascii"),
            CRLF,
            CRLF,
            body,
            CRLF,
        ]
    chunks += [delimiter, b"--", CRLF]
    return f'{media_type}; boundary="{boundary}"', b"".join(chunks)


def decode_multipart(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """The (media type, body) of each part; raise ProtocolError at the first problem."""
    _, params = parse_media_type(content_type)
    boundary = params.get("boundary")
    if not boundary or len(boundary) > 70:
        raise ProtocolError(
            "multipart Content-Type without a usable boundary parameter", "Content-Type"
        )
    delimiter = b"--" + boundary.encode("utf-8", "replace")
    if not body.startswith(delimiter):
        raise ProtocolError("body does not start with the boundary", "multipart")
    pieces = body.split(CRLF + delimiter)
    first = pieces[0][len(delimiter) :]
    pieces[0] = first
    if not pieces[-1].startswith(b"--"):
        raise ProtocolError("no closing boundary", "multipart")
    parts = []
    for index, piece in enumerate(pieces[:-1]):
        where = f"multipart[{index}]"
        if not piece.startswith(CRLF):
            raise ProtocolError("boundary not followed by CRLF", where)
        head, sep, part_body = piece[2:].partition(CRLF + CRLF)
        if not sep:
            raise ProtocolError("part has no blank line after its headers", where)
        part_type = None
        for line in head.split(CRLF):
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise ProtocolError(f"bad part header line {line[:40]!r}", where)
            if name.strip().lower() == "content-type":
                part_type = value.strip()
        if part_type is None:
            raise ProtocolError("part has no Content-Type", where)
        parts.append((parse_media_type(part_type)[0], part_body))
    if not parts:
        raise ProtocolError("no parts", "multipart")
    return parts
