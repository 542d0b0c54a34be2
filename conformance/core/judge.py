"""The rules of the draft as checks on what one side sent, each finding filed under the rule it
breaks (core/rules.py) and so under the one sentence or assumption that rule rests on. Every
check reports every problem it sees, not only the first. The same checks judge an implementation
under test and our own samples: the reference server judges a client's requests with them, the
sample server refuses what they condemn, the reference client judges a server's answers."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence

from conformance.core import rules
from conformance.core.codec import decode_client_message, decode_commands
from conformance.core.commands import check_command, check_message
from conformance.core.errors import CommandFailure, ProtocolError
from conformance.core.messages import ClientMessage, Command, CommandMessage, Status
from conformance.core.rules import Finding, Rule
from conformance.core.wire import accept_lists, parse_media_type
from conformance.profiles import Profile

REDIRECTION = 300  # RFC 9110 section 15: 3xx, 4xx and 5xx are no success
MAX_REORDERED = 64  # messages with more statuses are not searched for another order


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name (A16)."""
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def findings_of(error: ProtocolError, default: Rule) -> list[Finding]:
    """One finding per problem a ProtocolError lists, under the rule it names (else `default`)."""
    return [
        Finding(
            rules.RULES[p.rule] if p.rule else default,
            f"{p.where}: {p.what}" if p.where else p.what,
        )
        for p in error.problems
    ]


# -- a client's requests ------------------------------------------------------------------------
def judge_request_headers(
    headers: Mapping[str, str], profile: Profile, *, device_id: str | None = None
) -> list[Finding]:
    """Seed 6.3's header table on one client request. `device_id` is the ID the device used
    before, which must not change."""
    names, media = profile.headers, profile.media
    found = []
    content_type = header(headers, names.content_type)
    kind, _ = parse_media_type(content_type)
    if kind not in (media.status, media.multipart):
        found.append(
            Finding(
                rules.CLIENT_CONTENT_TYPE,
                f"{names.content_type} is {content_type!r}, not {media.status}",
            )
        )
    accept = header(headers, names.accept)
    listed, odd = accept_lists(accept, profile)
    missing = [media[k] for k in profile.accept.required if media[k] not in listed]
    if accept is None:
        found.append(Finding(rules.CLIENT_ACCEPT, f"no {names.accept} header"))
    elif missing:
        found.append(
            Finding(
                rules.CLIENT_ACCEPT,
                f"{names.accept} {accept!r} does not list {', '.join(missing)}",
            )
        )
    elif odd:
        found.append(
            Finding(
                rules.CLIENT_ACCEPT_SEPARATOR,
                f"{names.accept} {accept!r} separates media types with {odd!r} as the draft "
                "writes it; HTTP uses ',' (A3, a defect of the draft, not of the client)",
            )
        )
    value = header(headers, names.device_id)
    if not value or not value.strip():
        found.append(Finding(rules.CLIENT_DEVICE_ID, f"no {names.device_id} header"))
    elif device_id is not None and value != device_id:
        found.append(
            Finding(
                rules.CLIENT_DEVICE_ID_STABLE,
                f"{names.device_id} changed from {device_id!r} to {value!r}",
            )
        )
    return found


def read_client_message(
    headers: Mapping[str, str], body: bytes, profile: Profile
) -> tuple[ClientMessage | None, list[Finding]]:
    """Decode a client's message: every way it cannot be read is a finding of its own rule."""
    content_type = header(headers, profile.headers.content_type)
    try:
        message = decode_client_message(content_type, body, profile)
    except ProtocolError as exc:
        return None, findings_of(exc, rules.CLIENT_BODY)
    found = []
    if parse_media_type(content_type)[0] == profile.media.multipart and not message.includes:
        found.append(
            Finding(
                rules.CLIENT_MULTIPART_WITHOUT_INCLUDE,
                f"a {profile.media.multipart} message with no {profile.media.tnds} part",
            )
        )
    return message, found


