"""The server's side of a device's sessions: replies, END, CONT, several sessions of one device,
and the findings it records on a client, each filed under its rule."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from conformance.core.codec import decode_commands, encode_client_message
from conformance.core.messages import Alert, ClientMessage, Command, Status
from conformance.core.rules import Finding, Grade
from conformance.core.server import Batches, DeviceSessions, Reply, ServerSession, batches_of
from conformance.core.states import State

from .conftest import CONF, DEVICE_ID, DEVINFO, PROFILE, SESSION_URL, C, cmd, sc

NAMES = PROFILE.headers
MEDIA = PROFILE.media
DOC = "http://content.example/doc"
MOVED = "http://srv.example/moved"
ALERTS = "http://srv.example/alerts"
END = C(cmd("end"))
FIRST = ClientMessage(devinfo={"DevID": DEVICE_ID})


def post(
    server: DeviceSessions,
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


def rule_keys(findings: Sequence[Finding]) -> list[str]:
    return [f.rule.key for f in findings]


def server(*batches: Sequence[Command]) -> ServerSession:
    return ServerSession(PROFILE, SESSION_URL, batches)


# -- replies -------------------------------------------------------------------------------------
def test_script_batches_in_order_with_end_added_to_the_last() -> None:
    get, delete = C(cmd("get"), DOC, f"{CONF}/1"), C(cmd("delete"), f"{DEVINFO}/0")
    srv = server([get], [], [delete])
    assert commands_of(post(srv, FIRST)) == (get,)
    [session] = srv.observer.sessions
    assert session.state.state is State.EXECUTING
    assert not srv.ended
    assert commands_of(post(srv, statuses("ok", uri_first=True))) == (delete, END)
    assert srv.ended and session.state.state is State.CLOSED
    assert srv.findings == []
    assert [(e.answered, e.sent) for e in srv.exchanges] == [((), (get,)), ((get,), (delete, END))]
    assert [e.session for e in srv.exchanges] == [1, 1]
    assert srv.exchanges[1].message == statuses("ok", uri_first=True)


def test_empty_script_ends_at_once() -> None:
    srv = server()
    assert commands_of(post(srv, FIRST)) == (END,)
    assert srv.ended


def test_explicit_end_is_not_doubled() -> None:
    srv = server([C(cmd("delete"), f"{CONF}/1"), END])
    assert commands_of(post(srv, FIRST)) == (C(cmd("delete"), f"{CONF}/1"), END)


def test_batches_of_drops_empty_batches() -> None:
    delete = C(cmd("delete"), f"{CONF}/1")
    assert batches_of([[delete], [], [delete, END]]) == [(delete,), (delete, END)]


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
        assert rule_keys(srv.findings) == ["status.count"]
        assert srv.findings[0].requirement == "P1.3"


def test_swapped_statuses() -> None:
    srv = after_first([C(cmd("exec"), f"{CONF}/0/Reboot"), C(cmd("delete"), f"{CONF}/1")], [END])
    post(srv, ClientMessage((Status(sc("ok")), Status(sc("accepted")))))
    assert rule_keys(srv.findings) == ["status.order"]
    assert srv.findings[0].requirement == "DM20-6.3-006"


def test_a_status_that_fits_no_command() -> None:
    srv = after_first(*TWO)
    post(srv, ClientMessage((Status(sc("not_allowed")), Status(sc("accepted")))))
    assert rule_keys(srv.findings) == ["status.code"]
    assert "Status[1] for DELETE: status 202" in srv.findings[0].message


def test_message_after_end() -> None:
    srv = after_first([C(cmd("delete"), f"{CONF}/1"), END])
    assert srv.ended
    reply = post(srv, statuses("ok"))
    assert reply.status == sc("bad_request")
    assert reply.headers[NAMES.content_type].startswith(MEDIA.text)
    assert rule_keys(srv.findings) == ["session.after-end"]
    assert reply.body.decode() == str(srv.findings[0])
    assert srv.exchanges[-1].sent == ()
    assert srv.exchanges[-1].session == 1


def test_status_for_end() -> None:
    srv = after_first([C(cmd("delete"), f"{CONF}/1"), END])
    post(srv, statuses("ok", "ok"))
    assert rule_keys(srv.findings) == ["session.after-end"]


def test_empty_message_after_end_still_breaks_the_rule() -> None:
    srv = after_first([END])
    post(srv, ClientMessage())
    assert rule_keys(srv.findings) == ["session.after-end"]
    assert str(srv.findings[0]).startswith("[DM20-6.2-024] ")


def test_cont_moves_the_session_url() -> None:
    srv = after_first([C(cmd("cont"), MOVED)], [C(cmd("delete"), f"{CONF}/1")], [END])
    post(srv, statuses("ok"), url=MOVED)
    assert srv.observer.sessions[0].state.url == MOVED
    post(srv, statuses("ok"), url=MOVED)
    assert srv.findings == []
    assert srv.ended and len(srv.observer.sessions) == 1


def test_message_to_the_old_url_after_cont() -> None:
    srv = after_first([C(cmd("cont"), MOVED)], [END])
    post(srv, statuses("ok"), url=SESSION_URL)
    [cont_url] = srv.findings
    assert cont_url.rule.key == "session.cont-url"
    assert cont_url.requirement == "DM20-6.2-023"
    assert MOVED in cont_url.message


def test_message_to_another_url_without_cont() -> None:
    srv = after_first([C(cmd("delete"), f"{CONF}/1")], [END])
    post(srv, statuses("ok"), url="http://srv.example/elsewhere")
    assert rule_keys(srv.findings) == ["session.same-url"]
    assert srv.findings[0].requirement == "DM20-6.3-001"


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
    assert rule_keys(srv.findings) == ["client.device-id"]


def test_changed_device_id() -> None:
    srv = after_first([C(cmd("delete"), f"{CONF}/1")], [END])
    assert srv.observer.device_id == DEVICE_ID
    post(srv, statuses("ok"), device_id="IMEI:someone-else")
    [finding] = srv.findings
    assert finding.rule.key == "client.device-id-stable"
    assert finding.requirement == "DM20-6.3-005" and finding.failed
    assert "IMEI:someone-else" in finding.message


def test_expected_device_id_given_up_front() -> None:
    srv = ServerSession(PROFILE, SESSION_URL, (), device_id="IMEI:expected")
    post(srv, FIRST)
    assert rule_keys(srv.findings) == ["client.device-id-stable"]


def test_wrong_content_type() -> None:
    srv = after_first([C(cmd("delete"), f"{CONF}/1")], [END])
    post(srv, statuses("ok"), content_type="application/json")
    assert rule_keys(srv.findings) == ["client.content-type"]


def test_accept_without_tnds() -> None:
    srv = server()
    post(srv, FIRST, accept=MEDIA.command)
    assert rule_keys(srv.findings) == ["client.accept"]


def test_accept_with_semicolon_is_info_and_the_session_goes_on() -> None:
    srv = server()
    reply = post(srv, FIRST, accept=f"{MEDIA.command}; {MEDIA.tnds}")
    [remark] = srv.findings
    assert (remark.requirement, remark.grade) == ("A3", Grade.INFO)
    assert commands_of(reply) == (END,)


def test_findings_do_not_stop_the_session() -> None:
    srv = after_first(*TWO)
    reply = post(srv, statuses("ok"))
    assert rule_keys(srv.findings) == ["status.count"]
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
    assert rule_keys(srv.findings) == ["client.status-shape"]
    assert srv.findings[0].requirement == "P2.2"
    assert srv.observer.sessions == []
    assert srv.exchanges[0].message is None and srv.exchanges[0].sent == ()
    assert srv.exchanges[0].session is None


def test_findings_are_kept_per_exchange() -> None:
    srv = after_first(*TWO)
    post(srv, statuses("ok", uri_first=True), device_id=None)
    assert srv.exchanges[0].findings == []
    assert rule_keys(srv.exchanges[1].findings) == ["client.device-id", "status.count"]
    assert srv.findings == srv.exchanges[1].findings


# -- several sessions of a device (DeviceSessions, A14) -----------------------------------------
def queue(*scripts: Batches) -> DeviceSessions:
    """A device's sessions; each new session gets the next script (then nothing)."""
    pending = list(scripts)
    return DeviceSessions(PROFILE, lambda: pending.pop(0) if pending else [])


