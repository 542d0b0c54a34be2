"""The observer of a device's sessions: each client message routed to its session (several may be
open at once, A14), judged there, and what the session is then waiting for."""

from __future__ import annotations

from conformance.core.messages import Alert, ClientMessage, Command, Status
from conformance.core.observer import DeviceObserver, Routed, cont_targets, url_after
from conformance.core.rules import Finding
from conformance.core.states import State

from .conftest import (
    CONF,
    DEVICE_ID,
    PROFILE,
    SESSION_URL,
    C,
    cmd,
    post_bytes,
    post_message,
    sc,
)

MOVED = "http://srv.example/moved"
ALERTS = "http://srv.example/alerts"
FIRST = ClientMessage(devinfo={"DevID": DEVICE_ID})
END = C(cmd("end"))
DELETE = C(cmd("delete"), f"{CONF}/1")
ALERT = Alert(PROFILE.alerts.generic, f"{CONF}/0/Reboot", data={PROFILE.keys.result: sc("ok")})


def keys(findings: list[Finding]) -> list[str]:
    return [f.rule.key for f in findings]


def oks(count: int = 1) -> ClientMessage:
    return ClientMessage((Status(sc("ok")),) * count)


def answer(routed: Routed, *commands: Command) -> None:
    """The server answers the message `routed` with `commands`."""
    assert routed.session is not None
    routed.session.commands(commands)


def opened(*commands: Command) -> tuple[DeviceObserver, Routed]:
    """An observer that saw a first message, answered with `commands`."""
    observer = DeviceObserver(PROFILE)
    routed = post_message(observer, FIRST)
    assert routed.first and routed.findings == []
    answer(routed, *commands)
    return observer, routed


# -- one session ---------------------------------------------------------------------------------
def test_a_first_message_opens_a_session() -> None:
    observer = DeviceObserver(PROFILE)
    routed = post_message(observer, FIRST)
    assert routed.message == FIRST and routed.first and routed.findings == []
    assert routed.session is observer.sessions[0]
    assert routed.session.number == 1
    assert routed.session.state.state is State.AWAIT_COMMANDS
    assert observer.device_id == DEVICE_ID


def test_a_session_through_to_end() -> None:
    observer, routed = opened(DELETE)
    session = routed.session
    assert session is not None and session.awaiting_statuses
    again = post_message(observer, oks())
    assert (again.session, again.first, again.findings) == (session, False, [])
    answer(again, END)
    assert session.ended and session.ended_by_end
    assert session.state.state is State.CLOSED
    assert session.state.exchanges == 2


def test_a_status_message_goes_to_the_cont_url() -> None:
    observer, routed = opened(C(cmd("cont"), MOVED), DELETE)
    moved = post_message(observer, oks(2), url=MOVED)
    assert (moved.session, moved.first, moved.findings) == (routed.session, False, [])
    assert routed.session is not None and routed.session.state.url == MOVED
    answer(moved, DELETE)
    assert post_message(observer, oks(), url=MOVED).findings == []
    assert len(observer.sessions) == 1


def test_after_cont_the_old_url_is_wrong() -> None:
    observer, routed = opened(C(cmd("cont"), MOVED))
    stayed = post_message(observer, oks(), url=SESSION_URL)
    assert stayed.session is routed.session
    [finding] = stayed.findings
    assert finding.rule.key == "session.cont-url"
    assert finding.requirement == "DM20-6.2-023"
    assert MOVED in finding.message and "(set by CONT)" in finding.message


def test_a_refused_cont_keeps_the_session_url() -> None:
    observer, routed = opened(C(cmd("cont"), MOVED))
    refused = ClientMessage((Status(sc("not_supported")),))
    assert post_message(observer, refused, url=SESSION_URL).findings == []
    assert routed.session is not None and routed.session.state.url == SESSION_URL


def test_following_a_refused_cont_is_the_wrong_url() -> None:
    observer, routed = opened(C(cmd("cont"), MOVED))
    refused = ClientMessage((Status(sc("not_supported")),))
    went = post_message(observer, refused, url=MOVED)
    assert went.session is routed.session
    assert keys(went.findings) == ["session.same-url"]


