"""Codecs: command and client messages, multipart (A8), tnds20, alerts, body limits."""

from __future__ import annotations

import base64
import json
import quopri
from collections.abc import Callable
from typing import Any

import pytest

from conformance.core import rules
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


def raises_at(where: str, call: Callable[[], Any], rule: str | None = None) -> ProtocolError:
    """Run `call`, expect a ProtocolError placed at `where` (and filed under `rule`, when one is
    given), and return it."""
    with pytest.raises(ProtocolError) as info:
        call()
    assert info.value.where == where, str(info.value)
    assert str(info.value).startswith(f"{where}: ")
    if rule is not None:
        assert info.value.rule == rule
        assert all(p.rule is not None for p in info.value.problems)
    return info.value


def decoding(content_type: str | None, body: bytes) -> Callable[[], ClientMessage]:
    """The decoding of a client message, for `raises_at`."""
    return lambda: decode_client_message(content_type, body, PROFILE)


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


SHAPE, COMMAND_MESSAGE = rules.SERVER_COMMAND_SHAPE.key, rules.SERVER_COMMAND_MESSAGE.key


@pytest.mark.parametrize(
    ("value", "where", "rule"),
    [
        ({"CMD": [["GET"], [1]]}, "CMD[1][0]", SHAPE),
        ({"CMD": [["GET", "http://a", 7]]}, "CMD[0][2]", SHAPE),
        ({"CMD": []}, "CMD", COMMAND_MESSAGE),
        ({"CMD": [[]]}, "CMD[0]", SHAPE),
        ({"CMD": ["GET"]}, "CMD[0]", SHAPE),
        ({"CMD": "GET"}, "CMD", COMMAND_MESSAGE),
        ({}, "body", COMMAND_MESSAGE),
        ([], "body", COMMAND_MESSAGE),
        ("CMD", "body", COMMAND_MESSAGE),
    ],
)
def test_decode_commands_names_the_place_and_the_rule(value: Any, where: str, rule: str) -> None:
    raises_at(where, lambda: decode_commands(cm(value), PROFILE), rule)


def test_decode_commands_lists_every_problem() -> None:
    body = cm({"CMD": [["GET", 1], [2], "x"]})
    error = raises_at("CMD[0][1]", lambda: decode_commands(body, PROFILE), SHAPE)
    assert [(p.where, p.rule) for p in error.problems] == [
        ("CMD[0][1]", SHAPE),
        ("CMD[1][0]", SHAPE),
        ("CMD[2]", SHAPE),
    ]
    assert str(error).endswith(" (and 2 more)")


def test_members_the_profile_does_not_name_are_let_through() -> None:
    """Neither the draft nor the profile closes the command message, the client's message or a
    status: a member they do not name is no failure, and the core reads only what they name."""
    assert decode_commands(cm({"CMD": [["END"]], "Extra": 1}), PROFILE).commands == (
        Command("END"),
    )
    body = cm({"Status": [{"sc": 200, "Why": "x"}], "Other": 1})
    assert decode_client_message(STATUS, body, PROFILE).statuses == (Status(200),)


def test_an_unreadable_command_message_breaks_the_command_message_rule() -> None:
    raises_at("body", lambda: decode_commands(b"<html>", PROFILE), COMMAND_MESSAGE)


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


STATUS_SHAPE, BODY = rules.CLIENT_STATUS_SHAPE.key, rules.CLIENT_BODY.key
DEVID = rules.CLIENT_DEVINFO_DEVID.key


@pytest.mark.parametrize(
    ("value", "where", "rule"),
    [
        ({"Status": [{"sc": "200"}]}, "Status[0].sc", STATUS_SHAPE),
        ({"Status": [{"sc": 200}, {"sc": 99}]}, "Status[1].sc", STATUS_SHAPE),
        ({"Status": [{"sc": 200}, {}]}, "Status[1]", STATUS_SHAPE),
        ({"Status": [{"sc": 200, "URI": [1]}]}, "Status[0].URI[0]", STATUS_SHAPE),
        ({"Status": [{"sc": 200, "URI": "x"}]}, "Status[0].URI", STATUS_SHAPE),
        ({"Status": [{"sc": 200, "Reason": 1}]}, "Status[0].Reason", STATUS_SHAPE),
        ({"Status": {}}, "Status", BODY),
        ({"Status": [], "Alert": [{"Mark": "x"}]}, "Alert[0]", BODY),
        ({"Status": [], "Alert": [{"AlertType": ""}]}, "Alert[0].AlertType", BODY),
        ({"Status": [], "DevInfo": {}}, "DevInfo", DEVID),
        ({"Status": [], "DevInfo": {"Man": "Acme"}}, "DevInfo", DEVID),
        ({"Status": [], "DevInfo": []}, "DevInfo", BODY),  # not an object at all: P2.1, not A17
        ({"Status": [], "MOMeta": [1]}, "MOMeta[0]", BODY),
        ({}, "body", BODY),
        ([], "body", BODY),
    ],
)
def test_decode_client_message_names_the_place_and_the_rule(
    value: Any, where: str, rule: str
) -> None:
    raises_at(where, lambda: decode_client_message(STATUS, cm(value), PROFILE), rule)


