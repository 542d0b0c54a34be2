"""Faulty variants of the sample server, one broken requirement each."""

from __future__ import annotations

from typing import Any

from conformance.core import server
from conformance.core.messages import Command
from conformance.core.server import ServerSession
from conformance.profiles import load_profile
from tests.mutants.registry import mutant

PROFILE = load_profile()


@mutant(
    "server-json-content-type",
    "server",
    "DM20-6.2-002",
    "answers with Content-Type application/json",
)
def _json_content_type() -> None:
    original = ServerSession.receive

    def receive(self: ServerSession, url: str, headers: Any, body: bytes) -> server.Reply:
        reply = original(self, url, headers, body)
        if reply.status == PROFILE.http_ok:
            reply.headers[PROFILE.headers.content_type] = "application/json"
        return reply

    ServerSession.receive = receive


@mutant(
    "server-never-ends",
    "server",
    "DM20-5.2-004",
    "never sends END: after its queue it asks for the device info again",
)
def _never_ends() -> None:
    include = PROFILE.for_action("include").name

    def next_batch(self: ServerSession) -> tuple[Command, ...]:
        if self._batches:
            return self._batches.pop(0)
        return (Command(include, ("urn:oma:mo:oma-dm-devinfo:1.0/0",)),)

    ServerSession._next_batch = next_batch


def _rewrite_batches(change: Any) -> None:
    """Pass every batch the server sends through `change` (the session judges what it sent)."""
    original = ServerSession._next_batch

    def next_batch(self: ServerSession) -> tuple[Command, ...]:
        return tuple(change(original(self)))

    ServerSession._next_batch = next_batch


@mutant(
    "server-status-answered-500",
    "server",
    "DM20-6.2-002",
    "answers every status message with HTTP 500 (the commands still in the body)",
)
def _status_answered_500() -> None:
    original = ServerSession.receive

    def receive(self: ServerSession, url: str, headers: Any, body: bytes) -> server.Reply:
        reply = original(self, url, headers, body)
        if len(self.exchanges) > 1 and reply.status == PROFILE.http_ok:
            return server.Reply(500, reply.headers, reply.body)
        return reply

    ServerSession.receive = receive


@mutant(
    "server-refuses-cont-url",
    "server",
    "DM20-6.2-002",
    "does not serve the URL its CONT named: the statuses there get HTTP 404 text/plain",
)
def _refuses_cont_url() -> None:
    original = ServerSession.receive

    def receive(self: ServerSession, url: str, headers: Any, body: bytes) -> server.Reply:
        if self.exchanges and url != self.url:
            return server.Reply(
                404, {PROFILE.headers.content_type: PROFILE.media.text}, b"no such session"
            )
        return original(self, url, headers, body)

    ServerSession.receive = receive


@mutant(
    "server-end-first",
    "server",
    "DM20-6.2-003",
    "puts END first in its last message instead of last",
)
def _end_first() -> None:
    end = Command(PROFILE.for_action("end").name)
    _rewrite_batches(
        lambda batch: (end, *(c for c in batch if c != end)) if end in batch else batch
    )


@mutant(
    "server-drops-last-parameter",
    "server",
    "DM20-6.2-003",
    "drops the last parameter of every command that has more than one",
)
def _drops_last_parameter() -> None:
    _rewrite_batches(
        lambda batch: [
            Command(c.name, c.params[:-1] if len(c.params) > 1 else c.params) for c in batch
        ]
    )


@mutant(
    "server-lowercase-names",
    "server",
    "DM20-6.2-003",
    "sends command names in lower case (get, delete, end)",
)
def _lowercase_names() -> None:
    _rewrite_batches(lambda batch: [Command(c.name.lower(), c.params) for c in batch])


@mutant(
    "server-stops-after-first-batch",
    "server",
    "DM20-5.2-004",
    "sends END with its first batch and drops the commands still queued",
)
def _stops_after_first_batch() -> None:
    original = ServerSession._next_batch

    def next_batch(self: ServerSession) -> tuple[Command, ...]:
        self._batches = self._batches[:1]
        return original(self)

    ServerSession._next_batch = next_batch
