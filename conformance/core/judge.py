"""The rules of the draft as checks on what one side sent, each finding tied to the requirement it
verifies. The same checks judge an implementation under test and our own samples: the reference
server judges a client's requests with them, the sample server refuses what they condemn, the
reference client judges a server's answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from conformance.core.codec import decode_client_message, decode_commands
from conformance.core.commands import check_command, check_message
from conformance.core.errors import CommandFailure, ProtocolError
from conformance.core.messages import ClientMessage, Command, CommandMessage, Status
from conformance.core.wire import accept_lists, parse_media_type
from conformance.profiles import Profile

# The catalog entries these checks verify (conformance/catalog/requirements.yaml).
SERVER_CONTENT_TYPE = "DM20-6.2-002"
CLIENT_CONTENT_TYPE = "DM20-6.3-002"
CLIENT_ACCEPT = "DM20-6.3-003"
CLIENT_DEVICE_ID = "DM20-6.3-005"
STATUS_ORDER = "DM20-6.3-006"
SAME_URL_UNTIL_END = "DM20-6.3-001"
NO_STATUS_AFTER_END = "DM20-6.2-024"
STATUS_AFTER_COMMANDS = "DM20-6-003"
INCLUDE_MULTIPART = "DM20-6.2-015"
ALLOWED_COMMANDS = "DM20-6.2-003"
CONT_URL = "DM20-6.2-023"

FAIL = "fail"
INFO = "info"


@dataclass(frozen=True)
class Finding:
    """A rule broken (`fail`) or a remark that is no failure (`info`, such as A3's `;`)."""

    requirement: str
    grade: str
    message: str

    def __str__(self) -> str:
        return f"[{self.requirement}] {self.message}"


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def judge_request_headers(
    headers: Mapping[str, str], profile: Profile, *, device_id: str | None = None
) -> list[Finding]:
    """Seed 6.3's header table on one client request. `device_id` is the ID the device used
    before, which must not change."""
    names, media = profile.headers, profile.media
    found = []
    kind, _ = parse_media_type(header(headers, names.content_type))
    if kind not in (media.status, media.multipart):
        found.append(
            Finding(
                CLIENT_CONTENT_TYPE,
                FAIL,
                f"{names.content_type} is {header(headers, names.content_type)!r}, "
                f"not {media.status}",
            )
        )
    accept = header(headers, names.accept)
    listed, odd = accept_lists(accept, profile)
    missing = [media[k] for k in profile.accept.required if media[k] not in listed]
    if accept is None:
        found.append(Finding(CLIENT_ACCEPT, FAIL, f"no {names.accept} header"))
    elif missing:
        found.append(
            Finding(
                CLIENT_ACCEPT,
                FAIL,
                f"{names.accept} {accept!r} does not admit {', '.join(missing)}",
            )
        )
    elif odd:
        found.append(
            Finding(
                CLIENT_ACCEPT,
                INFO,
                f"{names.accept} {accept!r} separates media types with {odd!r} as the "
                "draft writes it; HTTP uses ',' (A3, a defect of the draft)",
            )
        )
    value = header(headers, names.device_id)
    if not value or not value.strip():
        found.append(Finding(CLIENT_DEVICE_ID, FAIL, f"no {names.device_id} header"))
    elif device_id is not None and value != device_id:
        found.append(
            Finding(
                CLIENT_DEVICE_ID, FAIL, f"{names.device_id} changed from {device_id!r} to {value!r}"
            )
        )
    return found


def read_client_message(
    headers: Mapping[str, str], body: bytes, profile: Profile
) -> tuple[ClientMessage | None, list[Finding]]:
    """Decode a client's message; a body that cannot be read is a finding against 6.3."""
    content_type = header(headers, profile.headers.content_type)
    try:
        return decode_client_message(content_type, body, profile), []
    except ProtocolError as exc:
        return None, [Finding(CLIENT_CONTENT_TYPE, FAIL, f"message cannot be read: {exc}")]


def status_fits(command: Command, status: Status, profile: Profile) -> str | None:
    """Why `status` cannot be the status of `command`, or None if it can."""
    try:
        spec = check_command(command, profile).spec
    except CommandFailure as exc:
        allowed = {profile.status[exc.status]}
        if status.sc in allowed:
            return None
        return f"{command.name} is malformed ({exc.reason}); expected status {exc.status}"
    codes = {profile.status[name] for name in spec.statuses} | {profile.status.not_supported}
    if status.sc not in codes:
        return f"status {status.sc} is not one a {spec.name} can get ({sorted(codes)})"
    if spec.status_uri and status.sc == profile.status.ok and status.uri is None:
        return f"a {spec.name} that succeeded reports where it stored ({profile.keys.uri})"
    if not spec.status_uri and status.uri:
        return f"a {spec.name} status carries {profile.keys.uri}, which only GET reports"
    return None


def judge_statuses(
    commands: Sequence[Command], message: ClientMessage, profile: Profile
) -> list[Finding]:
    """One status per command (END excepted), in command order (seed 6.3)."""
    end = profile.for_action("end").name
    expected = [c for c in commands if c.name != end]
    statuses = message.statuses
    if len(statuses) != len(expected):
        return [
            Finding(
                STATUS_AFTER_COMMANDS,
                FAIL,
                f"{len(statuses)} statuses for {len(expected)} commands "
                f"({', '.join(c.name for c in expected) or 'none'})",
            )
        ]
    found = []
    for index, (command, status) in enumerate(zip(expected, statuses, strict=True)):
        problem = status_fits(command, status, profile)
        if problem:
            found.append(
                Finding(
                    STATUS_ORDER,
                    FAIL,
                    f"{profile.keys.status}[{index}] for {command.name}: {problem}",
                )
            )
    include = profile.for_action("include").name
    succeeded = sum(
        1
        for c, s in zip(expected, statuses, strict=True)
        if c.name == include and s.sc == profile.status.ok
    )
    if succeeded != len(message.includes):
        found.append(
            Finding(
                INCLUDE_MULTIPART,
                FAIL,
                f"{succeeded} successful {include} but {len(message.includes)} "
                f"{profile.media.tnds} parts (A8)",
            )
        )
    return found


def judge_server_answer(
    status: int, headers: Mapping[str, str], body: bytes, profile: Profile
) -> tuple[CommandMessage | None, list[Finding]]:
    """Seed 6.2 on a server's answer: HTTP 200, Content-Type application/dm20, commands of the
    table with their parameters (A1, A2, A5)."""
    names = profile.headers
    value = header(headers, names.content_type)
    found = []
    if status != profile.http_ok:
        found.append(
            Finding(SERVER_CONTENT_TYPE, FAIL, f"HTTP status {status}, not {profile.http_ok}")
        )
    if parse_media_type(value)[0] != profile.media.command:
        found.append(
            Finding(
                SERVER_CONTENT_TYPE,
                FAIL,
                f"{names.content_type} is {value!r}, not {profile.media.command}",
            )
        )
    try:
        message = decode_commands(body, profile)
    except ProtocolError as exc:
        found.append(Finding(SERVER_CONTENT_TYPE, FAIL, f"command message cannot be read: {exc}"))
        return None, found
    try:
        check_message(message, profile)
    except ProtocolError as exc:
        found.append(Finding(ALLOWED_COMMANDS, FAIL, f"command message breaks the table: {exc}"))
    return message, found