def test_devinfo_needs_only_devid() -> None:
    """A17: DevInfo carries DevID; Man, Mod, DmV and other members are optional."""
    body = cm({"Status": [], "DevInfo": {"DevID": "IMEI:1", "Other": [1]}})
    assert decode_client_message(STATUS, body, PROFILE).devinfo == {"DevID": "IMEI:1", "Other": [1]}


def test_alerts_may_carry_members_beyond_those_named() -> None:
    """A17: an Alert may carry members beyond those shown (TargetURI, ...)."""
    body = cm({"Status": [], "Alert": [{"AlertType": "a", "TargetURI": "x", "Extra": 1}]})
    assert decode_client_message(STATUS, body, PROFILE).alerts == (Alert("a"),)


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
TNDS = PROFILE.media.tnds
MULTIPART_RULE = rules.CLIENT_MULTIPART.key
PARTS_RULE = rules.CLIENT_MULTIPART_PARTS.key
DOCUMENT_RULE = rules.CLIENT_INCLUDE_DOCUMENT.key


def test_multipart_round_trip() -> None:
    content_type, body = encode_client_message(INCLUDING, PROFILE)
    media, params = parse_media_type(content_type)
    assert media == PROFILE.media.multipart
    assert params["boundary"]
    assert decode_client_message(content_type, body, PROFILE) == INCLUDING


def test_multipart_parts_are_status_then_one_tnds_part_per_include() -> None:
    content_type, body = encode_client_message(INCLUDING, PROFILE)
    parts = decode_multipart(content_type, body)
    assert [t for t, _ in parts] == [STATUS, TNDS, TNDS]
    assert json.loads(parts[0][1]) == client_message_json(INCLUDING, PROFILE)
    assert [json.loads(b) for _, b in parts[1:]] == list(INCLUDING.includes)


def test_multipart_boundary_is_in_no_part() -> None:
    tricky = b"--dm20-\r\n--dm20-0000\r\n\r\n"
    parts = [(STATUS, b"{}"), (TNDS, tricky), (TNDS, b"--")]
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
    bad = body.replace(b"Content-Type: " + TNDS.encode(), b"Content-Type: text/html", 1)
    error = raises_at("multipart[1]", decoding(content_type, bad), PARTS_RULE)
    assert "text/html" in str(error)


def test_multipart_first_part_must_be_the_status_message(multipart: tuple[str, bytes]) -> None:
    content_type, body = multipart
    bad = body.replace(STATUS.encode(), TNDS.encode(), 1)
    raises_at("multipart[0]", decoding(content_type, bad), PARTS_RULE)


@pytest.mark.parametrize(
    "content_type", ["multipart/mixed", 'multipart/mixed; boundary=""', "multipart/mixed; x=1"]
)
def test_multipart_without_a_boundary_parameter(
    multipart: tuple[str, bytes], content_type: str
) -> None:
    error = raises_at("multipart", decoding(content_type, multipart[1]), MULTIPART_RULE)
    assert "boundary" in str(error)
    assert rules.RULES[MULTIPART_RULE].basis == "A16"


@pytest.mark.parametrize(
    "body",
    [
        b'{"Status": []}',
        b"",
        b"--other\r\nContent-Type: a/b\r\n\r\nx\r\n--other--\r\n",
        b"--b--\r\n",
        b"--b Content-Type: a/b\r\n\r\n{}\r\n--b--\r\n",
    ],
    ids=["json", "empty", "other-boundary", "close-only", "text-after-the-boundary"],
)
def test_multipart_body_without_the_boundary(body: bytes) -> None:
    content_type = 'multipart/mixed; boundary="b"'
    raises_at("multipart", decoding(content_type, body), MULTIPART_RULE)


def test_multipart_boundary_from_header_must_match_body(multipart: tuple[str, bytes]) -> None:
    content_type = 'multipart/mixed; boundary="other"'
    raises_at("multipart", decoding(content_type, multipart[1]), MULTIPART_RULE)


STATUS_JSON = b'{"Status":[{"sc":200},{"sc":200}]}'
DOCUMENT = {f"{CONF}/0": {"Name": "zéro"}}