def judge_first_only(message: ClientMessage, first: bool, profile: Profile) -> list[Finding]:
    """DevInfo, MO and MOMeta only in the first message of a session (P2.1)."""
    if first:
        return []
    keys = profile.keys
    present = [
        getattr(keys, name)
        for name in profile.first_message_only
        if getattr(message, name) is not None
    ]
    if not present:
        return []
    return [Finding(rules.CLIENT_FIRST_ONLY, f"a status message carries {', '.join(present)}")]


def _misfit(command: Command, status: Status, profile: Profile) -> tuple[Rule, str] | None:
    """Why `status` cannot be the status of `command` (the rule and what is wrong), or None."""
    try:
        checked = check_command(command, profile)
    except CommandFailure as exc:
        allowed = {profile.status[exc.status]}
        if exc.status == "bad_request":  # a known command: its feature may be missing (A5, A6)
            allowed.add(profile.status.not_supported)
        if status.sc in allowed:
            return None
        names = " or ".join(str(code) for code in sorted(allowed))
        return rules.STATUS_CODE, f"{command.name} is malformed ({exc.reason}): status {names}"
    spec = checked.spec
    codes = {profile.status[name] for name in spec.statuses}
    if status.sc not in codes:
        row = ", ".join(f"{profile.status[n]} {n}" for n in spec.statuses)
        return rules.STATUS_CODE, f"status {status.sc} is not one a {spec.name} gets (A5: {row})"
    # A19: without a ClientURI, URI lists what was stored, [] for an empty document
    located = bool(status.uri) or (status.uri is not None and not checked.client_uris())
    if spec.status_uri and status.sc == profile.status.ok and not located:
        return rules.STATUS_GET_URI, (
            f"a {spec.name} that succeeded reports where it stored ({profile.keys.uri})"
        )
    return None


def pairing(count: int, fits: Callable[[int, int], bool]) -> dict[int, int] | None:
    """A way to pair each of `count` things with one of `count` others so that every pair fits
    (a perfect bipartite matching, found by augmenting paths): thing -> other, or None."""
    partner: dict[int, int] = {}  # other -> thing

    def place(thing: int, seen: set[int]) -> bool:
        for other in range(count):
            if other not in seen and fits(thing, other):
                seen.add(other)
                if other not in partner or place(partner[other], seen):
                    partner[other] = thing
                    return True
        return False

    if not all(place(thing, set()) for thing in range(count)):
        return None
    return {thing: other for other, thing in partner.items()}


def one_to_one(count: int, fits: Callable[[int, int], bool]) -> bool:
    """Whether `count` things can each be paired with one of `count` others, every pair fitting."""
    return pairing(count, fits) is not None


def _reordering(
    commands: Sequence[Command], statuses: Sequence[Status], profile: Profile
) -> list[Status] | None:
    """The statuses put in an order where each fits its command, when they fit only in another
    order than the one they came in; None when they fit as they came, or in no order."""
    if len(statuses) != len(commands) or len(statuses) > MAX_REORDERED:
        return None
    fit = [[_misfit(c, s, profile) is None for s in statuses] for c in commands]
    if all(fit[i][i] for i in range(len(commands))):
        return None
    paired = pairing(len(commands), lambda c, s: fit[c][s])
    return None if paired is None else [statuses[paired[i]] for i in range(len(commands))]


def in_command_order(
    commands: Sequence[Command], statuses: Sequence[Status], profile: Profile
) -> Sequence[Status]:
    """The statuses of `commands` (END excepted) as their commands had them: where they fit
    their commands only in another order, in that order (the order is then the one thing wrong,
    seed 6.3, and what follows from a status, such as where a CONT moved the session, is read
    from the status that belongs to the command); otherwise as they came."""
    end = profile.for_action("end").name
    answered = [c for c in commands if c.name != end]
    return _reordering(answered, statuses, profile) or statuses


