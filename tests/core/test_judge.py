"""The judge: a client's request headers, reading its message, its statuses against the commands
they answer, a server's answer; every problem is a finding of its own, filed under its rule."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.core import rules
from conformance.core.codec import encode_client_message, encode_commands
from conformance.core.errors import ProtocolError
from conformance.core.judge import (
    MAX_REORDERED,
    findings_of,
    header,
    judge_first_only,
    judge_request_headers,
    judge_server_answer,
    judge_statuses,
    read_client_message,
)
from conformance.core.messages import ClientMessage, Command, CommandMessage, Status
from conformance.core.multipart import encode_multipart
from conformance.core.rules import Finding, Grade, signature_rule
from conformance.profiles import CommandSpec

from .conftest import CONF, DEVICE_ID, DEVINFO, PROFILE, C, client_headers, cmd, sc

NAMES = PROFILE.headers
MEDIA = PROFILE.media
DOC = "http://content.example/doc"


def keys(findings: list[Finding]) -> list[str]:
    return [f.rule.key for f in findings]


def request_headers(**changes: str | None) -> dict[str, str]:
    """Good client request headers; content_type, accept or device_id changes one, None drops
    it."""
    values: dict[str, Any] = {"content_type": MEDIA.status} | changes
    return client_headers(
        values["content_type"],
        accept=values.get("accept", PROFILE.accept.send),
        device_id=values.get("device_id", DEVICE_ID),
    )


def test_header_lookup_ignores_case() -> None:
    assert header({"x-omadmdevid": "a"}, NAMES.device_id) == "a"
    assert header({"X-OMADMDEVID": "b"}, NAMES.device_id) == "b"
    assert header({}, NAMES.device_id) is None


# -- request headers -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"content_type": f"{MEDIA.multipart}; boundary=x"},
        {"content_type": 'Multipart/Mixed; Boundary="a b"'},
        {"content_type": "Application/DM20Status; charset=UTF-8"},
        {"content_type": 'application/dm20status ; charset="utf-8"; x-extra=1'},
        {"accept": "application/tnds20,application/dm20,text/html"},
        {"accept": "application/dm20, application/tnds20, */*"},
        {"accept": "APPLICATION/DM20, Application/TNDS20"},
        {"accept": "application/dm20;q=0.9, application/tnds20;q=0.1, text/html;q=0"},
        {"accept": 'application/dm20;profile="a,b", application/tnds20'},
        {"accept": "application/dm20;q=1, application/tnds20;Q=0.001"},
    ],
    ids=[
        "plain",
        "multipart",
        "multipart-quoted-boundary",
        "upper-case-charset",
        "spaces-quotes-parameters",
        "extra-type",
        "wildcard-too",
        "upper-case-accept",
        "weights",
        "quoted-comma",
        "q-upper-case",
    ],
)
def test_good_request_headers(changes: dict[str, str]) -> None:
    assert judge_request_headers(request_headers(**changes), PROFILE, device_id=DEVICE_ID) == []


def test_header_names_are_case_insensitive() -> None:
    headers = {k.upper(): v for k, v in request_headers().items()}
    assert judge_request_headers(headers, PROFILE, device_id=DEVICE_ID) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"content_type": None}, ["client.content-type"]),
        ({"content_type": "application/json"}, ["client.content-type"]),
        ({"content_type": MEDIA.command}, ["client.content-type"]),
        ({"content_type": MEDIA.tnds}, ["client.content-type"]),
        ({"accept": None}, ["client.accept"]),
        ({"accept": ""}, ["client.accept"]),
        ({"accept": MEDIA.command}, ["client.accept"]),
        ({"accept": MEDIA.tnds}, ["client.accept"]),
        ({"accept": "*/*"}, ["client.accept"]),
        ({"accept": "application/dm20, application/tnds20;q=0"}, ["client.accept"]),
        ({"accept": "application/dm20;q=0.0, application/tnds20"}, ["client.accept"]),
        ({"accept": 'application/dm20;q="0", application/tnds20'}, ["client.accept"]),
        ({"accept": "application/dm20; application/tnds20"}, ["client.accept-separator"]),
        ({"accept": "application/dm20; application/tnds20."}, ["client.accept-separator"]),
        ({"accept": "application/dm20;application/tnds20, text/html"}, ["client.accept-separator"]),
        ({"accept": "application/dm20;"}, ["client.accept"]),
        ({"device_id": None}, ["client.device-id"]),
        ({"device_id": "  "}, ["client.device-id"]),
        ({"device_id": "IMEI:other"}, ["client.device-id-stable"]),
        (
            {"content_type": None, "accept": None, "device_id": None},
            ["client.content-type", "client.accept", "client.device-id"],
        ),
        (
            {"content_type": MEDIA.command, "accept": "a/b; c/d", "device_id": "IMEI:other"},
            ["client.content-type", "client.accept", "client.device-id-stable"],
        ),
    ],
)
def test_bad_request_headers(changes: dict[str, str | None], expected: list[str]) -> None:
    found = judge_request_headers(request_headers(**changes), PROFILE, device_id=DEVICE_ID)
    assert keys(found) == expected


def test_a3_semicolon_is_an_info_remark_under_a3() -> None:
    [finding] = judge_request_headers(
        request_headers(accept="application/dm20; application/tnds20"), PROFILE
    )
    assert finding.requirement == "A3"
    assert finding.grade is Grade.INFO and not finding.failed
    assert "';'" in finding.message


def test_a_missing_type_is_a_failure_even_in_the_seed_form() -> None:
    [finding] = judge_request_headers(
        request_headers(accept="application/dm20; text/html"), PROFILE
    )
    assert finding.rule is rules.CLIENT_ACCEPT and finding.failed
    assert MEDIA.tnds in finding.message


def test_a_parameter_the_header_parser_cannot_read_leaves_the_media_type() -> None:
    """A16: the value of a media-type header is its type/subtype; a parameter the standard
    library cannot read (IndexError on `x*`) neither crashes the judge nor hides the type."""
    unreadable = "application/dm20status; x*"
    assert judge_request_headers(request_headers(content_type=unreadable), PROFILE) == []
    _, found = judge_server_answer(
        PROFILE.http_ok, {NAMES.content_type: f"{MEDIA.command}; x*"}, GOOD_ANSWER, PROFILE
    )
    assert found == []
    found = judge_request_headers(request_headers(content_type="application/json; x*"), PROFILE)
    assert keys(found) == ["client.content-type"]


def test_device_id_only_compared_when_known() -> None:
    assert judge_request_headers(request_headers(device_id="IMEI:other"), PROFILE) == []
    [finding] = judge_request_headers(
        request_headers(device_id="IMEI:other"), PROFILE, device_id=DEVICE_ID
    )
    assert finding.requirement == "DM20-6.3-005"
    assert DEVICE_ID in finding.message and "IMEI:other" in finding.message


# -- reading a client message --------------------------------------------------------------------
def test_read_client_message() -> None:
    message = ClientMessage((Status(sc("ok")),))
    content_type, body = encode_client_message(message, PROFILE)
    assert read_client_message({NAMES.content_type: content_type}, body, PROFILE) == (message, [])


def test_an_unreadable_body_is_a_body_finding() -> None:
    read, found = read_client_message({NAMES.content_type: MEDIA.status}, b"{", PROFILE)
    assert read is None
    assert keys(found) == ["client.body"]
    assert found[0].requirement == "P2.1"
    assert found[0].message.startswith("body: not valid JSON")


def test_several_schema_problems_give_one_finding_each() -> None:
    body = (
        b'{"Status": [{"sc": "200"}, {"sc": 200, "URI": "x"}, {"sc": 99}],'
        b' "DevInfo": {"Man": "Acme"}}'
    )
    read, found = read_client_message({NAMES.content_type: MEDIA.status}, body, PROFILE)
    assert read is None
    by_place = {f.message.split(":")[0]: f.rule.key for f in found}
    assert by_place == {
        "DevInfo": "client.devinfo-devid",
        "Status[0].sc": "client.status-shape",
        "Status[1].URI": "client.status-shape",
        "Status[2].sc": "client.status-shape",
    }
    assert len(found) == len(by_place)
    assert not any(" (and " in f.message for f in found)


def test_a_multipart_message_without_include_parts() -> None:
    status_part = encode_client_message(ClientMessage((Status(sc("ok")),)), PROFILE)[1]
    content_type, body = encode_multipart(MEDIA.multipart, [(MEDIA.status, status_part)])
    read, found = read_client_message({NAMES.content_type: content_type}, body, PROFILE)
    assert read == ClientMessage((Status(sc("ok")),))
    assert keys(found) == ["client.multipart-only-with-include"]
    assert found[0].requirement == "A8"


def test_findings_of_names_each_problem_under_its_rule_or_the_default() -> None:
    error = ProtocolError(
        "first",
        "a",
        rules.CLIENT_STATUS_SHAPE.key,
        (
            ProtocolError("first", "a", rules.CLIENT_STATUS_SHAPE.key),
            ProtocolError("second", "b"),
        ),
    )
    found = findings_of(error, rules.CLIENT_BODY)
    assert [(f.rule, f.message) for f in found] == [
        (rules.CLIENT_STATUS_SHAPE, "a: first"),
        (rules.CLIENT_BODY, "b: second"),
    ]


# -- DevInfo, MO, MOMeta in the first message only (P2.1) ----------------------------------------
@pytest.mark.parametrize(
    ("message", "present"),
    [
        (ClientMessage(devinfo={"DevID": DEVICE_ID}), "DevInfo"),
        (ClientMessage(mo={f"{CONF}/0": {}}), "MO"),
        (ClientMessage(mometa=({"MOID": DEVINFO},)), "MOMeta"),
        (ClientMessage(devinfo={"DevID": DEVICE_ID}, mo={}, mometa=()), "DevInfo, MO, MOMeta"),
    ],
)
def test_first_message_members_only_in_the_first_message(
    message: ClientMessage, present: str
) -> None:
    assert judge_first_only(message, True, PROFILE) == []
    [finding] = judge_first_only(message, False, PROFILE)
    assert finding.rule is rules.CLIENT_FIRST_ONLY
    assert finding.message == f"a status message carries {present}"


def test_alerts_may_come_in_any_message() -> None:
    message = ClientMessage((Status(sc("ok")),), alerts=())
    assert judge_first_only(message, False, PROFILE) == []


# -- a status against its command ----------------------------------------------------------------
VALID: dict[str, Command] = {
    "get": C(cmd("get"), DOC, f"{CONF}/1"),
    "put": C(cmd("put"), DOC, f"{CONF}/1"),
    "post": C(cmd("post"), DOC, f"{CONF}/1"),
    "delete": C(cmd("delete"), f"{CONF}/1"),
    "exec": C(cmd("exec"), f"{CONF}/0/Reboot"),
    "include": C(cmd("include"), f"{CONF}/1"),
    "show": C(cmd("show"), DOC),
    "default": C(cmd("default"), "urn:oma:mo:mms:1.0", DOC),
    "cont": C(cmd("cont"), DOC),
}
ANSWERED = [spec for spec in PROFILE.commands if spec.action in VALID]
CASES = [(spec, name) for spec in ANSWERED for name in PROFILE.status]


def one_status(command: Command, status: Status) -> list[Finding]:
    """The findings on a status message answering `command` alone (with its tnds20 part when it
    is an INCLUDE that succeeded, A8)."""
    succeeded = command.name == cmd("include") and status.sc == sc("ok")
    message = ClientMessage((status,), includes=({f"{CONF}/1": {}},) if succeeded else ())
    return judge_statuses((command,), message, PROFILE)


def test_valid_commands_cover_every_command_with_a_status() -> None:
    assert {s.action for s in ANSWERED} == {c.action for c in PROFILE.commands if c.statuses}
    assert [c.action for c in PROFILE.commands if not c.statuses] == ["end"]


@pytest.mark.parametrize(("spec", "name"), CASES, ids=[f"{s.name}-{n}" for s, n in CASES])
def test_status_codes_of_the_command_row(spec: CommandSpec, name: str) -> None:
    code = sc(name)
    uri = (f"{CONF}/1",) if spec.status_uri and name == "ok" else None
    found = one_status(VALID[spec.action], Status(code, uri=uri))
    if name in spec.statuses:
        assert found == []
    else:
        assert keys(found) == ["status.code"]
        assert found[0].requirement == "A5"
        assert f"status {code} is not one a {spec.name} gets" in found[0].message


def test_get_success_must_say_where_it_stored() -> None:
    get = VALID["get"]
    assert one_status(get, Status(sc("ok"), uri=(f"{CONF}/1",))) == []
    for uri in (None, ()):
        [finding] = one_status(get, Status(sc("ok"), uri=uri))
        assert finding.rule is rules.STATUS_GET_URI
        assert finding.requirement == "DM20-6.2-005"
        assert PROFILE.keys.uri in finding.message
    assert one_status(get, Status(sc("not_found"))) == []


def test_get_without_client_uri_may_store_nothing() -> None:
    """A19: without ClientURI the status URI lists what was stored; an empty document stores
    nothing, so URI is [] (it must still be there)."""
    get = C(cmd("get"), DOC)
    assert one_status(get, Status(sc("ok"), uri=())) == []
    assert one_status(get, Status(sc("ok"), uri=(f"{CONF}/2", f"{CONF}/3"))) == []
    assert keys(one_status(get, Status(sc("ok")))) == ["status.get-uri"]


@pytest.mark.parametrize("action", sorted(VALID))
def test_uri_may_accompany_any_status(action: str) -> None:
    """A17: URI may accompany the status of any command."""
    assert one_status(VALID[action], Status(sc("ok"), uri=(f"{CONF}/1",))) == []
    assert one_status(VALID[action], Status(sc("failed"), uri=(f"{CONF}/1",))) == []


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (C(cmd("delete"), "a", "b", "c"), ["bad_request", "not_supported"]),
        (C(cmd("delete"), "not a uri"), ["bad_request", "not_supported"]),
        (C(cmd("show")), ["bad_request", "not_supported"]),
        (C("FOO"), ["unknown_command"]),
        (C(cmd("get").lower(), DOC), ["unknown_command"]),
    ],
)
def test_malformed_command_expects_its_error(command: Command, expected: list[str]) -> None:
    """A5: 400 for a malformed command (or 406: the feature may be missing, A6), 501 for an
    unknown one (A18)."""
    for name in PROFILE.status:
        found = one_status(command, Status(sc(name)))
        if name in expected:
            assert found == [], name
        else:
            assert keys(found) == ["status.code"], name
            assert "is malformed" in found[0].message
            assert " or ".join(str(sc(n)) for n in sorted(expected, key=sc)) in found[0].message


# -- statuses of a message -----------------------------------------------------------------------
BATCH = (
    C(cmd("get"), DOC),
    C(cmd("delete"), f"{DEVINFO}/0"),
    C(cmd("include"), f"{CONF}/1"),
    C(cmd("include"), f"{CONF}/9"),
    C(cmd("end")),
)
GOOD = ClientMessage(
    statuses=(
        Status(sc("ok"), uri=(f"{CONF}/2",)),
        Status(sc("not_allowed")),
        Status(sc("ok")),
        Status(sc("not_found")),
    ),
    includes=({f"{CONF}/1": {"Name": "one"}},),
)


def with_statuses(*statuses: Status, includes: tuple[dict[str, Any], ...] = ()) -> ClientMessage:
    return ClientMessage(statuses=statuses, includes=includes)


def test_statuses_in_order_pass() -> None:
    assert judge_statuses(BATCH, GOOD, PROFILE) == []
    assert judge_statuses((C(cmd("end")),), ClientMessage(), PROFILE) == []


@pytest.mark.parametrize("count", [0, 3, 5])
def test_wrong_number_of_statuses(count: int) -> None:
    statuses = (GOOD.statuses * 2)[:count]
    found = judge_statuses(BATCH, with_statuses(*statuses, includes=GOOD.includes), PROFILE)
    assert keys(found) == ["status.count"]
    assert found[0].requirement == "P1.3"
    assert f"{count} statuses for 4 commands" in found[0].message


def test_a_wrong_count_is_the_only_finding() -> None:
    """With the count wrong, no status can be paired with its command: nothing else is judged."""
    statuses = (Status(999), Status(999), Status(999))
    found = judge_statuses(BATCH, with_statuses(*statuses, includes=({},) * 3), PROFILE)
    assert keys(found) == ["status.count"]


def test_a_status_for_end_is_one_too_many() -> None:
    commands = (C(cmd("delete"), f"{CONF}/1"), C(cmd("end")))
    found = judge_statuses(commands, with_statuses(Status(sc("ok")), Status(sc("ok"))), PROFILE)
    assert keys(found) == ["status.count"]
    assert "2 statuses for 1 commands (DELETE)" in found[0].message


def test_swapped_statuses_are_an_order_finding() -> None:
    commands = (C(cmd("exec"), f"{CONF}/0/Reboot"), C(cmd("delete"), f"{CONF}/1"))
    found = judge_statuses(
        commands, with_statuses(Status(sc("ok")), Status(sc("accepted"))), PROFILE
    )
    assert keys(found) == ["status.order"]
    assert found[0].requirement == "DM20-6.3-006"
    assert "[200, 202] for EXEC, DELETE" in found[0].message


def test_a_get_status_swapped_with_another_is_an_order_finding() -> None:
    """The GET's URI on the DELETE's status (A17 allows it there) and none on the GET's: the
    statuses fit only the other way round."""
    get_ok, delete_ok = Status(sc("ok"), uri=(f"{CONF}/1",)), Status(sc("ok"))
    commands = (C(cmd("delete"), f"{CONF}/1"), C(cmd("get"), DOC, f"{CONF}/1"))
    found = judge_statuses(commands, with_statuses(get_ok, delete_ok), PROFILE)
    assert keys(found) == ["status.order"]


def test_statuses_that_fit_in_no_order_are_each_a_finding() -> None:
    statuses = (Status(sc("accepted")), Status(sc("not_allowed")), Status(sc("ok")), Status(999))
    found = judge_statuses(BATCH, with_statuses(*statuses, includes=GOOD.includes), PROFILE)
    assert keys(found) == ["status.code", "status.code"]
    assert found[0].message.startswith(f"{PROFILE.keys.status}[0] for {cmd('get')}: status 202")
    assert found[1].message.startswith(f"{PROFILE.keys.status}[3] for {cmd('include')}")


def test_every_misfit_is_reported_with_its_own_rule() -> None:
    commands = (C(cmd("get"), DOC, f"{CONF}/1"), C(cmd("delete"), f"{CONF}/1"))
    found = judge_statuses(commands, with_statuses(Status(sc("ok")), Status(999)), PROFILE)
    assert keys(found) == ["status.get-uri", "status.code"]


def swapped(count: int) -> list[str]:
    """The rules of the findings on `count` statuses where the EXEC's 202 came first, before the
    DELETEs' 200s, for DELETEs and then the EXEC."""
    deletes = [C(cmd("delete"), f"{CONF}/1")] * (count - 1)
    commands = (*deletes, C(cmd("exec"), f"{CONF}/0/Reboot"))
    statuses = (Status(sc("accepted")), *[Status(sc("ok"))] * (count - 1))
    return keys(judge_statuses(commands, with_statuses(*statuses), PROFILE))


