"""Hypothesis properties: codecs round-trip; decoders give a value or a ProtocolError only; the
judge and the observer never raise and file every finding under a rule of the table; the core's
client answers any command message with statuses the core's judge finds nothing wrong with."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.core.client import ClientSession, Done, Fetch, Response, Send, Upload
from conformance.core.codec import (
    decode_client_message,
    decode_commands,
    encode_client_message,
    encode_commands,
)
from conformance.core.commands import check_command
from conformance.core.errors import CommandFailure, ProtocolError
from conformance.core.judge import judge_request_headers, judge_server_answer, judge_statuses
from conformance.core.messages import Alert, ClientMessage, Command, CommandMessage, Status
from conformance.core.multipart import decode_multipart, encode_multipart
from conformance.core.observer import DeviceObserver
from conformance.core.rules import RULES, Finding, signature_rule
from conformance.core.tnds import decode_document, encode_document
from conformance.core.uri import ClientURI, parse_client_uri
from conformance.core.wire import parse_json

from .conftest import CONF, DEVINFO, PROFILE, SESSION_URL, client_headers, make_device, tnds

SOME = settings(max_examples=150)
MANY = settings(max_examples=300)
MEDIA = PROFILE.media

# -- strategies ----------------------------------------------------------------------------------
leaves = (
    st.text(max_size=12)
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
)
json_values = st.recursive(
    st.none() | leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
node_names = st.text(min_size=1, max_size=8).filter(lambda s: "/" not in s and "?" not in s)
nodes = st.recursive(
    leaves, lambda inner: st.dictionaries(node_names, inner, max_size=4), max_leaves=12
)
documents = st.dictionaries(st.text(min_size=1, max_size=20), nodes, max_size=4)

commands = st.builds(
    Command, st.text(max_size=10), st.lists(st.text(max_size=20), max_size=4).map(tuple)
)
command_messages = st.builds(CommandMessage, st.lists(commands, min_size=1, max_size=6).map(tuple))

statuses = st.builds(
    Status,
    st.integers(min_value=100, max_value=999),
    st.none() | st.lists(st.text(min_size=1, max_size=20), max_size=3).map(tuple),
    st.none() | st.text(max_size=20),
)
alerts = st.builds(
    Alert,
    st.text(min_size=1, max_size=20),
    st.none() | st.text(max_size=20),
    st.none() | st.text(max_size=10),
    json_values,
)
objects = st.dictionaries(st.text(max_size=8), json_values, max_size=3)
devinfos = st.builds(  # A17: a DevInfo carries DevID
    lambda members, devid: {**members, PROFILE.keys.devid: devid}, objects, st.text(max_size=20)
)
client_messages = st.builds(
    ClientMessage,
    st.lists(statuses, max_size=5).map(tuple),
    st.none() | devinfos,
    st.none() | objects,
    st.none() | st.lists(objects, max_size=3).map(tuple),
    st.none() | st.lists(alerts, max_size=3).map(tuple),
    st.lists(documents, max_size=3).map(tuple),
)

segments = st.text(min_size=1, max_size=8).filter(
    lambda s: "/" not in s and "?" not in s and s not in (".", "..")
)
moids = (
    st.text(min_size=1, max_size=12)
    .filter(lambda s: "/" not in s and "?" not in s and not any(c.isspace() for c in s))
    .map(lambda s: f"urn:{s}")
)
levels = st.none() | st.integers(min_value=0, max_value=10**6)
client_uris = st.builds(
    ClientURI, moids, segments, st.lists(segments, max_size=4).map(tuple), levels
) | st.builds(ClientURI, st.none(), st.none(), st.just(()), levels)


def render(uri: ClientURI) -> str:
    query = "" if uri.levels is None else f"?{PROFILE.client_uri.levels_query}={uri.levels}"
    return uri.target(PROFILE) + query


# -- round trips ---------------------------------------------------------------------------------
@MANY
@given(command_messages)
def test_command_message_round_trip(message: CommandMessage) -> None:
    assert decode_commands(encode_commands(message, PROFILE), PROFILE) == message


@MANY
@given(client_messages)
def test_client_message_round_trip(message: ClientMessage) -> None:
    content_type, body = encode_client_message(message, PROFILE)
    expected = MEDIA.multipart if message.includes else MEDIA.status
    assert content_type.split(";")[0] == expected
    assert decode_client_message(content_type, body, PROFILE) == message


@MANY
@given(documents)
def test_document_round_trip(document: dict[str, Any]) -> None:
    assert decode_document(encode_document(document), PROFILE) == document


# Part bodies without line ends: the encoder writes each part as 8bit text, whose line ends come
# out as CRLF; the parts the core sends are compact JSON (dump_json), which has none.
part_bodies = st.binary().filter(lambda b: b"\r" not in b and b"\n" not in b)


@MANY
@given(
    st.lists(
        st.tuples(st.sampled_from([MEDIA.status, MEDIA.tnds, "a/b"]), part_bodies),
        min_size=1,
        max_size=4,
    )
)
def test_multipart_round_trip(parts: list[tuple[str, bytes]]) -> None:
    content_type, body = encode_multipart(MEDIA.multipart, parts)
    assert decode_multipart(content_type, body) == parts


@MANY
@given(client_uris)
def test_client_uri_round_trip(uri: ClientURI) -> None:
    assert parse_client_uri(render(uri), PROFILE) == uri


@SOME
@given(moids, levels)
def test_new_instance_uri_round_trip(moid: str, n: int | None) -> None:
    uri = ClientURI(moid, "", (), n)
    assert parse_client_uri(render(uri), PROFILE, allow_new_instance=True) == uri


# -- nothing but ProtocolError -------------------------------------------------------------------
def value_or_protocol_error(call: Callable[[], Any]) -> None:
    try:
        call()
    except ProtocolError as exc:
        assert str(exc)


def decoders(body: bytes, content_type: str) -> list[Callable[[], Any]]:
    return [
        lambda: parse_json(body, PROFILE),
        lambda: decode_commands(body, PROFILE),
        lambda: decode_client_message(MEDIA.status, body, PROFILE),
        lambda: decode_client_message(None, body, PROFILE),
        lambda: decode_client_message(content_type, body, PROFILE),
        lambda: decode_document(body, PROFILE),
        lambda: decode_multipart(content_type, body),
    ]


multipart_types = st.sampled_from(
    [
        MEDIA.multipart,
        f"{MEDIA.multipart}; boundary=b",
        f'{MEDIA.multipart}; boundary="b"',
        f"{MEDIA.multipart}; boundary=\u00e9",
        "multipart/mixed; boundary=" + "x" * 71,
    ]
) | st.text(max_size=40).map(lambda t: f"{MEDIA.multipart}; {t}")
tokens = st.sampled_from(
    [
        b"--b",
        b"--b--",
        b"\r\n",
        b"\r\n\r\n",
        b"Content-Type: ",
        MEDIA.status.encode(),
        MEDIA.tnds.encode(),
        b'{"Status":[]}',
        b'{"k":1}',
        b"{",
        b":",
        b"\xff",
    ]
)
multipart_bodies = st.lists(tokens | st.binary(max_size=6), max_size=16).map(b"".join)


@MANY
@given(st.binary(max_size=200), multipart_types)
def test_random_bytes(body: bytes, content_type: str) -> None:
    for call in decoders(body, content_type):
        value_or_protocol_error(call)


@MANY
@given(multipart_bodies, multipart_types)
def test_multipart_like_bytes(body: bytes, content_type: str) -> None:
    for call in decoders(body, content_type):
        value_or_protocol_error(call)


wrappers = st.sampled_from(
    [
        lambda v: v,
        lambda v: {"CMD": v},
        lambda v: {"CMD": [v]},
        lambda v: {"Status": v},
        lambda v: {"Status": [v]},
        lambda v: {"Status": [], "Alert": v},
        lambda v: {"Status": [], "Alert": [v]},
        lambda v: {"k": v},
    ]
)


@MANY
@given(json_values, wrappers)
def test_random_json(value: Any, wrap: Callable[[Any], Any]) -> None:
    body = json.dumps(wrap(value)).encode()
    for call in decoders(body, f"{MEDIA.multipart}; boundary=b"):
        value_or_protocol_error(call)


@MANY
@given(st.text(max_size=60))
def test_random_client_uris(text: str) -> None:
    for allow in (False, True):
        value_or_protocol_error(
            lambda a=allow: parse_client_uri(text, PROFILE, allow_new_instance=a)
        )


SIGNATURES = {signature_rule(spec) for spec in PROFILE.commands}


def in_the_table(findings: list[Finding]) -> bool:
    """Every finding is filed under a rule of the table (or a command's signature rule) and so
    under that rule's basis."""
    return all(
        (RULES.get(f.rule.key) is f.rule or f.rule in SIGNATURES)
        and f.requirement == f.rule.basis
        and f.message
        for f in findings
    )


command_bodies = (
    st.binary(max_size=100)
    | command_messages.map(lambda m: encode_commands(m, PROFILE))
    | st.lists(json_values, max_size=3).map(lambda v: json.dumps({"CMD": v}).encode())
)


@MANY
@given(st.integers(min_value=100, max_value=599), st.text(max_size=30), command_bodies)
def test_judge_server_answer_never_raises(status: int, content_type: str, body: bytes) -> None:
    message, findings = judge_server_answer(
        status, {PROFILE.headers.content_type: content_type}, body, PROFILE
    )
    assert message is not None or findings
    assert in_the_table(findings)


@SOME
@given(
    st.dictionaries(
        st.sampled_from(["Content-Type", "accept", "X-OMADMDevID", "Other"]), st.text(max_size=40)
    )
)
def test_judge_request_headers_never_raises(headers: dict[str, str]) -> None:
    assert in_the_table(judge_request_headers(headers, PROFILE, device_id="x"))


# -- the client never crashes on a command message ----------------------------------------------
params = st.sampled_from(
    [
        "*",
        "*?Levels=1",
        f"{CONF}/0",
        f"{CONF}/1?Levels=0",
        f"{CONF}/",
        f"{CONF}/0/Reboot",
        f"{DEVINFO}/0",
        f"{CONF}/9",
        "urn:oma:mo:mms:1.0",
        "http://c.example/x",
        "",
        "..",
        "x/y",
    ]
) | st.text(max_size=12)
names = st.sampled_from([c.name for c in PROFILE.commands] + ["FOO", "get"])
any_commands = st.builds(Command, names, st.lists(params, max_size=4).map(tuple))


@SOME
@given(any_commands)
def test_check_command_fails_only_with_command_failure(command: Command) -> None:
    try:
        checked = check_command(command, PROFILE)
    except CommandFailure as exc:
        assert exc.status in ("bad_request", "unknown_command")
    else:
        assert checked.spec.name == command.name


contents = st.sampled_from([{}, {f"{CONF}/1": {"Name": "x"}}, {f"{CONF}/": {"A": 1}}, {"k": 1}])


@SOME
@given(
    st.lists(st.lists(any_commands, min_size=1, max_size=5), min_size=1, max_size=3),
    contents,
)
def test_client_answers_any_command_messages(
    batches: list[list[Command]], content: dict[str, Any]
) -> None:
    """One status per command of every message without END, each one the judge finds fitting;
    then a 500 answer aborts (A1)."""
    end = PROFILE.for_action("end").name
    session = ClientSession(PROFILE, make_device(), SESSION_URL)
    action: Any = session.start()
    pending = list(batches)
    last: list[Command] | None = None
    for _ in range(200):
        if isinstance(action, Done):
            break
        if isinstance(action, Send):
            if last is not None:
                assert len(action.message.statuses) == len(last)
                assert all(c.name != end for c in last)
                assert judge_statuses(last, action.message, PROFILE) == []
            if pending:
                last = pending.pop(0)
                body = encode_commands(CommandMessage(tuple(last)), PROFILE)
                session.receive(Response(PROFILE.http_ok, MEDIA.command, body))
            else:
                session.receive(Response(500))
        elif isinstance(action, Fetch):
            session.complete(tnds(content))
        elif isinstance(action, Upload):
            decode_document(action.body, PROFILE)
            session.complete(Response(204))
        else:
            session.complete(True)
        action = session.next_action()
    assert isinstance(action, Done)
    assert action.aborted == (last is not None and all(c.name != end for c in last))


urls = st.sampled_from([SESSION_URL, "http://srv.example/moved", "http://srv.example/alerts"])
client_bodies = client_messages.map(lambda m: encode_client_message(m, PROFILE)) | st.tuples(
    multipart_types | st.just(MEDIA.status), st.binary(max_size=60)
)
answers = st.none() | st.lists(any_commands, max_size=3).map(tuple)


@settings(max_examples=100)
@given(st.lists(st.tuples(urls, client_bodies, answers, st.booleans()), max_size=6))
def test_the_observer_takes_any_sequence_of_messages(
    sequence: list[tuple[str, tuple[str, bytes], tuple[Command, ...] | None, bool]],
) -> None:
    """Messages answered with commands (or refused, A1, or not at all): each message is routed
    to a session exactly when it can be read; sessions are numbered in the order they opened;
    every finding is under a rule of the table."""
    observer = DeviceObserver(PROFILE)
    for url, (content_type, body), answer, refused in sequence:
        routed = observer.client_message(url, client_headers(content_type), body)
        assert (routed.message is None) == (routed.session is None)
        assert in_the_table(routed.findings)
        if routed.session is not None and refused:
            routed.session.bad_answer()
        elif routed.session is not None and answer is not None:
            routed.session.commands(answer)
    assert [s.number for s in observer.sessions] == list(range(1, len(observer.sessions) + 1))
