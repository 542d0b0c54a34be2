"""Encoding and decoding of the two message kinds: the command message a server sends
(`application/dm20`) and the first or status message a client sends (`application/dm20status`,
or `multipart/mixed` when it carries INCLUDE data, A8). Every name comes from the profile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.core import rules
from conformance.core.errors import ProtocolError
from conformance.core.messages import Alert, ClientMessage, Command, CommandMessage, Status
from conformance.core.multipart import decode_multipart, encode_multipart
from conformance.core.tnds import decode_document, encode_document
from conformance.core.wire import dump_json, parse_json, parse_media_type
from conformance.profiles import Profile
from conformance.schemas import format_path, message_validator, schema_errors

RuleFor = Callable[[tuple[Any, ...], str], str]  # the rule a schema problem (path, what) breaks


def _check(value: Any, schema: str, profile: Profile, rule_for: RuleFor, where: str = "") -> None:
    """Raise ProtocolError listing every way `value` breaks the message schema, each problem
    filed under the rule `rule_for` gives its path."""
    found = schema_errors(value, schema, message_validator(schema, profile))
    if not found:
        return
    problems = []
    for path, what in found:
        place = format_path(path) if path else "body"
        problems.append(
            ProtocolError(what, f"{where}{place}" if where else place, rule_for(path, what))
        )
    first = problems[0]
    raise ProtocolError(first.what, first.where, first.rule, tuple(problems))


def _command_rule(profile: Profile) -> RuleFor:
    def rule_for(path: tuple[Any, ...], what: str) -> str:
        inside = len(path) >= 2 and path[0] == profile.keys.commands
        return (rules.SERVER_COMMAND_SHAPE if inside else rules.SERVER_COMMAND_MESSAGE).key

    return rule_for


def _client_rule(profile: Profile) -> RuleFor:
    keys = profile.keys

    def rule_for(path: tuple[Any, ...], what: str) -> str:
        if len(path) >= 2 and path[0] == keys.status:
            return rules.CLIENT_STATUS_SHAPE.key
        if path[:1] == (keys.devinfo,) and keys.devid in what:
            return rules.CLIENT_DEVINFO_DEVID.key
        return rules.CLIENT_BODY.key

    return rule_for


def encode_commands(message: CommandMessage, profile: Profile) -> bytes:
    """The body of a command message."""
    return dump_json({profile.keys.commands: [c.as_list() for c in message.commands]})


def decode_commands(body: bytes, profile: Profile) -> CommandMessage:
    """A command message's shape (its commands are checked one by one by `check_command`, so a
    client can answer a bad command with a status rather than drop the message)."""
    try:
        value = parse_json(body, profile)
    except ProtocolError as exc:
        raise exc.with_rule(rules.SERVER_COMMAND_MESSAGE.key) from None
    _check(value, "command-message", profile, _command_rule(profile))
    return CommandMessage(tuple(Command(c[0], tuple(c[1:])) for c in value[profile.keys.commands]))


def _alert_to_json(alert: Alert, keys: Any) -> dict[str, Any]:
    out: dict[str, Any] = {keys.alert_type: alert.alert_type}
    for key, value in (
        (keys.source_uri, alert.source_uri),
        (keys.mark, alert.mark),
        (keys.data, alert.data),
    ):
        if value is not None:
            out[key] = value
    return out


def _status_to_json(status: Status, keys: Any) -> dict[str, Any]:
    out: dict[str, Any] = {keys.sc: status.sc}
    if status.uri is not None:
        out[keys.uri] = list(status.uri)
    if status.reason is not None:
        out[keys.reason] = status.reason
    return out


def client_message_json(message: ClientMessage, profile: Profile) -> dict[str, Any]:
    """The JSON object of a first or status message (without its INCLUDE parts)."""
    keys = profile.keys
    out: dict[str, Any] = {keys.status: [_status_to_json(s, keys) for s in message.statuses]}
    if message.devinfo is not None:
        out[keys.devinfo] = message.devinfo
    if message.mo is not None:
        out[keys.mo] = message.mo
    if message.mometa is not None:
        out[keys.mometa] = list(message.mometa)
    if message.alerts is not None:
        out[keys.alert] = [_alert_to_json(a, keys) for a in message.alerts]
    return out


def encode_client_message(message: ClientMessage, profile: Profile) -> tuple[str, bytes]:
    """(Content-Type, body) of a first or status message: plain JSON, or multipart with one
    tnds20 part per INCLUDE document (A8)."""
    media = profile.media
    body = dump_json(client_message_json(message, profile))
    if not message.includes:
        return media.status, body
    parts = [(media.status, body)] + [(media.tnds, encode_document(d)) for d in message.includes]
    return encode_multipart(media.multipart, parts)


def client_message_from_json(value: Any, profile: Profile, where: str = "") -> ClientMessage:
    """A first or status message from its parsed JSON object."""
    _check(value, "client-message", profile, _client_rule(profile), where)
    keys = profile.keys
    statuses = tuple(
        Status(
            s[keys.sc],
            tuple(s[keys.uri]) if keys.uri in s else None,
            s.get(keys.reason),
        )
        for s in value[keys.status]
    )
    alerts = None
    if keys.alert in value:
        alerts = tuple(
            Alert(a[keys.alert_type], a.get(keys.source_uri), a.get(keys.mark), a.get(keys.data))
            for a in value[keys.alert]
        )
    mometa = tuple(value[keys.mometa]) if keys.mometa in value else None
    return ClientMessage(statuses, value.get(keys.devinfo), value.get(keys.mo), mometa, alerts)


def decode_client_message(content_type: str | None, body: bytes, profile: Profile) -> ClientMessage:
    """A first or status message from its Content-Type and body (plain or multipart, A8)."""
    media = profile.media
    kind, _ = parse_media_type(content_type)
    if kind != media.multipart:
        return client_message_from_json(_json(body, profile, "body"), profile)
    try:
        parts = decode_multipart(content_type or "", body)
    except ProtocolError as exc:
        raise exc.with_rule(rules.CLIENT_MULTIPART.key) from None
    head_type, head_body = parts[0]
    if head_type != media.status:
        raise ProtocolError(
            f"part 1 is {head_type!r}, not {media.status}",
            "multipart[0]",
            rules.CLIENT_MULTIPART_PARTS.key,
        )
    message = client_message_from_json(
        _json(head_body, profile, "multipart[0]"), profile, "multipart[0]."
    )
    includes = []
    for index, (part_type, part_body) in enumerate(parts[1:], start=1):
        where = f"multipart[{index}]"
        if part_type != media.tnds:
            raise ProtocolError(
                f"part is {part_type!r}, not {media.tnds}", where, rules.CLIENT_MULTIPART_PARTS.key
            )
        try:
            includes.append(decode_document(part_body, profile, where))
        except ProtocolError as exc:
            raise exc.with_rule(rules.CLIENT_INCLUDE_DOCUMENT.key) from None
    return ClientMessage(
        message.statuses,
        message.devinfo,
        message.mo,
        message.mometa,
        message.alerts,
        tuple(includes),
    )


def _json(body: bytes, profile: Profile, where: str) -> Any:
    try:
        return parse_json(body, profile, where)
    except ProtocolError as exc:
        raise exc.with_rule(rules.CLIENT_BODY.key) from None