def test_order_is_tried_up_to_the_permutation_bound() -> None:
    assert swapped(2) == ["status.order"]
    assert swapped(MAX_REORDERED) == ["status.order"]
    assert swapped(MAX_REORDERED + 1) == ["status.code"]


@pytest.mark.parametrize(
    ("includes", "expected", "basis"),
    [(0, "include.parts-missing", "DM20-6.2-015"), (2, "include.parts-extra", "A8")],
)
def test_include_parts_match_successful_includes(includes: int, expected: str, basis: str) -> None:
    message = with_statuses(*GOOD.statuses, includes=({},) * includes)
    found = judge_statuses(BATCH, message, PROFILE)
    assert keys(found) == [expected]
    assert found[0].requirement == basis


def out_of_order(includes: int) -> list[str]:
    """The rules of the findings on an INCLUDE that succeeded and an EXEC accepted (202), their
    statuses swapped, with `includes` tnds20 parts."""
    commands = (C(cmd("include"), f"{CONF}/1"), C(cmd("exec"), f"{CONF}/0/Reboot"))
    statuses = (Status(sc("accepted")), Status(sc("ok")))
    message = with_statuses(*statuses, includes=({f"{CONF}/1": {}},) * includes)
    return keys(judge_statuses(commands, message, PROFILE))