def test_each_new_session_gets_the_commands_queued_for_it() -> None:
    first, second = (C(cmd("delete"), f"{CONF}/1"),), (C(cmd("delete"), f"{CONF}/0"),)
    device = queue([first], [second])
    assert commands_of(post(device, FIRST)) == (*first, END)
    assert commands_of(post(device, FIRST)) == (*second, END)
    assert commands_of(post(device, FIRST)) == (END,)
    assert device.findings == []
    assert [e.session for e in device.exchanges] == [1, 2, 3]


def test_an_alert_session_while_the_exec_session_is_open() -> None:
    """A14: the Generic Alert of an EXEC may come while the session that carried it is open."""
    exec_ = C(cmd("exec"), f"{CONF}/0/Reboot", ALERTS)
    device = queue([(exec_,), (C(cmd("delete"), f"{CONF}/1"),)], [])
    assert commands_of(post(device, FIRST)) == (exec_,)
    alert = Alert(PROFILE.alerts.generic, f"{CONF}/0/Reboot", data={PROFILE.keys.result: 200})
    assert commands_of(post(device, ClientMessage(alerts=(alert,)), url=ALERTS)) == (END,)
    assert commands_of(post(device, statuses("ok"))) == (C(cmd("delete"), f"{CONF}/1"), END)
    assert device.findings == []
    assert [e.session for e in device.exchanges] == [1, 2, 1]
    assert [e.answered for e in device.exchanges][2] == (exec_,)


def test_a_message_the_server_cannot_take_is_refused_with_its_findings() -> None:
    device = queue()
    post(device, FIRST)
    reply = post(device, ClientMessage())
    assert reply.status == sc("bad_request")
    assert reply.body.decode().startswith("[DM20-6.2-024] ")