def test_statuses_out_of_order_do_not_hide_where_a_cont_moved_the_session() -> None:
    """The CONT's 200 comes second, the EXEC's 202 first: read by position the CONT failed and
    the session stayed; its own status says it moved. Only the order is wrong (seed 6.3)."""
    observer, routed = opened(C(cmd("cont"), MOVED), C(cmd("exec"), f"{CONF}/0/Reboot"))
    swapped = ClientMessage((Status(sc("accepted")), Status(sc("ok"))))
    moved = post_message(observer, swapped, url=MOVED)
    assert moved.session is routed.session
    assert keys(moved.findings) == ["status.order"]
    assert routed.session is not None and routed.session.state.url == MOVED


def test_a_status_message_to_another_url() -> None:
    observer, routed = opened(DELETE)
    elsewhere = post_message(observer, oks(), url="http://srv.example/elsewhere")
    assert elsewhere.session is routed.session
    [finding] = elsewhere.findings
    assert finding.rule.key == "session.same-url"
    assert finding.requirement == "DM20-6.3-001"
    assert SESSION_URL in finding.message


def test_statuses_are_judged_against_the_commands_of_their_session() -> None:
    observer, _ = opened(C(cmd("get"), "http://content.example/doc", f"{CONF}/1"), DELETE)
    routed = post_message(observer, oks(1))
    assert keys(routed.findings) == ["status.count"]


def test_a_first_message_with_statuses() -> None:
    routed = post_message(DeviceObserver(PROFILE), oks())
    assert routed.first
    assert keys(routed.findings) == ["client.body"]
    assert "a first message with 1 statuses" in routed.findings[0].message


def test_first_message_members_in_a_status_message() -> None:
    observer, _ = opened(DELETE)
    routed = post_message(observer, ClientMessage((Status(sc("ok")),), mo={}))
    assert keys(routed.findings) == ["client.first-message-only"]


def test_an_unreadable_message_belongs_to_no_session() -> None:
    observer = DeviceObserver(PROFILE)
    routed = post_bytes(observer, PROFILE.media.status, b"not json")
    assert routed == Routed(None, routed.findings, None)
    assert keys(routed.findings) == ["client.body"]
    assert observer.sessions == []
    assert post_message(observer, FIRST).session is observer.sessions[0]


def test_the_device_id_is_held_across_sessions() -> None:
    observer, _ = opened(END)
    routed = post_message(observer, FIRST, device_id="IMEI:someone-else")
    assert routed.first and routed.session is observer.sessions[1]
    assert keys(routed.findings) == ["client.device-id-stable"]


# -- several sessions at once (A14) --------------------------------------------------------------
def test_an_alert_session_opens_while_another_awaits_statuses() -> None:
    observer, first = opened(C(cmd("exec"), f"{CONF}/0/Reboot", ALERTS), DELETE)
    alert = post_message(observer, ClientMessage(alerts=(ALERT,)), url=ALERTS)
    assert alert.first and alert.findings == []
    assert alert.session is observer.sessions[1] and alert.session.number == 2
    answer(alert, END)
    assert first.session is not None and first.session.awaiting_statuses
    statuses = post_message(observer, oks(2))
    assert (statuses.session, statuses.first, statuses.findings) == (first.session, False, [])


def test_two_open_sessions_each_get_their_own_statuses() -> None:
    observer, first = opened(DELETE)
    alert = post_message(observer, ClientMessage(alerts=(ALERT,)), url=ALERTS)
    answer(alert, DELETE, DELETE)
    to_alert_session = post_message(observer, oks(2), url=ALERTS)
    assert (to_alert_session.session, to_alert_session.findings) == (alert.session, [])
    to_first_session = post_message(observer, oks(1))
    assert (to_first_session.session, to_first_session.findings) == (first.session, [])


def test_a_first_message_with_devinfo_opens_a_session_beside_an_open_one() -> None:
    observer, first = opened(DELETE)
    second = post_message(observer, FIRST)
    assert second.first and second.session is not first.session
    assert [s.number for s in observer.sessions] == [1, 2]


# -- after END, after an abort -------------------------------------------------------------------
def test_a_bare_message_after_end_at_the_same_url_is_after_end() -> None:
    observer, routed = opened(DELETE, END)
    after = post_message(observer, ClientMessage())
    assert after.session is routed.session and not after.first
    [finding] = after.findings
    assert finding.rule.key == "session.after-end"
    assert finding.requirement == "DM20-6.2-024"
    assert len(observer.sessions) == 1