def judge_statuses(
    commands: Sequence[Command], message: ClientMessage, profile: Profile
) -> list[Finding]:
    """One status per command (END excepted, P1.3); each fits its command (A5, seed 6.2 GET's
    Param1), and where they fit only in another order, the order is what is wrong (seed 6.3);
    one tnds20 part per INCLUDE that succeeded (seed 6.2 INCLUDE, A8): with statuses out of
    order, which INCLUDE succeeded is open, and only a count no order allows is wrong."""
    end = profile.for_action("end").name
    expected = [c for c in commands if c.name != end]
    statuses = message.statuses
    if len(statuses) != len(expected):
        return [
            Finding(
                rules.STATUS_COUNT,
                f"{len(statuses)} statuses for {len(expected)} commands "
                f"({', '.join(c.name for c in expected) or 'none'})",
            )
        ]
    found = []
    misfits = [
        (index, command, problem)
        for index, (command, status) in enumerate(zip(expected, statuses, strict=True))
        if (problem := _misfit(command, status, profile)) is not None
    ]
    reordered = _reordering(expected, statuses, profile) if misfits else None
    if reordered is not None:
        codes = [s.sc for s in statuses]
        found.append(
            Finding(
                rules.STATUS_ORDER,
                f"statuses {codes} for {', '.join(c.name for c in expected)}: they fit the "
                "commands only in another order",
            )
        )
    else:
        key = profile.keys.status
        found += [
            Finding(rule, f"{key}[{index}] for {command.name}: {problem}")
            for index, command, (rule, problem) in misfits
        ]
    include = profile.for_action("include").name
    ok = profile.status.ok
    if reordered is None:
        fewest = most = sum(
            1 for c, s in zip(expected, statuses, strict=True) if c.name == include and s.sc == ok
        )
    else:  # which INCLUDE had which status is open: only what no order allows is wrong
        includes = [c for c in expected if c.name == include]
        fitting = [s for s in statuses if any(_misfit(c, s, profile) is None for c in includes)]
        refusals = sum(1 for s in fitting if s.sc != ok)
        fewest = max(0, len(includes) - refusals)
        most = min(len(includes), len(fitting) - refusals)
    parts = len(message.includes)
    if parts < fewest:
        least = "" if fewest == most else "at least "
        found.append(
            Finding(
                rules.INCLUDE_PARTS_MISSING,
                f"{least}{fewest} {include} succeeded but the message has {parts} "
                f"{profile.media.tnds} part(s)",
            )
        )
    elif parts > most:
        found.append(
            Finding(
                rules.INCLUDE_PARTS_EXTRA,
                f"{parts} {profile.media.tnds} part(s) for {most} {include} that succeeded",
            )
        )
    return found


# -- a server's answers -------------------------------------------------------------------------
def judge_server_answer(
    status: int, headers: Mapping[str, str], body: bytes, profile: Profile
) -> tuple[CommandMessage | None, list[Finding]]:
    """Seed 6 and 6.2 on a server's answer: HTTP 200 (P1.2), Content-Type application/dm20
    (seed 6.2), a command message (seed 6) whose commands fit the table (A18, the signature
    rows, A20, A2). An answer that is no success (300 and up) refuses the message: it is no
    command message, and P1.2 is all it breaks (its commands, if any, are still read)."""
    names = profile.headers
    value = header(headers, names.content_type)
    found = []
    if status != profile.http_ok:
        found.append(Finding(rules.SERVER_HTTP_OK, f"HTTP status {status}, not {profile.http_ok}"))
    if status >= REDIRECTION:
        with contextlib.suppress(ProtocolError):
            return decode_commands(body, profile), found
        return None, found
    if parse_media_type(value)[0] != profile.media.command:
        found.append(
            Finding(
                rules.SERVER_CONTENT_TYPE,
                f"{names.content_type} is {value!r}, not {profile.media.command}",
            )
        )
    try:
        message = decode_commands(body, profile)
    except ProtocolError as exc:
        return None, found + findings_of(exc, rules.SERVER_COMMAND_MESSAGE)
    return message, found + check_message(message, profile)