def test_out_of_order_the_include_part_of_the_status_that_is_its_own_is_no_finding() -> None:
    """Read by position, the INCLUDE got 202 and its part would be one too many (A8): the order
    is the one thing wrong (seed 6.3)."""
    assert out_of_order(1) == ["status.order"]


@pytest.mark.parametrize(
    ("includes", "expected"), [(0, "include.parts-missing"), (2, "include.parts-extra")]
)
def test_out_of_order_a_part_count_no_order_allows_is_still_a_finding(
    includes: int, expected: str
) -> None:
    assert out_of_order(includes) == ["status.order", expected]


def test_a_bad_status_and_a_missing_part_are_two_findings() -> None:
    statuses = (*GOOD.statuses[:3], Status(999))
    found = judge_statuses(BATCH, with_statuses(*statuses), PROFILE)
    assert keys(found) == ["status.code", "include.parts-missing"]


# -- a server's answer ---------------------------------------------------------------------------
def answer(*commands: Command) -> bytes:
    return encode_commands(CommandMessage(commands), PROFILE)


GOOD_ANSWER = answer(C(cmd("get"), DOC, f"{CONF}/1"), C(cmd("end")))
OK_HEADERS = {NAMES.content_type: MEDIA.command}


@pytest.mark.parametrize(
    "content_type",
    [MEDIA.command, "Application/DM20; charset=utf-8", 'APPLICATION/DM20 ; profile="x"'],
)
def test_good_server_answer(content_type: str) -> None:
    message, found = judge_server_answer(
        PROFILE.http_ok, {NAMES.content_type: content_type}, GOOD_ANSWER, PROFILE
    )
    assert found == []
    assert message is not None and message.commands[1] == C(cmd("end"))