def test_a_status_for_the_end_message_is_after_end() -> None:
    observer, routed = opened(DELETE, END)
    after = post_message(observer, oks(1))
    assert after.session is routed.session
    assert keys(after.findings) == ["session.after-end"]


def test_after_settle_a_bare_message_opens_a_new_session() -> None:
    observer, routed = opened(END)
    observer.settle()
    after = post_message(observer, ClientMessage())
    assert after.first and after.findings == []
    assert after.session is not routed.session and after.session is observer.sessions[1]


def test_settle_leaves_open_sessions_alone() -> None:
    observer, routed = opened(DELETE)
    observer.settle()
    assert post_message(observer, oks()).session is routed.session
    assert routed.session is not None and not routed.session.settled


def test_a_bare_message_elsewhere_after_end_opens_a_new_session() -> None:
    observer, _ = opened(END)
    after = post_message(observer, ClientMessage(), url=ALERTS)
    assert after.first and after.findings == []


def test_a_new_first_message_after_end_opens_a_new_session() -> None:
    observer, _ = opened(END)
    with_devinfo = post_message(observer, FIRST)
    assert with_devinfo.first and with_devinfo.findings == []
    answer(with_devinfo, END)
    with_alert = post_message(observer, ClientMessage(alerts=(ALERT,)))
    assert with_alert.first and with_alert.findings == []
    assert [s.number for s in observer.sessions] == [1, 2, 3]


def test_a_message_after_an_aborted_session() -> None:
    observer = DeviceObserver(PROFILE)
    routed = post_message(observer, FIRST)
    assert routed.session is not None
    routed.session.bad_answer()
    assert routed.session.state.state is State.ABORTED and routed.session.ended
    after = post_message(observer, oks())
    assert after.session is routed.session
    [finding] = after.findings
    assert finding.rule.key == "session.after-abort"
    assert finding.requirement == "A1"
    again = post_message(observer, FIRST)
    assert again.first and again.findings == [] and again.session is observer.sessions[1]


def test_a_bare_message_after_an_aborted_session_is_after_the_abort() -> None:
    """A1: the client sends nothing more. A bare first message (no DevInfo, which is optional,
    no Alert) where the aborted session was is that session's message after its end, until the
    client is started again."""
    observer = DeviceObserver(PROFILE)
    routed = post_message(observer, FIRST)
    assert routed.session is not None
    routed.session.bad_answer()
    after = post_message(observer, ClientMessage())
    assert after.session is routed.session and not after.first
    assert keys(after.findings) == ["session.after-abort"]
    observer.settle()
    again = post_message(observer, ClientMessage())
    assert again.first and again.findings == [] and again.session is observer.sessions[1]


def test_a_bad_answer_to_a_status_message_aborts_too() -> None:
    observer, routed = opened(DELETE)
    session = routed.session
    assert session is not None and post_message(observer, oks()).session is session
    session.bad_answer()
    assert session.state.state is State.ABORTED and not session.ended_by_end
    assert keys(post_message(observer, oks()).findings) == ["session.after-abort"]


# -- where a status message goes -----------------------------------------------------------------
def test_url_after_takes_the_last_cont_that_succeeded() -> None:
    commands = (C(cmd("cont"), MOVED), DELETE, C(cmd("cont"), ALERTS), END)
    ok, refused = Status(sc("ok")), Status(sc("bad_request"))
    assert url_after(commands, (ok, ok, ok), SESSION_URL, PROFILE) == ALERTS
    assert url_after(commands, (ok, ok, refused), SESSION_URL, PROFILE) == MOVED
    assert url_after(commands, (refused, ok, refused), SESSION_URL, PROFILE) == SESSION_URL
    assert url_after((DELETE,), (ok,), SESSION_URL, PROFILE) == SESSION_URL


def test_cont_targets() -> None:
    commands = (C(cmd("cont"), MOVED), DELETE, C(cmd("cont")), C(cmd("cont"), ALERTS))
    assert cont_targets(commands, PROFILE) == [MOVED, ALERTS]
    assert cont_targets((DELETE, END), PROFILE) == []
