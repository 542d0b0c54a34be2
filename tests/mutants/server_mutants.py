"""Faulty variants of the sample server, one broken requirement or assumption each."""

from __future__ import annotations

import json
from typing import Any

from conformance.core import server
from conformance.core.messages import Command
from conformance.core.server import Batches, DeviceSessions
from conformance.core.wire import dump_json
from conformance.profiles import load_profile
from conformance.samples import dm_server
from tests.mutants.registry import mutant

PROFILE = load_profile()
END = Command(PROFILE.for_action("end").name)


def _rewrite_replies(change: Any) -> None:
    """Pass every answer to a message the server took through `change(sessions, reply)`."""
    original = DeviceSessions.receive

    def receive(self: DeviceSessions, url: str, headers: Any, body: bytes) -> server.Reply:
        reply = original(self, url, headers, body)
        if reply.status == PROFILE.http_ok:
            return change(self, reply)
        return reply

    DeviceSessions.receive = receive


def _rewrite_batches(change: Any) -> None:
    """Pass every batch the server sends through `change` (the session judges what it sent)."""
    original = DeviceSessions.next_batch

    def next_batch(self: DeviceSessions, batches: Batches) -> tuple[Command, ...]:
        return tuple(change(original(self, batches)))

    DeviceSessions.next_batch = next_batch


@mutant(
    "server-json-content-type",
    "server",
    "DM20-6.2-002",
    "answers with Content-Type application/json",
)
def _json_content_type() -> None:
    def change(sessions: DeviceSessions, reply: server.Reply) -> server.Reply:
        reply.headers[PROFILE.headers.content_type] = "application/json"
        return reply

    _rewrite_replies(change)


@mutant(
    "server-never-ends",
    "server",
    "DM20-5.2-004",
    "never sends END: after its queue it asks for the device info again",
)
def _never_ends() -> None:
    include = PROFILE.for_action("include").name

    def next_batch(self: DeviceSessions, batches: Batches) -> tuple[Command, ...]:
        if batches:
            return batches.pop(0)
        return (Command(include, ("urn:oma:mo:oma-dm-devinfo:1.0/0",)),)

    DeviceSessions.next_batch = next_batch


@mutant(
    "server-status-answered-500",
    "server",
    "P1.2",
    "answers every status message with HTTP 500 (the commands still in the body)",
)
def _status_answered_500() -> None:
    def change(sessions: DeviceSessions, reply: server.Reply) -> server.Reply:
        if len(sessions.exchanges) > 1:
            return server.Reply(500, reply.headers, reply.body)
        return reply

    _rewrite_replies(change)


@mutant(
    "server-forgets-session-after-cont",
    "server",
    "DM20-5.2-004",
    "takes the message after its CONT for a new session and ends it, dropping the queue",
)
def _forgets_session_after_cont() -> None:
    cont = PROFILE.for_action("cont").name
    original = DeviceSessions.next_batch

    def next_batch(self: DeviceSessions, batches: Batches) -> tuple[Command, ...]:
        if getattr(self, "_after_cont", False):
            batches.clear()
            return (END,)
        batch = original(self, batches)
        self._after_cont = any(c.name == cont for c in batch)
        return batch

    DeviceSessions.next_batch = next_batch


@mutant("server-end-first", "server", "A2", "puts END first in its last message, not last")
def _end_first() -> None:
    _rewrite_batches(
        lambda batch: (END, *(c for c in batch if c != END)) if END in batch else batch
    )


@mutant(
    "server-drops-last-parameter",
    "server",
    "DM20-6.2-026",
    "drops the last parameter of every command that has more than one (a PUT keeps no ClientURI)",
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
    "A18",
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
    original = DeviceSessions.next_batch

    def next_batch(self: DeviceSessions, batches: Batches) -> tuple[Command, ...]:
        del batches[1:]
        return original(self, batches)

    DeviceSessions.next_batch = next_batch


@mutant(
    "server-reverses-queue",
    "server",
    "A15",
    "sends the batches queued for a device last first",
)
def _reverses_queue() -> None:
    original = DeviceSessions._script

    def script(self: DeviceSessions, session: Any) -> Batches:
        batches = original(self, session)
        if not getattr(self, "_reversed", False):
            batches.reverse()
            self._reversed = True
        return batches

    DeviceSessions._script = script


@mutant(
    "server-sends-a-later-command-early",
    "server",
    "A15",
    "sends a copy of the last queued command first, then the queue in order",
)
def _later_command_early() -> None:
    original = DeviceSessions._script

    def script(self: DeviceSessions, session: Any) -> Batches:
        fresh = session.number not in self.scripts
        batches = original(self, session)
        queued = [c for batch in batches for c in batch if c != END]
        if fresh and len(queued) > 1:
            batches.insert(0, (queued[-1],))
        return batches

    DeviceSessions._script = script


@mutant(
    "server-one-queue-for-all-devices",
    "server",
    "A15",
    "hands the next device to open a session whatever is queued, for whichever device",
)
def _one_queue_for_all_devices() -> None:
    def sessions(self: dm_server.DMServer, device: str) -> DeviceSessions:
        def everything() -> Batches:
            batches = [b for queued in self.queues.values() for b in queued]
            self.queues.clear()
            return batches

        if device not in self.devices:
            self.devices[device] = DeviceSessions(self.profile, everything)
        return self.devices[device]

    dm_server.DMServer._sessions = sessions


@mutant(
    "server-refuses-first-without-devinfo",
    "server",
    "P1.2",
    "answers a first message without the device information with HTTP 400",
)
def _refuses_first_without_devinfo() -> None:
    original = dm_server.DMServer.handle
    keys = PROFILE.keys

    def handle(self: dm_server.DMServer, url: str, headers: Any, body: bytes) -> Any:
        try:
            message = json.loads(body)
        except ValueError:
            message = None
        if (
            isinstance(message, dict)
            and message.get(keys.status) == []
            and keys.devinfo not in message
        ):
            return PROFILE.status.bad_request, {}, b"who are you?"
        return original(self, url, headers, body)

    dm_server.DMServer.handle = handle


@mutant(
    "server-mangles-client-uris",
    "server",
    "A20",
    "cuts the instance off every ClientURI it sends (urn:…:1.0/1 becomes urn:…:1.0)",
)
def _mangles_client_uris() -> None:
    def mangle(value: str) -> str:
        return value.split("/")[0] if value.startswith("urn:") else value

    _rewrite_batches(lambda batch: [Command(c.name, tuple(map(mangle, c.params))) for c in batch])


@mutant(
    "server-not-json",
    "server",
    "DM20-6-004",
    "answers status messages with a body that is no command message (plain text)",
)
def _not_json() -> None:
    def change(sessions: DeviceSessions, reply: server.Reply) -> server.Reply:
        if len(sessions.exchanges) > 1:
            return server.Reply(reply.status, reply.headers, b"OK, more later")
        return reply

    _rewrite_replies(change)


@mutant(
    "server-end-as-string",
    "server",
    "P3.1",
    'writes END as the string "END" instead of the array ["END"]',
)
def _end_as_string() -> None:
    def encode(message: Any, profile: Any) -> bytes:
        commands = [c.name if c == END else c.as_list() for c in message.commands]
        return dump_json({profile.keys.commands: commands})

    server.encode_commands = encode
