"""The load mode's one contact with the judge's `Finding`: which findings are failures, and the
finding of a session the server never ended. Everything else in conformance/load/ reads only a
finding's `requirement` and `message`; how a grade is represented is known here alone."""

from __future__ import annotations

from collections.abc import Iterable

from conformance.core import rules
from conformance.core.rules import Finding


def failed(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that are failures (not remarks such as A3's `;`)."""
    return [finding for finding in findings if finding.failed]


def never_ended(max_exchanges: int) -> Finding:
    """The failure of a server that did not end a session within the profile's bound."""
    return Finding(
        rules.SERVER_SESSION_ENDS,
        f"the server did not end the session within {max_exchanges} client messages",
    )
