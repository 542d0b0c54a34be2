"""Faulty variants of the sample client, one broken requirement each."""

from __future__ import annotations

from typing import Any

from conformance.core import client, tree
from conformance.core.client import ClientSession
from conformance.core.messages import ClientMessage, CommandMessage
from conformance.profiles import load_profile
from tests.mutants.registry import mutant

PROFILE = load_profile()
NAMES = PROFILE.headers


def _rewrite_headers(change: Any) -> None:
    original = ClientSession._headers

    def headers(self: ClientSession, content_type: str) -> dict[str, str]:
        values = original(self, content_type)
        change(values)
        return values

    ClientSession._headers = headers


@mutant(
    "client-json-content-type", "client", "DM20-6.3-002", "labels its messages application/json"
)
def _json_content_type() -> None:
    _rewrite_headers(lambda h: h.__setitem__(NAMES.content_type, "application/json"))


@mutant("client-no-device-id", "client", "DM20-6.3-005", "leaves out X-OMADMDevID")
def _no_device_id() -> None:
    _rewrite_headers(lambda h: h.pop(NAMES.device_id))


@mutant(
    "client-accept-dm20-only",
    "client",
    "DM20-6.3-003",
    "accepts application/dm20 but not application/tnds20",
)
def _accept_dm20_only() -> None:
    _rewrite_headers(lambda h: h.__setitem__(NAMES.accept, PROFILE.media.command))


@mutant(
    "client-statuses-reversed",
    "client",
    "DM20-6.3-006",
    "sends the statuses in reverse command order",
)
def _statuses_reversed() -> None:
    original = ClientSession._send

    def send(self: ClientSession, message: ClientMessage) -> Any:
        reordered = ClientMessage(
            tuple(reversed(message.statuses)),
            message.devinfo,
            message.mo,
            message.mometa,
            message.alerts,
            message.includes,
        )
        return original(self, reordered)

    ClientSession._send = send


@mutant(
    "client-delete-keeps-children",
    "client",
    "DM20-6.2-012",
    "DELETE removes the leaves but keeps interior children",
)
def _delete_keeps_children() -> None:
    def delete(self: tree.Tree, uri: Any) -> None:
        node = self._walk(uri.nodes())
        if isinstance(node, dict):
            for name in [k for k, v in node.items() if not isinstance(v, dict)]:
                del node[name]

    tree.Tree.delete = delete


@mutant(
    "client-levels-ignored",
    "client",
    "DM20-6.2-008",
    "PUT/POST send the whole subtree whatever Levels says",
)
def _levels_ignored() -> None:
    original = tree.prune
    tree.prune = lambda value, levels: original(value, None)


@mutant(
    "client-cont-ignored",
    "client",
    "DM20-6.2-023",
    "executes CONT but keeps posting to the old URL",
)
def _cont_ignored() -> None:
    ClientSession._do_cont = lambda self, checked, batch: _ok(self)


def _ok(session: ClientSession) -> Any:
    return session._ok()
    yield  # a generator, like every command handler


@mutant(
    "client-ignores-end",
    "client",
    "DM20-6.2-024",
    "does not see END: executes the rest of the message and sends its statuses",
)
def _ignores_end() -> None:
    original = client.decode_commands
    end = PROFILE.for_action("end").name

    def decode(body: bytes, profile: Any) -> CommandMessage:
        message = original(body, profile)
        return CommandMessage(tuple(c for c in message.commands if c.name != end))

    client.decode_commands = decode