def test_multipart_as_rfc_2046_writes_it() -> None:
    """A16: a quoted boundary, a preamble and an epilogue, LF line ends, parameters and upper
    case in the parts' media types, base64 and quoted-printable parts."""
    quoted = b'{"Status":[{"sc":200},=\n{"sc"=3A200}]}'  # a soft line break, an escaped ':'
    assert quopri.decodestring(quoted) == STATUS_JSON
    body = b"\n".join(
        [
            b"This is the preamble; it is to be ignored.",
            b"--a 'b' c",
            b"Content-Type: Application/DM20Status; charset=UTF-8",
            b"Content-Transfer-Encoding: quoted-printable",
            b"",
            quoted,
            b"--a 'b' c",
            b"content-type: application/TNDS20",
            b"Content-Transfer-Encoding: BASE64",
            b"",
            base64.encodebytes(json.dumps(DOCUMENT).encode()).rstrip(),
            b"--a 'b' c--",
            b"This is the epilogue, also to be ignored.",
            b"",
        ]
    )
    message = decode_client_message("Multipart/Mixed; Boundary=\"a 'b' c\"", body, PROFILE)
    assert message == ClientMessage((Status(sc("ok")), Status(sc("ok"))), includes=(DOCUMENT,))


def test_multipart_with_crlf_preamble_and_unquoted_boundary() -> None:
    body = (
        b"preamble\r\n--xyz\r\nContent-Type: application/dm20status\r\n\r\n"
        + STATUS_JSON
        + b"\r\n--xyz\r\nContent-Type: application/tnds20\r\n\r\n{}\r\n--xyz--\r\nepilogue"
    )
    message = decode_client_message("multipart/mixed;boundary=xyz", body, PROFILE)
    assert message.includes == ({},)
    assert len(message.statuses) == 2


def test_a_part_without_content_type_is_text_plain_which_a8_refuses() -> None:
    """RFC 2046: a part without Content-Type is text/plain; A8 wants dm20status or tnds20."""
    content_type = 'multipart/mixed; boundary="b"'
    first_untyped = b"--b\r\nX-Other: 1\r\n\r\n" + STATUS_JSON + b"\r\n--b--\r\n"
    assert decode_multipart(content_type, first_untyped) == [("text/plain", STATUS_JSON)]
    error = raises_at("multipart[0]", decoding(content_type, first_untyped), PARTS_RULE)
    assert "'text/plain'" in str(error)
    second_untyped = (
        b"--b\r\nContent-Type: application/dm20status\r\n\r\n"
        + STATUS_JSON
        + b"\r\n--b\r\n\r\n{}\r\n--b--\r\n"
    )
    raises_at("multipart[1]", decoding(content_type, second_untyped), PARTS_RULE)


def test_a_part_that_is_itself_multipart() -> None:
    content_type = 'multipart/mixed; boundary="b"'
    body = (
        b"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
        b"--c\r\nContent-Type: application/dm20status\r\n\r\n{}\r\n--c--\r\n\r\n--b--\r\n"
    )
    raises_at("multipart[0]", decoding(content_type, body), MULTIPART_RULE)


def test_multipart_part_header_names_and_types_are_case_insensitive() -> None:
    body = b"--b\r\ncontent-type: Application/TNDS20; x=1\r\n\r\n{}\r\n--b--\r\n"
    assert decode_multipart('multipart/mixed; boundary="b"', body) == [(TNDS, b"{}")]


def test_multipart_bad_parts_are_placed(multipart: tuple[str, bytes]) -> None:
    content_type, body = multipart
    bad_doc = body.replace(b'{"Name":"zero"}', b'{"Name":[1]}')
    raises_at(f"multipart[1].{CONF}/0.Name", decoding(content_type, bad_doc), DOCUMENT_RULE)
    bad_json = body.replace(b'{"Name":"zero"}', b"{nope")
    raises_at("multipart[1]", decoding(content_type, bad_json), DOCUMENT_RULE)
    bad_head = body.replace(b'"sc":200', b'"sc":"x"', 1)
    raises_at(
        "multipart[0].Status[0].sc",
        decoding(content_type, bad_head),
        STATUS_SHAPE,
    )
    unreadable_head = body.replace(b'{"Status"', b'{Status"', 1)
    raises_at("multipart[0]", decoding(content_type, unreadable_head), BODY)


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


