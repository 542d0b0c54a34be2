"""The judge: request headers, statuses against commands, a server's answer, requirement IDs."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.core.codec import encode_client_message, encode_commands
from conformance.core.judge import (
    ALLOWED_COMMANDS,
    CLIENT_ACCEPT,
    CLIENT_CONTENT_TYPE,
    CLIENT_DEVICE_ID,
    FAIL,
    INCLUDE_MULTIPART,
    INFO,
    SERVER_CONTENT_TYPE,
    STATUS_AFTER_COMMANDS,
    STATUS_ORDER,
    Finding,
    header,
    judge_request_headers,
    judge_server_answer,
    judge_statuses,
    read_client_message,
    status_fits,
)
from conformance.core.messages import ClientMessage, Command, CommandMessage, Status
from conformance.profiles import CommandSpec

from .conftest import CONF, DEVICE_ID, DEVINFO, PROFILE, C, cmd, sc

NAMES = PROFILE.headers
MEDIA = PROFILE.media
DOC = "http://content.example/doc"


def request_headers(**changes: str | None) -> dict[str, str]:
    """Good client request headers; a keyword (content_type, accept, device_id) changes one, None
    removes it."""
    headers = {
        "content_type": MEDIA.status,
        "accept": PROFILE.accept.send,
        "device_id": DEVICE_ID,
    }
    headers.update(changes)
    return {NAMES[k]: v for k, v in headers.items() if v is not None}


def ids(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.requirement, f.grade) for f in findings]


def test_catalog_ids_are_distinct() -> None:
    constants = [
        ALLOWED_COMMANDS,
        CLIENT_ACCEPT,
        CLIENT_CONTENT_TYPE,
        CLIENT_DEVICE_ID,
        INCLUDE_MULTIPART,
        SERVER_CONTENT_TYPE,
        STATUS_AFTER_COMMANDS,
        STATUS_ORDER,
    ]
    assert len(set(constants)) == len(constants)
    assert all(c.startswith("DM20-") for c in constants)


def test_finding_text_names_the_requirement() -> None:
    assert str(Finding(STATUS_ORDER, FAIL, "x")) == f"[{STATUS_ORDER}] x"


def test_header_lookup_ignores_case() -> None:
    assert header({"x-omadmdevid": "a"}, NAMES.device_id) == "a"
    assert header({}, NAMES.device_id) is None


# -- request headers -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"content_type": f"{MEDIA.multipart}; boundary=x"},
        {"content_type": "Application/DM20Status; charset=utf-8"},
        {"accept": "application/tnds20,application/dm20,text/html"},
        {"accept": "application/dm20, application/tnds20, */*"},
    ],
)
def test_good_request_headers(changes: dict[str, str]) -> None:
    assert judge_request_headers(request_headers(**changes), PROFILE, device_id=DEVICE_ID) == []


def test_header_names_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in request_headers().items()}
    assert judge_request_headers(headers, PROFILE) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"content_type": None}, [(CLIENT_CONTENT_TYPE, FAIL)]),
        ({"content_type": "application/json"}, [(CLIENT_CONTENT_TYPE, FAIL)]),
        ({"content_type": MEDIA.command}, [(CLIENT_CONTENT_TYPE, FAIL)]),
        ({"accept": None}, [(CLIENT_ACCEPT, FAIL)]),
        ({"accept": MEDIA.command}, [(CLIENT_ACCEPT, FAIL)]),
        ({"accept": MEDIA.tnds}, [(CLIENT_ACCEPT, FAIL)]),
        ({"accept": "*/*"}, [(CLIENT_ACCEPT, FAIL)]),
        ({"accept": "application/dm20; application/tnds20"}, [(CLIENT_ACCEPT, INFO)]),
        ({"accept": "application/dm20; application/tnds20."}, [(CLIENT_ACCEPT, INFO)]),
        ({"accept": "application/dm20;"}, [(CLIENT_ACCEPT, FAIL)]),
        ({"device_id": None}, [(CLIENT_DEVICE_ID, FAIL)]),
        ({"device_id": "  "}, [(CLIENT_DEVICE_ID, FAIL)]),
        ({"device_id": "IMEI:other"}, [(CLIENT_DEVICE_ID, FAIL)]),
        (
            {"content_type": None, "accept": None, "device_id": None},
            [(CLIENT_CONTENT_TYPE, FAIL), (CLIENT_ACCEPT, FAIL), (CLIENT_DEVICE_ID, FAIL)],
        ),
    ],
)
def test_bad_request_headers(changes: dict[str, str | None], expected: list[Any]) -> None:
    found = judge_request_headers(request_headers(**changes), PROFILE, device_id=DEVICE_ID)
    assert ids(found) == expected


def test_a3_semicolon_is_info_naming_the_assumption() -> None:
    [finding] = judge_request_headers(
        request_headers(accept="application/dm20; application/tnds20"), PROFILE
    )
    assert finding.grade == INFO
    assert "A3" in finding.message


def test_device_id_only_compared_when_known() -> None:
    assert judge_request_headers(request_headers(device_id="IMEI:other"), PROFILE) == []
    [finding] = judge_request_headers(
        request_headers(device_id="IMEI:other"), PROFILE, device_id=DEVICE_ID
    )
    assert DEVICE_ID in finding.message and "IMEI:other" in finding.message


def test_accept_with_parameters_is_no_a3_remark() -> None:
    headers = request_headers(accept="application/dm20;q=0.9, application/tnds20")
    assert judge_request_headers(headers, PROFILE) == []


# -- reading a client message --------------------------------------------------------------------
def test_read_client_message() -> None:
    message = ClientMessage((Status(sc("ok")),))
    content_type, body = encode_client_message(message, PROFILE)
    assert read_client_message({NAMES.content_type: content_type}, body, PROFILE) == (message, [])
    read, found = read_client_message({NAMES.content_type: content_type}, b"{", PROFILE)
    assert read is None
    assert ids(found) == [(CLIENT_CONTENT_TYPE, FAIL)]
    assert "body" in found[0].message


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
    "end": C(cmd("end")),
}
CASES = [(spec, name) for spec in PROFILE.commands for name in PROFILE.status]


def test_valid_commands_cover_the_table() -> None:
    assert set(VALID) == {c.action for c in PROFILE.commands}


@pytest.mark.parametrize(("spec", "name"), CASES, ids=[f"{s.name}-{n}" for s, n in CASES])
def test_status_fits_the_table(spec: CommandSpec, name: str) -> None:
    command = VALID[spec.action]
    code = sc(name)
    uri = (f"{CONF}/1",) if spec.status_uri and code == sc("ok") else None
    problem = status_fits(command, Status(code, uri=uri), PROFILE)
    allowed = name in spec.statuses or name == "not_supported"
    assert (problem is None) == allowed, problem


def test_get_success_must_say_where_it_stored() -> None:
    get = VALID["get"]
    assert status_fits(get, Status(sc("ok"), uri=(f"{CONF}/1",)), PROFILE) is None
    problem = status_fits(get, Status(sc("ok")), PROFILE)
    assert problem is not None and PROFILE.keys.uri in problem
    assert status_fits(get, Status(sc("not_found")), PROFILE) is None


@pytest.mark.parametrize("action", ["put", "delete", "include", "cont"])
def test_only_get_reports_uri(action: str) -> None:
    problem = status_fits(VALID[action], Status(sc("ok"), uri=(f"{CONF}/1",)), PROFILE)
    assert problem is not None and PROFILE.keys.uri in problem


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (C(cmd("delete"), "a", "b", "c"), "bad_request"),
        (C(cmd("delete"), "not a uri"), "bad_request"),
        (C(cmd("show")), "bad_request"),
        (C("FOO"), "unknown_command"),
    ],
)
def test_malformed_command_expects_its_error(command: Command, expected: str) -> None:
    assert status_fits(command, Status(sc(expected)), PROFILE) is None
    for other in ("ok", "not_found", "failed", "not_supported"):
        problem = status_fits(command, Status(sc(other)), PROFILE)
        assert problem is not None and expected in problem


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
    assert ids(found) == [(STATUS_AFTER_COMMANDS, FAIL)]
    assert f"{count} statuses for 4 commands" in found[0].message


def test_a_status_for_end_is_one_too_many() -> None:
    commands = (C(cmd("delete"), f"{CONF}/1"), C(cmd("end")))
    found = judge_statuses(commands, with_statuses(Status(sc("ok")), Status(sc("ok"))), PROFILE)
    assert ids(found) == [(STATUS_AFTER_COMMANDS, FAIL)]


def test_swapped_statuses() -> None:
    get_ok, delete_refused = GOOD.statuses[0], GOOD.statuses[1]
    swapped = with_statuses(delete_refused, get_ok, *GOOD.statuses[2:], includes=GOOD.includes)
    found = judge_statuses(BATCH, swapped, PROFILE)
    assert ids(found) == [(STATUS_ORDER, FAIL), (STATUS_ORDER, FAIL)]
    assert found[0].message.startswith(f"{PROFILE.keys.status}[0] for {cmd('get')}")
    assert found[1].message.startswith(f"{PROFILE.keys.status}[1] for {cmd('delete')}")


@pytest.mark.parametrize("includes", [0, 2])
def test_include_parts_match_successful_includes(includes: int) -> None:
    message = with_statuses(*GOOD.statuses, includes=({},) * includes)
    found = judge_statuses(BATCH, message, PROFILE)
    assert ids(found) == [(INCLUDE_MULTIPART, FAIL)]
    assert "A8" in found[0].message


# -- a server's answer ---------------------------------------------------------------------------
def answer(*commands: Command) -> bytes:
    return encode_commands(CommandMessage(commands), PROFILE)


GOOD_ANSWER = answer(C(cmd("get"), DOC, f"{CONF}/1"), C(cmd("end")))
OK_HEADERS = {NAMES.content_type: MEDIA.command}


@pytest.mark.parametrize("content_type", [MEDIA.command, "Application/DM20; charset=utf-8"])
def test_good_server_answer(content_type: str) -> None:
    message, found = judge_server_answer(
        PROFILE.http_ok, {NAMES.content_type: content_type}, GOOD_ANSWER, PROFILE
    )
    assert found == []
    assert message is not None and message.commands[1] == C(cmd("end"))


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected", "readable"),
    [
        (
            PROFILE.http_ok,
            {NAMES.content_type: "application/json"},
            GOOD_ANSWER,
            [SERVER_CONTENT_TYPE],
            True,
        ),
        (PROFILE.http_ok, {}, GOOD_ANSWER, [SERVER_CONTENT_TYPE], True),
        (500, OK_HEADERS, GOOD_ANSWER, [SERVER_CONTENT_TYPE], True),
        (
            201,
            {NAMES.content_type: MEDIA.status},
            GOOD_ANSWER,
            [SERVER_CONTENT_TYPE, SERVER_CONTENT_TYPE],
            True,
        ),
        (PROFILE.http_ok, OK_HEADERS, b'{"Status": []}', [SERVER_CONTENT_TYPE], False),
        (PROFILE.http_ok, OK_HEADERS, b"", [SERVER_CONTENT_TYPE], False),
        (PROFILE.http_ok, OK_HEADERS, answer(C("FOO")), [ALLOWED_COMMANDS], True),
        (
            PROFILE.http_ok,
            OK_HEADERS,
            answer(C(cmd("delete"), "a", "b", "c")),
            [ALLOWED_COMMANDS],
            True,
        ),
        (
            PROFILE.http_ok,
            OK_HEADERS,
            answer(C(cmd("cont"), "not a url")),
            [ALLOWED_COMMANDS],
            True,
        ),
        (
            PROFILE.http_ok,
            OK_HEADERS,
            answer(C(cmd("end")), C(cmd("delete"), f"{CONF}/1")),
            [ALLOWED_COMMANDS],
            True,
        ),
    ],
    ids=[
        "media-type",
        "no-media-type",
        "http-500",
        "http-201-and-media",
        "not-commands",
        "empty",
        "unknown",
        "arity",
        "bad-uri",
        "end-not-last",
    ],
)
def test_bad_server_answers(
    status: int, headers: dict[str, str], body: bytes, expected: list[str], readable: bool
) -> None:
    message, found = judge_server_answer(status, headers, body, PROFILE)
    assert [f.requirement for f in found] == expected
    assert all(f.grade == FAIL for f in found)
    assert (message is not None) == readable


def test_server_answer_findings_name_the_place() -> None:
    body = answer(C(cmd("delete"), f"{CONF}/1"), C(cmd("delete"), "a", "b", "c"))
    _, [finding] = judge_server_answer(PROFILE.http_ok, OK_HEADERS, body, PROFILE)
    assert f"{PROFILE.keys.commands}[1]: DELETE takes 1 parameter, got 3" in finding.message
    _, [finding] = judge_server_answer(
        PROFILE.http_ok, OK_HEADERS, answer(C("END"), C("END")), PROFILE
    )
    assert "A2" in finding.message
