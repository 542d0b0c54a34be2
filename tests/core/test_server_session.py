"""The scripted server session: replies, END, CONT, and the findings it records on a client."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from conformance.core.codec import decode_commands, encode_client_message
from conformance.core.judge import (
    CLIENT_ACCEPT,
    CLIENT_CONTENT_TYPE,
    CLIENT_DEVICE_ID,
    CONT_URL,
    FAIL,
    INFO,
    NO_STATUS_AFTER_END,
    SAME_URL_UNTIL_END,
    STATUS_AFTER_COMMANDS,
    STATUS_ORDER,
    Finding,
)
from conformance.core.messages import ClientMessage, Command, Status
from conformance.core.server import Reply, ServerSession
from conformance.core.states import State

from .conftest import CONF, DEVICE_ID, DEVINFO, PROFILE, SESSION_URL, C, cmd, sc

NAMES = PROFILE.headers
MEDIA = PROFILE.media
DOC = "http://content.example/doc"
MOVED = "http://srv.example/moved"
END = C(cmd("end"))
FIRST = ClientMessage(devinfo={"DevID": DEVICE_ID})


def post(
    server: ServerSession,
    message: ClientMessage,
    *,
    url: str = SESSION_URL,
    content_type: str | None = None,
    accept: str | None = PROFILE.accept.send,
    device_id: str | None = DEVICE_ID,
) -> Reply:
    encoded_type, body = encode_client_message(message, PROFILE)
    headers = {
        NAMES.content_type: content_type or encoded_type,
        NAMES.accept: accept,
        NAMES.device_id: device_id,
    }
    return server.receive(url, {k: v for k, v in headers.items() if v is not None}, body)


def commands_of(reply: Reply) -> tuple[Command, ...]:
    assert reply.status == PROFILE.http_ok
    assert reply.headers == {NAMES.content_type: MEDIA.command}
    return decode_commands(reply.body, PROFILE).commands


def statuses(*names: str, uri_first: bool = False) -> ClientMessage:
    return ClientMessage(
        tuple(
            Status(sc(n), uri=(f"{CONF}/1",) if uri_first and i == 0 else None)
            for i, n in enumerate(names)
        )
    )


def requirements(findings: Sequence[Finding]) -> list[tuple[str, str]]:
    return [(f.requirement, f.grade) for f in findings]


def server(*batches: Sequence[Command]) -> ServerSession:
    return ServerSession(PROFILE, SESSION_URL, batches)


# -- replies -------------------------------------------------------------------------------------
def test_script_batches_in_order_with_end_added_to_the_last() -> None:
    get, delete = C(cmd("get"), DOC, f"{CONF}/1"), C(cmd("delete"), f"{DEVINFO}/0")
    srv = server([get], [], [delete])
    assert commands_of(post(srv, FIRST)) == (get,)
    assert srv.observer.state.state is State.EXECUTING
    assert commands_of(post(srv, statuses("ok", uri_first=True))) == (delete, END)
    assert srv.ended and srv.observer.state.state is State.CLOSED
    assert srv.findings == []
    assert [(e.answered, e.sent) for e in srv.exchanges] == [((), (get,)), ((get,), (delete, END))]
    assert srv.exchanges[1].message == statuses("ok", uri_first=True)


def test_empty_script_ends_at_once() -> None:
    srv = server()
    assert commands_of(post(srv, FIRST)) == (END,)
    assert srv.ended


def test_explicit_end_is_not_doubled() -> None:
    srv = server([C(cmd("delete"), f"{CONF}/1"), END])
    assert commands_of(post(srv, FIRST)) == (C(cmd("delete"), f"{CONF}/1"), END)


def test_statuses_one_per_command_in_order_pass() -> None:
    srv = server(
        [C(cmd("get"), DOC), C(cmd("delete"), f"{DEVINFO}/0"), C(cmd("exec"), f"{CONF}/9")], [END]
    )
    post(srv, FIRST)
    post(srv, statuses("ok", "not_allowed", "not_found", uri_first=True))
    assert srv.findings == []


# -- findings ------------------------------------------------------------------------------------
def after_first(*batches: Sequence[Command]) -> ServerSession:
    srv = server(*batches)
    post(srv, FIRST)
    return srv


TWO = ([C(cmd("get"), DOC), C(cmd("delete"), f"{DEVINFO}/0")], [END])


def test_too_few_and_too_many_statuses() -> None:
    for message in (statuses("ok", uri_first=True), statuses("ok", "ok", "ok", uri_first=True)):
        srv = after_first(*TWO)
        post(srv, message)
        assert requirements(srv.findings) == [(STATUS_AFTER_COMMANDS, FAIL)]


def test_swapped_statuses() -> None:
    srv = after_first(*TWO)
    post(srv, ClientMessage((Status(sc("not_allowed")), Status(sc("ok"), uri=(f"{CONF}/1",)))))
    assert requirements(srv.findings) == [(STATUS_ORDER, FAIL), (STATUS_ORDER, FAIL)]


def test_message_after_end() -> None:
    srv = after_first([C(cmd("delete"), f"{CONF}/1"), END])
    assert srv.ended
    reply = post(srv, statuses("ok"))
    assert reply.status == sc("bad_request")
    assert reply.headers[NAMES.content_type].startswith(MEDIA.text)
    assert requirements(srv.findings) == [(NO_STATUS_AFTER_END, FAIL)]
    assert srv.exchanges[-1].sent == ()


def test_status_for_end() -> None:
    srv = after_first([C(cmd("delete"), f"{CONF}/1"), END])
    post(srv, statuses("ok", "ok"))
    assert requirements(srv.findings) == [(NO_STATUS_AFTER_END, FAIL)]


def test_empty_message_after_end_still_breaks_the_rule() -> None:
    srv = after_first([END])
    post(srv, ClientMessage())
    assert requirements(srv.findings) == [(NO_STATUS_AFTER_END, FAIL)]
    assert str(srv.findings[0]).startswith(f"[{NO_STATUS_AFTER_END}]")


def test_cont_moves_the_session_url() -> None:
    srv = after_first([C(cmd("cont"), MOVED)], [C(cmd("delete"), f"{CONF}/1")], [END])
    post(srv, statuses("ok"), url=MOVED)
    assert srv.observer.state.url == MOVED
    post(srv, statuses("ok"), url=MOVED)
    assert srv.findings == []


def test_message_to_the_old_url_after_cont() -> None:
    srv = after_first([C(cmd("cont"), MOVED)], [END])
    post(srv, statuses("ok"), url=SESSION_URL)
    same_url, cont_url = srv.findings
    assert (same_url.requirement, same_url.grade) == (SAME_URL_UNTIL_END, FAIL)
    assert (cont_url.requirement, cont_url.grade) == (CONT_URL, FAIL)
    assert MOVED in same_url.message and MOVED in cont_url.message


def test_message_to_another_url_without_cont() -> None:
    srv = after_first([C(cmd("delete"), f"{CONF}/1")], [END])
    post(srv, statuses("ok"), url="http://srv.example/elsewhere")
    assert requirements(srv.findings) == [(SAME_URL_UNTIL_END, FAIL)]


def test_first_message_url_is_not_judged() -> None:
    srv = server()
    post(srv, FIRST, url="http://srv.example/any")
    assert srv.findings == []


@pytest.mark.parametrize(
    ("url", "status"), [("srv/no-scheme", "bad_request"), (MOVED, "not_supported")]
)
def test_refused_cont_keeps_the_url(url: str, status: str) -> None:
    srv = after_first([C(cmd("cont"), url)], [END])
    post(srv, statuses(status), url=SESSION_URL)
    assert srv.findings == []


def test_missing_device_id() -> None:
    srv = server([C(cmd("delete"), f"{CONF}/1")])
    post(srv, FIRST, device_id=None)
    assert requirements(srv.findings) == [(CLIENT_DEVICE_ID, FAIL)]


def test_changed_device_id() -> None:
    srv = after_first([C(cmd("delete"), f"{CONF}/1")], [END])
    assert srv.observer.device_id == DEVICE_ID
    post(srv, statuses("ok"), device_id="IMEI:someone-else")
    [finding] = srv.findings
    assert (finding.requirement, finding.grade) == (CLIENT_DEVICE_ID, FAIL)
    assert "IMEI:someone-else" in finding.message


def test_expected_device_id_given_up_front() -> None:
    srv = ServerSession(PROFILE, SESSION_URL, (), device_id="IMEI:expected")
    post(srv, FIRST)
    assert requirements(srv.findings) == [(CLIENT_DEVICE_ID, FAIL)]


def test_wrong_content_type() -> None:
    srv = after_first([C(cmd("delete"), f"{CONF}/1")], [END])
    post(srv, statuses("ok"), content_type="application/json")
    assert requirements(srv.findings) == [(CLIENT_CONTENT_TYPE, FAIL)]


def test_accept_without_tnds() -> None:
    srv = server()
    post(srv, FIRST, accept=MEDIA.command)
    assert requirements(srv.findings) == [(CLIENT_ACCEPT, FAIL)]


def test_accept_with_semicolon_is_info() -> None:
    srv = server()
    reply = post(srv, FIRST, accept=f"{MEDIA.command}; {MEDIA.tnds}")
    assert requirements(srv.findings) == [(CLIENT_ACCEPT, INFO)]
    assert commands_of(reply) == (END,)


def test_unreadable_message_is_refused() -> None:
    srv = server([C(cmd("delete"), f"{CONF}/1")])
    reply = srv.receive(
        SESSION_URL,
        {
            NAMES.content_type: MEDIA.status,
            NAMES.accept: PROFILE.accept.send,
            NAMES.device_id: DEVICE_ID,
        },
        b'{"Status": [{"sc": "200"}]}',
    )
    assert reply.status == sc("bad_request")
    assert b"Status[0].sc" in reply.body
    assert requirements(srv.findings) == [(CLIENT_CONTENT_TYPE, FAIL)]
    assert srv.ended
    assert srv.exchanges[0].message is None and srv.exchanges[0].sent == ()


def test_findings_are_kept_per_exchange() -> None:
    srv = after_first(*TWO)
    post(srv, statuses("ok", uri_first=True), device_id=None)
    assert srv.exchanges[0].findings == []
    assert requirements(srv.exchanges[1].findings) == [
        (CLIENT_DEVICE_ID, FAIL),
        (STATUS_AFTER_COMMANDS, FAIL),
    ]
    assert srv.findings == srv.exchanges[1].findings