BAD_ANSWERS: list[tuple[int, dict[str, str], bytes, list[str], bool]] = [
    (
        PROFILE.http_ok,
        {NAMES.content_type: "application/json"},
        GOOD_ANSWER,
        ["DM20-6.2-002"],
        True,
    ),
    (PROFILE.http_ok, {}, GOOD_ANSWER, ["DM20-6.2-002"], True),
    (500, OK_HEADERS, GOOD_ANSWER, ["P1.2"], True),
    (201, {NAMES.content_type: MEDIA.status}, GOOD_ANSWER, ["P1.2", "DM20-6.2-002"], True),
    (PROFILE.http_ok, OK_HEADERS, b"<html>", ["DM20-6-004"], False),
    (PROFILE.http_ok, OK_HEADERS, b"", ["DM20-6-004"], False),
    (PROFILE.http_ok, OK_HEADERS, b'{"CMD": []}', ["DM20-6-004"], False),
    (PROFILE.http_ok, OK_HEADERS, b'{"CMD": [[]]}', ["P3.1"], False),
    (PROFILE.http_ok, OK_HEADERS, b'{"CMD": [["GET", 7]]}', ["P3.1"], False),
    (PROFILE.http_ok, OK_HEADERS, answer(C("FOO")), ["A18"], True),
    (PROFILE.http_ok, OK_HEADERS, answer(C("end")), ["A18"], True),
    (PROFILE.http_ok, OK_HEADERS, answer(C(cmd("delete"), "a", "b", "c")), ["DM20-6.2-027"], True),
    (PROFILE.http_ok, OK_HEADERS, answer(C(cmd("get"))), ["DM20-6.2-025"], True),
    (PROFILE.http_ok, OK_HEADERS, answer(C(cmd("cont"), "not a url")), ["A20"], True),
    (PROFILE.http_ok, OK_HEADERS, answer(C(cmd("delete"), "x/y/../z")), ["A20"], True),
    (PROFILE.http_ok, OK_HEADERS, answer(C(cmd("default"), "mms", DOC)), ["A20"], True),
    (
        PROFILE.http_ok,
        OK_HEADERS,
        answer(C(cmd("end")), C(cmd("delete"), f"{CONF}/1")),
        ["A2"],
        True,
    ),
]


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected", "readable"),
    BAD_ANSWERS,
    ids=[
        "media-type",
        "no-media-type",
        "http-500",
        "http-201-and-media",
        "not-json",
        "empty",
        "no-commands",
        "empty-command",
        "not-strings",
        "unknown",
        "lower-case",
        "arity",
        "too-few",
        "bad-server-uri",
        "bad-client-uri",
        "bad-moid",
        "end-not-last",
    ],
)
def test_bad_server_answers(
    status: int, headers: dict[str, str], body: bytes, expected: list[str], readable: bool
) -> None:
    message, found = judge_server_answer(status, headers, body, PROFILE)
    assert [f.requirement for f in found] == expected
    assert all(f.failed for f in found)
    assert (message is not None) == readable


