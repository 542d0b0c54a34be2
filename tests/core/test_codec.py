"""Codecs: command and client messages, multipart (A8), tnds20, alerts, body limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conformance.core.codec import (
    client_message_json,
    decode_client_message,
    decode_commands,
    encode_client_message,
    encode_commands,
)
from conformance.core.errors import CommandFailure, ProtocolError
from conformance.core.messages import Alert, ClientMessage, Command, CommandMessage, Status
from conformance.core.multipart import decode_multipart, encode_multipart, make_boundary
from conformance.core.tnds import decode_document, encode_document
from conformance.core.wire import accept_lists, dump_json, parse_json, parse_media_type

from .conftest import CONF, DEVINFO, PROFILE, C, sc

STATUS = PROFILE.media.status
KEYS = PROFILE.keys


def raises_at(where: str, call: Callable[[], Any]) -> ProtocolError:
    """Run `call`, expect a ProtocolError placed at `where`, and return it."""
    with pytest.raises(ProtocolError) as info:
        call()
    assert info.value.where == where, str(info.value)
    assert str(info.value).startswith(f"{where}: ")
    return info.value


def cm(value: Any) -> bytes:
    return json.dumps(value).encode()


# -- command messages ----------------------------------------------------------------------------
def test_command_message_round_trip() -> None:
    message = CommandMessage(
        (
            C("GET", "http://srv/mo/1", f"{CONF}/1"),
            C("PUT", "http://srv/up", f"{DEVINFO}/0?Levels=1", "*"),
            C("END"),
        )
    )
    body = encode_commands(message, PROFILE)
    assert json.loads(body) == {KEYS.commands: [c.as_list() for c in message.commands]}
    assert decode_commands(body, PROFILE) == message


def test_command_message_is_compact_utf8() -> None:
    body = encode_commands(CommandMessage((C("GET", "http://srv/é"),)), PROFILE)
    assert body == '{"CMD":[["GET","http://srv/é"]]}'.encode()


def test_decode_commands_keeps_unknown_names_and_any_arity() -> None:
    # The shape is checked here; names and arity are checked per command (check_command).
    body = cm({KEYS.commands: [["FOO", "a", "b"], ["DELETE"]]})
    assert decode_commands(body, PROFILE).commands == (
        Command("FOO", ("a", "b")),
        Command("DELETE", ()),
    )


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"CMD": [["GET"], [1]]}, "CMD[1][0]"),
        ({"CMD": [["GET", "http://a", 7]]}, "CMD[0][2]"),
        ({"CMD": []}, "CMD"),
        ({"CMD": [[]]}, "CMD[0]"),
        ({"CMD": ["GET"]}, "CMD[0]"),
        ({"CMD": "GET"}, "CMD"),
        ({"CMD": [["END"]], "Extra": 1}, "Extra"),
        ({}, "body"),
        ([], "body"),
        ("CMD", "body"),
    ],
)
def test_decode_commands_names_the_place(value: Any, where: str) -> None:
    raises_at(where, lambda: decode_commands(cm(value), PROFILE))


def test_decode_commands_bounds_the_number_of_commands() -> None:
    limit = PROFILE.limits.max_commands
    decode_commands(cm({KEYS.commands: [["END"]] * limit}), PROFILE)
    raises_at("CMD", lambda: decode_commands(cm({KEYS.commands: [["END"]] * (limit + 1)}), PROFILE))


# -- client messages -----------------------------------------------------------------------------
FIRST = ClientMessage(
    statuses=(),
    devinfo={"DevID": "IMEI:1", "Man": "Acme", "Mod": "X1", "DmV": "2.0"},
    mo={f"{CONF}/0": {"Name": "zero", "Sub": {"A": 1}}},
    mometa=({"MOID": DEVINFO, "Instances": ["0"], "DDF": "http://ddf/devinfo"},),
    alerts=(
        Alert(PROFILE.alerts.generic, f"{CONF}/0", "informational", {KEYS.result: sc("ok")}),
        Alert("urn:oma:at:dm:2.0:Other"),
    ),
)


def test_first_message_round_trip() -> None:
    content_type, body = encode_client_message(FIRST, PROFILE)
    assert content_type == STATUS
    value = json.loads(body)
    assert value[KEYS.status] == []
    assert value[KEYS.devinfo] == FIRST.devinfo
    assert value[KEYS.mo] == FIRST.mo
    assert value[KEYS.mometa] == list(FIRST.mometa or ())
    assert value[KEYS.alert] == [
        {
            KEYS.alert_type: PROFILE.alerts.generic,
            KEYS.source_uri: f"{CONF}/0",
            KEYS.mark: "informational",
            KEYS.data: {KEYS.result: sc("ok")},
        },
        {KEYS.alert_type: "urn:oma:at:dm:2.0:Other"},
    ]
    assert decode_client_message(content_type, body, PROFILE) == FIRST


def test_status_message_round_trip_with_uri_and_reason() -> None:
    message = ClientMessage(
        statuses=(
            Status(sc("ok"), uri=(f"{CONF}/1", f"{CONF}/2")),
            Status(sc("not_found"), reason="no node x"),
            Status(sc("ok")),
        )
    )
    content_type, body = encode_client_message(message, PROFILE)
    assert content_type == STATUS
    assert json.loads(body) == {
        KEYS.status: [
            {KEYS.sc: sc("ok"), KEYS.uri: [f"{CONF}/1", f"{CONF}/2"]},
            {KEYS.sc: sc("not_found"), KEYS.reason: "no node x"},
            {KEYS.sc: sc("ok")},
        ]
    }
    assert decode_client_message(content_type, body, PROFILE) == message


def test_status_message_leaves_out_absent_members() -> None:
    assert client_message_json(ClientMessage(), PROFILE) == {KEYS.status: []}


def test_decode_client_message_reads_media_type_case_insensitively() -> None:
    body = cm({KEYS.status: [{KEYS.sc: sc("ok")}]})
    message = decode_client_message("Application/DM20Status; charset=utf-8", body, PROFILE)
    assert message.statuses == (Status(sc("ok")),)


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"Status": [{"sc": "200"}]}, "Status[0].sc"),
        ({"Status": [{"sc": 200}, {"sc": 99}]}, "Status[1].sc"),
        ({"Status": [{"sc": 200}, {}]}, "Status[1]"),
        ({"Status": [{"sc": 200, "URI": [1]}]}, "Status[0].URI[0]"),
        ({"Status": [{"sc": 200, "URI": "x"}]}, "Status[0].URI"),
        ({"Status": [{"sc": 200, "Reason": 1}]}, "Status[0].Reason"),
        ({"Status": [{"sc": 200, "Why": "x"}]}, "Status[0].Why"),
        ({"Status": {}}, "Status"),
        ({"Status": [], "Alert": [{"Mark": "x"}]}, "Alert[0]"),
        ({"Status": [], "Alert": [{"AlertType": ""}]}, "Alert[0].AlertType"),
        ({"Status": [], "Alert": [{"AlertType": "a", "Extra": 1}]}, "Alert[0].Extra"),
        ({"Status": [], "DevInfo": []}, "DevInfo"),
        ({"Status": [], "MOMeta": [1]}, "MOMeta[0]"),
        ({"Status": [], "Other": 1}, "Other"),
        ({}, "body"),
        ([], "body"),
    ],
)
def test_decode_client_message_names_the_place(value: Any, where: str) -> None:
    raises_at(where, lambda: decode_client_message(STATUS, cm(value), PROFILE))


# -- alerts --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "alert",
    [
        Alert(PROFILE.alerts.generic),
        Alert(PROFILE.alerts.generic, f"{CONF}/0/Reboot", None, {KEYS.result: sc("ok")}),
        Alert("urn:x", None, "critical", [1, "two", None]),
        Alert("urn:x", "s", "m", 0),
    ],
)
def test_alert_round_trip(alert: Alert) -> None:
    message = ClientMessage(alerts=(alert,))
    content_type, body = encode_client_message(message, PROFILE)
    assert decode_client_message(content_type, body, PROFILE).alerts == (alert,)


def test_alerts_may_be_an_empty_list() -> None:
    message = ClientMessage(alerts=())
    content_type, body = encode_client_message(message, PROFILE)
    assert json.loads(body)[KEYS.alert] == []
    assert decode_client_message(content_type, body, PROFILE) == message


# -- multipart INCLUDE form (A8) -----------------------------------------------------------------
INCLUDING = ClientMessage(
    statuses=(Status(sc("ok")), Status(sc("not_found"), reason="x"), Status(sc("ok"))),
    includes=({f"{CONF}/0": {"Name": "zero"}}, {f"{CONF}/1": {}, f"{DEVINFO}/0": {"Man": "A"}}),
)


def test_multipart_round_trip() -> None:
    content_type, body = encode_client_message(INCLUDING, PROFILE)
    media, params = parse_media_type(content_type)
    assert media == PROFILE.media.multipart
    assert params["boundary"]
    assert decode_client_message(content_type, body, PROFILE) == INCLUDING


def test_multipart_parts_are_status_then_one_tnds_part_per_include() -> None:
    content_type, body = encode_client_message(INCLUDING, PROFILE)
    parts = decode_multipart(content_type, body)
    assert [t for t, _ in parts] == [STATUS, PROFILE.media.tnds, PROFILE.media.tnds]
    assert json.loads(parts[0][1]) == client_message_json(INCLUDING, PROFILE)
    assert [json.loads(b) for _, b in parts[1:]] == list(INCLUDING.includes)


def test_multipart_boundary_is_in_no_part() -> None:
    tricky = b"--dm20-\r\n--dm20-0000\r\n\r\n"
    parts = [(STATUS, b"{}"), (PROFILE.media.tnds, tricky), (PROFILE.media.tnds, b"--")]
    boundary = make_boundary(parts)
    assert all(boundary.encode() not in body for _, body in parts)
    content_type, body = encode_multipart(PROFILE.media.multipart, parts)
    assert parse_media_type(content_type)[1]["boundary"] == boundary
    assert decode_multipart(content_type, body) == parts


def test_multipart_encoding_is_deterministic() -> None:
    assert encode_client_message(INCLUDING, PROFILE) == encode_client_message(INCLUDING, PROFILE)


@pytest.fixture
def multipart() -> tuple[str, bytes]:
    return encode_client_message(INCLUDING, PROFILE)


def test_multipart_part_with_wrong_media_type(multipart: tuple[str, bytes]) -> None:
    content_type, body = multipart
    bad = body.replace(
        b"Content-Type: " + PROFILE.media.tnds.encode(), b"Content-Type: text/plain", 1
    )
    error = raises_at("multipart[1]", lambda: decode_client_message(content_type, bad, PROFILE))
    assert "text/plain" in str(error)


def test_multipart_first_part_must_be_the_status_message(multipart: tuple[str, bytes]) -> None:
    content_type, body = multipart
    bad = body.replace(STATUS.encode(), PROFILE.media.tnds.encode(), 1)
    raises_at("multipart[0]", lambda: decode_client_message(content_type, bad, PROFILE))


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/mixed",
        "multipart/mixed; boundary=",
        'multipart/mixed; boundary="' + "b" * 71 + '"',
    ],
)
def test_multipart_without_usable_boundary(multipart: tuple[str, bytes], content_type: str) -> None:
    raises_at("Content-Type", lambda: decode_client_message(content_type, multipart[1], PROFILE))


def test_multipart_boundary_from_header_must_match_body(multipart: tuple[str, bytes]) -> None:
    raises_at(
        "multipart",
        lambda: decode_client_message('multipart/mixed; boundary="other"', multipart[1], PROFILE),
    )


def test_multipart_missing_closing_boundary(multipart: tuple[str, bytes]) -> None:
    content_type, body = multipart
    truncated = body[: body.rindex(b"\r\n--")]
    error = raises_at("multipart", lambda: decode_client_message(content_type, truncated, PROFILE))
    assert "closing" in str(error)


def test_multipart_part_headers_checked() -> None:
    b = "b"
    content_type = f'multipart/mixed; boundary="{b}"'
    no_type = b"--b\r\nX-Other: 1\r\n\r\n{}\r\n--b--\r\n"
    raises_at("multipart[0]", lambda: decode_multipart(content_type, no_type))
    bad_line = b"--b\r\nContent-Type: a/b\r\nnonsense\r\n\r\n{}\r\n--b--\r\n"
    raises_at("multipart[0]", lambda: decode_multipart(content_type, bad_line))
    no_blank = b"--b\r\nContent-Type: a/b\r\n--b--\r\n"
    raises_at("multipart[0]", lambda: decode_multipart(content_type, no_blank))
    no_crlf = b"--b Content-Type: a/b\r\n\r\n{}\r\n--b--\r\n"
    raises_at("multipart[0]", lambda: decode_multipart(content_type, no_crlf))
    second = b"--b\r\nContent-Type: a/b\r\n\r\n{}\r\n--b\r\n\r\n\r\n--b--\r\n"
    raises_at("multipart[1]", lambda: decode_multipart(content_type, second))
    raises_at("multipart", lambda: decode_multipart(content_type, b"--b--\r\n"))


def test_multipart_part_header_names_and_types_are_case_insensitive() -> None:
    body = b"--b\r\ncontent-type: Application/TNDS20; x=1\r\n\r\n{}\r\n--b--\r\n"
    assert decode_multipart('multipart/mixed; boundary="b"', body) == [(PROFILE.media.tnds, b"{}")]


def test_multipart_bad_parts_are_placed(multipart: tuple[str, bytes]) -> None:
    content_type, body = multipart
    bad_doc = body.replace(b'{"Name":"zero"}', b'{"Name":[1]}')
    raises_at(
        f"multipart[1].{CONF}/0.Name",
        lambda: decode_client_message(content_type, bad_doc, PROFILE),
    )
    bad_json = body.replace(b'{"Name":"zero"}', b"{nope")
    raises_at("multipart[1]", lambda: decode_client_message(content_type, bad_json, PROFILE))
    bad_head = body.replace(b'"sc":200', b'"sc":"x"', 1)
    raises_at(
        "multipart[0].Status[0].sc", lambda: decode_client_message(content_type, bad_head, PROFILE)
    )


# -- tnds20 --------------------------------------------------------------------------------------
def test_tnds_round_trip() -> None:
    document = {
        f"{CONF}/0": {"Name": "zero", "N": 1, "F": 1.5, "B": False, "Sub": {"A": {}}},
        f"{DEVINFO}/0/Man": "Acme",
    }
    assert decode_document(encode_document(document), PROFILE) == document
    assert decode_document(b"{}", PROFILE) == {}


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({f"{CONF}/0": [1]}, f"tnds20.{CONF}/0"),
        ({f"{CONF}/0": None}, f"tnds20.{CONF}/0"),
        ({f"{CONF}/0": {"a/b": 1}}, f"tnds20.{CONF}/0"),
        ({f"{CONF}/0": {"a?": 1}}, f"tnds20.{CONF}/0"),
        ({f"{CONF}/0": {"": 1}}, f"tnds20.{CONF}/0"),
        ({f"{CONF}/0": {"A": {"B": None}}}, f"tnds20.{CONF}/0.A.B"),
        ({"": 1}, "tnds20"),
        ([], "tnds20"),
        ("x", "tnds20"),
    ],
)
def test_tnds_bad_documents_name_the_place(value: Any, where: str) -> None:
    raises_at(where, lambda: decode_document(cm(value), PROFILE))


# -- body limits (every decoder) -----------------------------------------------------------------
DECODERS: dict[str, Callable[[bytes], Any]] = {
    "commands": lambda b: decode_commands(b, PROFILE),
    "client": lambda b: decode_client_message(STATUS, b, PROFILE),
    "tnds20": lambda b: decode_document(b, PROFILE),
}
DEEP = 100_000


@pytest.mark.parametrize("decode", DECODERS.values(), ids=DECODERS.keys())
@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b" " * (PROFILE.limits.max_body_bytes + 1), "limit"),
        (b'{"\xff": 1}', "UTF-8"),
        (b'{"a": "\xed\xa0\x80"}', "UTF-8"),
        (b"[" * DEEP + b"]" * DEEP, "nested"),
        (b'{"a":' * DEEP + b"1" + b"}" * DEEP, "nested"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": Infinity}', "Infinity"),
        (b'{"a": -Infinity}', "Infinity"),
        (b'{"a": 1', "JSON"),
        (b"", "JSON"),
    ],
    ids=[
        "size",
        "utf8",
        "surrogate-bytes",
        "deep-list",
        "deep-dict",
        "nan",
        "inf",
        "-inf",
        "truncated",
        "empty",
    ],
)
def test_bad_bodies_are_protocol_errors(
    decode: Callable[[bytes], Any], body: bytes, what: str
) -> None:
    error = raises_at(
        "body" if decode is not DECODERS["tnds20"] else "tnds20", lambda: decode(body)
    )
    assert what in str(error)


def test_body_limit_is_inclusive() -> None:
    limit = PROFILE.limits.max_body_bytes
    body = b'"' + b"a" * (limit - 2) + b'"'
    assert len(parse_json(body, PROFILE)) == limit - 2
    raises_at("body", lambda: parse_json(body + b" ", PROFILE))


def test_json_depth_limit_is_inclusive() -> None:
    depth = PROFILE.limits.max_json_depth
    value = parse_json(b"[" * depth + b"]" * depth, PROFILE)
    for _ in range(depth - 1):
        [value] = value
    assert value == []
    raises_at("x", lambda: parse_json(b"[" * (depth + 1) + b"]" * (depth + 1), PROFILE, "x"))


def test_overflowing_number_is_refused() -> None:
    with pytest.raises(ProtocolError):
        parse_json(b'{"a": 1e999}', PROFILE)


def test_lone_surrogate_escape_is_refused() -> None:
    with pytest.raises(ProtocolError):
        parse_json(b'{"a": "\\ud800"}', PROFILE)


def test_dump_json_is_compact() -> None:
    assert dump_json({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()


# -- header values -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("", {})),
        ("", ("", {})),
        ("Application/DM20", ("application/dm20", {})),
        ('multipart/mixed; Boundary="a b"; x', ("multipart/mixed", {"boundary": "a b"})),
        ("text/plain;charset=utf-8", ("text/plain", {"charset": "utf-8"})),
    ],
)
def test_parse_media_type(value: str | None, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_media_type(value) == expected


@pytest.mark.parametrize(
    ("value", "listed", "odd"),
    [
        (None, [], None),
        ("application/dm20, application/tnds20", ["application/dm20", "application/tnds20"], None),
        ("application/dm20; application/tnds20.", ["application/dm20", "application/tnds20"], ";"),
        ("Application/DM20,application/json", ["application/dm20", "application/json"], None),
    ],
)
def test_accept_lists(value: str | None, listed: list[str], odd: str | None) -> None:
    assert accept_lists(value, PROFILE) == (listed, odd)


# -- the errors themselves -----------------------------------------------------------------------
def test_protocol_error_text_and_nesting() -> None:
    error = ProtocolError("1 is not of type 'string'", "CMD[1][0]")
    assert str(error) == "CMD[1][0]: 1 is not of type 'string'"
    inner = error.at("multipart[1]")
    assert (inner.what, inner.where) == (error.what, "multipart[1].CMD[1][0]")
    assert str(inner) == "multipart[1].CMD[1][0]: 1 is not of type 'string'"
    bare = ProtocolError("no parts")
    assert str(bare) == "no parts"
    assert bare.at("multipart").where == "multipart"


def test_command_failure_text() -> None:
    failure = CommandFailure("not_found", "no node x")
    assert (failure.status, failure.reason, str(failure)) == (
        "not_found",
        "no node x",
        "not_found: no node x",
    )
