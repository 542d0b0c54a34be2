"""Benign variants of the sample server: each differs from the sample in one way the draft and
the profile allow (above all A15, how the commands for a device are spread over the messages of a
session, and A16, HTTP as HTTP/1.1 defines it), and names what allows it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from conformance.core import server
from conformance.core.messages import Command
from conformance.core.server import Batches, DeviceSessions
from conformance.profiles import load_profile
from conformance.samples import dm_server
from tests.variants.registry import variant

PROFILE = load_profile()
END = Command(PROFILE.for_action("end").name)
CONTENT_TYPE = PROFILE.headers.content_type


def _batches(split: Any) -> None:
    """Spread the commands queued for a session as `split(commands)` says: a list of messages,
    END then alone in the last one."""
    original = DeviceSessions._script

    def script(self: DeviceSessions, session: Any) -> Batches:
        fresh = session.number not in self.scripts
        batches = original(self, session)
        if fresh:
            commands = [c for batch in batches for c in batch if c != END]
            batches[:] = [tuple(m) for m in split(commands) if m] + [(END,)]
        return batches

    DeviceSessions._script = script


@variant(
    "server-all-in-one-message",
    "server",
    "A15",
    "sends every queued command in one message, and END alone in the next",
)
def _all_in_one_message() -> None:
    _batches(lambda commands: [commands])


@variant(
    "server-one-command-per-message",
    "server",
    "A15",
    "sends one command per message, whatever the batches, and END alone",
)
def _one_command_per_message() -> None:
    _batches(lambda commands: [[c] for c in commands])


@variant(
    "server-end-alone",
    "server",
    "A15",
    "sends the batches as queued, then END alone in a message of its own",
)
def _end_alone() -> None:
    original = DeviceSessions.next_batch

    def next_batch(self: DeviceSessions, batches: Batches) -> tuple[Command, ...]:
        if batches:
            return batches.pop(0)
        return original(self, batches)

    DeviceSessions.next_batch = next_batch


@variant(
    "server-pairs",
    "server",
    "A15",
    "sends the queued commands two per message, END with the last pair",
)
def _pairs() -> None:
    original = DeviceSessions._script

    def script(self: DeviceSessions, session: Any) -> Batches:
        fresh = session.number not in self.scripts
        batches = original(self, session)
        if fresh:
            commands = [c for batch in batches for c in batch]
            batches[:] = [tuple(commands[i : i + 2]) for i in range(0, len(commands), 2)]
        return batches

    DeviceSessions._script = script


def _rewrite_replies(change: Any) -> None:
    original = dm_server.DMServer.handle

    def handle(self: Any, url: str, headers: Any, body: bytes) -> tuple[int, Any, bytes]:
        status, answer_headers, answer = original(self, url, headers, body)
        if status == PROFILE.http_ok:
            return change(status, dict(answer_headers), answer)
        return status, answer_headers, answer

    dm_server.DMServer.handle = handle


@variant(
    "server-media-type-parameters",
    "server",
    "A16",
    "answers with Content-Type application/dm20; charset=utf-8",
)
def _media_type_parameters() -> None:
    def change(status: int, headers: dict[str, str], body: bytes) -> Any:
        headers[CONTENT_TYPE] = f"{PROFILE.media.command}; charset=utf-8"
        return status, headers, body

    _rewrite_replies(change)


@variant(
    "server-media-type-upper-case",
    "server",
    "A16",
    "answers with Content-Type in upper case (APPLICATION/DM20)",
)
def _media_type_upper_case() -> None:
    def change(status: int, headers: dict[str, str], body: bytes) -> Any:
        headers[CONTENT_TYPE] = PROFILE.media.command.upper()
        return status, headers, body

    _rewrite_replies(change)


@variant(
    "server-header-names-lower-case",
    "server",
    "A16",
    "writes its header names in lower case",
)
def _header_names_lower_case() -> None:
    def change(status: int, headers: dict[str, str], body: bytes) -> Any:
        return status, {k.lower(): v for k, v in headers.items()}, body

    _rewrite_replies(change)


@variant("server-extra-headers", "server", "A16", "adds headers the draft does not name")
def _extra_headers() -> None:
    def change(status: int, headers: dict[str, str], body: bytes) -> Any:
        return status, {**headers, "Cache-Control": "no-store", "X-Request-Id": "r-1"}, body

    _rewrite_replies(change)


@variant(
    "server-connection-close",
    "server",
    "A16",
    "closes the connection after every answer (Connection: close)",
)
def _connection_close() -> None:
    def change(status: int, headers: dict[str, str], body: bytes) -> Any:
        return status, {**headers, "Connection": "close"}, body

    _rewrite_replies(change)


@variant(
    "server-chunked-answers",
    "server",
    "A16",
    "sends its answers with Transfer-Encoding: chunked, no Content-Length",
)
def _chunked_answers() -> None:
    original = dm_server.Response

    class Chunked(original):  # type: ignore[misc, valid-type]
        def __init__(self, response: Any = None, *args: Any, **kwargs: Any) -> None:
            if isinstance(response, bytes | str):
                data = response.encode() if isinstance(response, str) else response
                response = iter([data[: len(data) // 2], data[len(data) // 2 :]])
            super().__init__(response, *args, **kwargs)

    dm_server.Response = Chunked


@variant(
    "server-json-layout",
    "server",
    "A16",
    "writes its command messages indented, with white space inside the arrays",
)
def _json_layout() -> None:
    def encode(message: Any, profile: Any) -> bytes:
        value = {profile.keys.commands: [c.as_list() for c in message.commands]}
        return json.dumps(value, indent=4).encode() + b"\n"

    server.encode_commands = encode


def _first_in_every_session(command: Any) -> None:
    """Send `command(session)` alone in the first message of every session, before the queue."""
    original = DeviceSessions._script

    def script(self: DeviceSessions, session: Any) -> Batches:
        fresh = session.number not in self.scripts
        batches = original(self, session)
        if fresh:
            batches.insert(0, (command(session),))
        return batches

    DeviceSessions._script = script


@variant(
    "server-own-commands",
    "server",
    "DM20-5.2-005",
    "sends a command of its own first in every session (an INCLUDE of the device information)",
)
def _own_commands() -> None:
    include = PROFILE.for_action("include").name
    own = Command(include, ("urn:oma:mo:oma-dm-devinfo:1.0/0?Levels=0",))
    _first_in_every_session(lambda session: own)


@variant(
    "server-cont-by-localhost",
    "server",
    "DM20-6.2-032",
    "moves every session with a CONT of its own to its own URL spelt with localhost",
)
def _cont_by_localhost() -> None:
    cont = PROFILE.for_action("cont").name

    def here(session: Any) -> Command:
        parts = urlsplit(session.url)
        return Command(cont, (parts._replace(netloc=f"localhost:{parts.port}").geturl(),))

    _first_in_every_session(here)