def test_a_server_answer_gets_every_finding() -> None:
    body = answer(
        C("FOO"),
        C(cmd("delete"), "a", "b"),
        C(cmd("end")),
        C(cmd("cont"), "nowhere"),
        C(cmd("end"), "x"),
    )
    message, found = judge_server_answer(201, {}, body, PROFILE)
    assert message is not None
    assert [(f.rule, f.message.split(":")[0]) for f in found] == [
        (rules.SERVER_HTTP_OK, "HTTP status 201, not 200"),
        (rules.SERVER_CONTENT_TYPE, "Content-Type is None, not application/dm20"),
        (rules.SERVER_COMMAND_NAME, "CMD[0]"),
        (signature_rule(PROFILE.for_action("delete")), "CMD[1]"),
        (rules.SERVER_END_LAST, "CMD[2]"),
        (rules.SERVER_URI, "CMD[3] CONT ServerURL"),
        (signature_rule(PROFILE.for_action("end")), "CMD[4]"),
    ]


def test_an_unreadable_answer_gets_one_finding_per_problem() -> None:
    body = b'{"CMD": [["GET", 1], "x", ["END"]], "Status": [2]}'
    message, found = judge_server_answer(PROFILE.http_ok, OK_HEADERS, body, PROFILE)
    assert message is None
    assert sorted((f.message.split(":")[0], f.rule.key) for f in found) == [
        ("CMD[0][1]", "server.command-shape"),
        ("CMD[1]", "server.command-shape"),
    ]


def test_server_answer_findings_name_the_place() -> None:
    body = answer(C(cmd("delete"), f"{CONF}/1"), C(cmd("delete"), "a", "b", "c"))
    _, [finding] = judge_server_answer(PROFILE.http_ok, OK_HEADERS, body, PROFILE)
    assert finding.message == f"{PROFILE.keys.commands}[1]: DELETE takes 1 parameter, got 3"
    _, [finding] = judge_server_answer(
        PROFILE.http_ok, OK_HEADERS, answer(C("END"), C("END")), PROFILE
    )
    where = f"{PROFILE.keys.commands}[0]"
    assert finding.message == f"{where}: END is not the last command of its message"
    assert finding.requirement == "A2"
