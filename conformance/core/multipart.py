"""`multipart/mixed` bodies (RFC 2046), the status message that carries INCLUDE data (A8), read
and written with the standard library's `email` package: a quoted or bare boundary, a preamble
and an epilogue, CRLF or LF line ends and any Content-Transfer-Encoding are read as RFC 2046 and
A16 allow."""

from __future__ import annotations

import hashlib
import io
from email import policy as email_policy
from email.errors import (
    MultipartInvariantViolationDefect,
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
)
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.parser import BytesParser

from conformance.core.errors import ProtocolError
from conformance.core.wire import parse_media_type

POLICY = email_policy.HTTP.clone(linesep="\r\n")
WHERE = "multipart"


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
    container = EmailMessage(policy=POLICY)
    container.make_mixed()
    for content_type, body in parts:
        part = EmailMessage(policy=POLICY)
        main, _, sub = content_type.partition("/")
        part.set_content(body, main, sub, cte="8bit")
        del part["MIME-Version"]
        container.attach(part)
    container.set_boundary(make_boundary(parts))
    main, _, sub = media_type.partition("/")
    container.set_type(f"{main}/{sub}")
    out = io.BytesIO()
    BytesGenerator(out, policy=POLICY).flatten(container)
    _, _, body = out.getvalue().partition(b"\r\n\r\n")
    return str(container["Content-Type"]), body


def decode_multipart(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """The (media type, decoded body) of each part; ProtocolError when RFC 2046 cannot read it."""
    _, params = parse_media_type(content_type)
    if not params.get("boundary"):
        raise ProtocolError("a multipart Content-Type without a boundary parameter", WHERE)
    try:
        message = BytesParser(policy=POLICY).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body
        )
    except IndexError:  # the standard library's parser fails on some part headers ("a/b; x*")
        raise ProtocolError("a part's headers cannot be read", WHERE) from None
    unreadable = (
        NoBoundaryInMultipartDefect,
        MultipartInvariantViolationDefect,
        StartBoundaryNotFoundDefect,
    )
    broken = [d for d in message.defects if isinstance(d, unreadable)]
    if broken or not message.is_multipart():
        what = ", ".join(type(d).__name__ for d in broken) or "no parts"
        raise ProtocolError(f"the body is not a multipart body with that boundary ({what})", WHERE)
    parts = []
    for index, part in enumerate(message.iter_parts()):
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            raise ProtocolError("a part is itself multipart", f"{WHERE}[{index}]")
        parts.append((part.get_content_type(), payload))
    if not parts:
        raise ProtocolError("no parts", WHERE)
    return parts