# -- header values (A16, A3) ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("", {})),
        ("", ("", {})),
        ("  ", ("", {})),
        ("Application/DM20", ("application/dm20", {})),
        ('multipart/mixed; Boundary="a b"', ("multipart/mixed", {"boundary": "a b"})),
        ('multipart/mixed; BOUNDARY="a;b,c"', ("multipart/mixed", {"boundary": "a;b,c"})),
        ("multipart/mixed;boundary=abc", ("multipart/mixed", {"boundary": "abc"})),
        ("text/plain;charset=utf-8", ("text/plain", {"charset": "utf-8"})),
        (
            'APPLICATION/DM20STATUS ; Charset="UTF-8"',
            ("application/dm20status", {"charset": "UTF-8"}),
        ),
        ("application/dm20status;", ("application/dm20status", {})),
        (
            "application/dm20status; q=1; charset=x",
            ("application/dm20status", {"q": "1", "charset": "x"}),
        ),
    ],
)
def test_parse_media_type(value: str | None, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_media_type(value) == expected


@pytest.mark.parametrize("value", ["application", "text/plain, text/html", "no media type"])
def test_a_value_that_is_no_media_type_comes_back_lowered(value: str) -> None:
    kind, params = parse_media_type(value.upper())
    assert (kind, params) == (value.lower(), {})


def test_a_parameter_the_header_parser_cannot_read_is_no_crash() -> None:
    """The standard library's header parser raises IndexError on a parameter like `x*`; a peer's
    header must give a value or a ProtocolError, nothing else."""
    assert parse_media_type("Application/DM20Status; x*") == ("application/dm20status", {})
    assert parse_media_type("application/dm20status;;charset=utf-8") == (
        "application/dm20status",
        {"charset": "utf-8"},
    )
    assert parse_media_type("no media type") == ("no media type", {})
    body = b"--b\r\nContent-Type: application/dm20status; x*\r\n\r\n{}\r\n--b--\r\n"
    raises_at("multipart", decoding('multipart/mixed; boundary="b"', body), MULTIPART_RULE)


DM20, TNDS20 = PROFILE.media.command, PROFILE.media.tnds


@pytest.mark.parametrize(
    ("value", "listed", "odd"),
    [
        (None, [], None),
        ("", [], None),
        (f"{DM20}, {TNDS20}", [DM20, TNDS20], None),
        (f"{DM20},{TNDS20},,", [DM20, TNDS20], None),
        ("Application/DM20,application/json", [DM20, "application/json"], None),
        (f"{DM20}; {TNDS20}", [DM20, TNDS20], ";"),
        (f"{DM20}; {TNDS20}.", [DM20, TNDS20], ";"),
        (f"{DM20};{TNDS20}, text/html", [DM20, TNDS20, "text/html"], ";"),
        (f"{DM20}; charset=utf-8; {TNDS20}", [DM20, TNDS20], ";"),
        (f"{DM20};q=0.5, {TNDS20};q=1", [DM20, TNDS20], None),
        (f"{DM20}, {TNDS20};q=0", [DM20], None),
        (f"{DM20};Q=0.000, {TNDS20}", [TNDS20], None),
        (f'{DM20};q="0", {TNDS20}', [TNDS20], None),
        (f"{DM20};q=x, {TNDS20}", [DM20, TNDS20], None),
        (f'{DM20};p="a,b", {TNDS20}', [DM20, TNDS20], None),
        (f"{DM20}, {TNDS20}, text/html;q=0.1, */*;q=0", [DM20, TNDS20, "text/html"], None),
    ],
)
def test_accept_lists(value: str | None, listed: list[str], odd: str | None) -> None:
    assert accept_lists(value, PROFILE) == (listed, odd)


# -- the errors themselves -----------------------------------------------------------------------
def test_protocol_error_text() -> None:
    error = ProtocolError("1 is not of type 'string'", "CMD[1][0]")
    assert str(error) == "CMD[1][0]: 1 is not of type 'string'"
    assert (error.what, error.where, error.rule, error.problems) == (
        "1 is not of type 'string'",
        "CMD[1][0]",
        None,
        (error,),
    )
    assert str(ProtocolError("no parts")) == "no parts"


def test_protocol_error_with_several_problems() -> None:
    first = ProtocolError("a", "x", "client.body")
    second = ProtocolError("b", "y")
    error = ProtocolError("a", "x", "client.body", (first, second))
    assert str(error) == "x: a (and 1 more)"
    assert error.problems == (first, second)


def test_with_rule_files_every_problem_without_one() -> None:
    error = ProtocolError(
        "a", "x", None, (ProtocolError("a", "x"), ProtocolError("b", "y", "client.status-shape"))
    )
    filed = error.with_rule("client.body")
    assert (filed.what, filed.where, filed.rule) == ("a", "x", "client.body")
    assert [(p.where, p.rule) for p in filed.problems] == [
        ("x", "client.body"),
        ("y", "client.status-shape"),
    ]
    assert str(filed) == str(error)
    kept = ProtocolError("c", "z", "server.uri").with_rule("client.body")
    assert kept.rule == "server.uri"
    assert [p.rule for p in kept.problems] == ["server.uri"]


def test_command_failure_text() -> None:
    failure = CommandFailure("not_found", "no node x")
    assert (failure.status, failure.reason, str(failure)) == (
        "not_found",
        "no node x",
        "not_found: no node x",
    )
