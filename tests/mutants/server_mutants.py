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
