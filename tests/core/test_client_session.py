"""The client session against the command table: every command, its statuses, A1, bounds."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.core.client import (
    Browse,
    ClientSession,
    Done,
    FollowUp,
    Response,
    Send,
    Upload,
)
from conformance.core.codec import decode_client_message, encode_commands
from conformance.core.errors import StateError
from conformance.core.messages import Alert, Command, CommandMessage, Status
from conformance.core.tnds import decode_document
from conformance.core.uri import parse_client_uri
from conformance.core.wire import accept_lists, parse_media_type

from .conftest import (
    CONF,
    DEVICE_ID,
    DEVINFO,
    PROFILE,
    SECRET,
    SESSION_URL,
    C,
    Content,
    Run,
    cmd,
    drive,
    drive_with,
    make_device,
    sc,
    tree_data,
)

END = C(cmd("end"))
DOC = "http://content.example/doc"
UP = "http://content.example/up"
WEB = "http://web.example/page"
MEDIA = PROFILE.media
OK = PROFILE.http_ok
HEADERS = PROFILE.headers


def batch(*commands: Command, **kw: Any) -> tuple[tuple[Status, ...], Run]:
    """Run one command message (then END) and return the statuses the client sent for it; the
    server's judge must have found nothing wrong with them."""
    run = drive([commands, [END]], **kw)
    assert run.server is not None
    assert run.server.findings == [], [str(f) for f in run.server.findings]
    assert run.done == Done(False, "ended by END", run.done.follow_ups)
    assert len(run.sends) == 2
    statuses = run.statuses(0)
    assert len(statuses) == len(commands)
    return statuses, run


def one(command: Command, **kw: Any) -> tuple[Status, Run]:
    statuses, run = batch(command, **kw)
    return statuses[0], run


def codes(statuses: tuple[Status, ...]) -> list[int]:
    return [s.sc for s in statuses]


def commands_answer(*commands: Command) -> Response:
    body = encode_commands(CommandMessage(commands), PROFILE)
    return Response(PROFILE.http_ok, MEDIA.command, body)


# -- the profile's table is what these tests walk ------------------------------------------------
def test_every_command_of_the_table_is_covered() -> None:
    covered = {"get", "put", "post", "delete", "exec", "include", "show", "default", "cont", "end"}
    assert {c.action for c in PROFILE.commands} == covered


# -- headers and the first message ---------------------------------------------------------------
def test_first_message_and_headers_of_every_request() -> None:
    run = drive([[C(cmd("include"), f"{CONF}/1")], [C(cmd("delete"), f"{CONF}/9")], [END]])
    first = run.sends[0]
    assert first.url == SESSION_URL
    assert first.message.statuses == ()
    assert first.message.devinfo == run.device.devinfo
    assert json.loads(first.body)[PROFILE.keys.status] == []
    kinds = []
    for send in run.sends:
        assert set(send.headers) == {HEADERS.content_type, HEADERS.accept, HEADERS.device_id}
        assert send.headers[HEADERS.device_id] == DEVICE_ID
        assert send.headers[HEADERS.accept] == PROFILE.accept.send
        listed, odd = accept_lists(send.headers[HEADERS.accept], PROFILE)
        assert {MEDIA[k] for k in PROFILE.accept.required} <= set(listed)
        assert odd is None
        kinds.append(parse_media_type(send.headers[HEADERS.content_type])[0])
        decoded = decode_client_message(send.headers[HEADERS.content_type], send.body, PROFILE)
        assert decoded == send.message
    assert kinds == [MEDIA.status, MEDIA.multipart, MEDIA.status]
    assert run.server is not None and run.server.findings == []


def test_first_message_can_carry_alerts() -> None:
    alert = Alert(PROFILE.alerts.generic, f"{CONF}/0/Reboot", data={PROFILE.keys.result: sc("ok")})
    session = ClientSession(PROFILE, make_device(), SESSION_URL, alerts=(alert,))
    send = session.start()
    assert send.message.alerts == (alert,)
    assert decode_client_message(MEDIA.status, send.body, PROFILE).alerts == (alert,)


# -- GET -----------------------------------------------------------------------------------------
def test_get_with_client_uri_replaces() -> None:
    status, run = one(C(cmd("get"), DOC, f"{CONF}/0"), content={DOC: {"any key": {"Name": "new"}}})
    assert status == Status(sc("ok"), uri=(f"{CONF}/0",))
    assert run.fetches == [DOC]
    assert run.device.tree.data[CONF]["0"] == {"Name": "new"}


def test_get_with_client_uri_creates_a_node_under_an_existing_parent() -> None:
    status, run = one(C(cmd("get"), DOC, f"{CONF}/0/Sub/X"), content={DOC: {"k": 5}})
    assert status == Status(sc("ok"), uri=(f"{CONF}/0/Sub/X",))
    assert run.device.tree.data[CONF]["0"]["Sub"]["X"] == 5


def test_get_with_empty_instance_client_uri_makes_a_new_instance() -> None:
    status, run = one(C(cmd("get"), DOC, f"{CONF}/"), content={DOC: {"k": {"Name": "two"}}})
    assert status == Status(sc("ok"), uri=(f"{CONF}/2",))
    assert run.device.tree.data[CONF]["2"] == {"Name": "two"}


def test_get_without_client_uri_stores_every_key() -> None:
    document = {f"{CONF}/": {"Name": "new"}, f"{CONF}/1/Name": "uno", f"{DEVINFO}/0/Mod": "X2"}
    status, run = one(C(cmd("get"), DOC), content={DOC: document})
    assert status == Status(sc("ok"), uri=(f"{CONF}/2", f"{CONF}/1/Name", f"{DEVINFO}/0/Mod"))
    data = run.device.tree.data
    assert data[CONF]["2"] == {"Name": "new"}
    assert data[CONF]["1"] == {"Name": "uno"}
    assert data[DEVINFO]["0"]["Mod"] == "X2"


def test_get_empty_document_without_client_uri() -> None:
    """A19: the status URI lists every ClientURI stored, none here; the judge takes it."""
    status, run = one(C(cmd("get"), DOC), content={DOC: {}})
    assert status == Status(sc("ok"), uri=())
    assert run.device.tree.data == tree_data()


@pytest.mark.parametrize(
    "served",
    [
        Response(OK, MEDIA.status, b'{"k": 1}'),
        Response(OK, None, b'{"k": 1}'),
        Response(OK, MEDIA.tnds, b"not json"),
        Response(OK, MEDIA.tnds, b'{"k": [1]}'),
        Response(OK, MEDIA.tnds, b"[]"),
        Response(404, MEDIA.tnds, b'{"k": 1}'),
        Response(500),
        None,
    ],
    ids=[
        "media-type",
        "no-media-type",
        "bad-json",
        "bad-node",
        "not-object",
        "http-404",
        "http-500",
        "fetch-failed",
    ],
)
@pytest.mark.parametrize("target", [(f"{CONF}/0",), ()], ids=["with-uri", "without-uri"])
def test_get_bad_content_fails(served: Response | None, target: tuple[str, ...]) -> None:
    status, run = one(C(cmd("get"), DOC, *target), content={DOC: served})
    assert status.sc == sc("failed")
    assert status.uri is None
    assert status.reason
    assert run.fetches == [DOC]
    assert run.device.tree.data == tree_data()


@pytest.mark.parametrize("entries", [0, 2])
def test_get_with_client_uri_needs_exactly_one_entry(entries: int) -> None:
    document = {f"{CONF}/{i}": {"Name": str(i)} for i in range(entries)}
    status, run = one(C(cmd("get"), DOC, f"{CONF}/1"), content={DOC: document})
    assert status.sc == sc("failed")
    assert f"{entries} entries" in (status.reason or "")
    assert run.device.tree.data == tree_data()


@pytest.mark.parametrize(
    "key", [f"{CONF}/1?Levels=1", "no-moid/1", f"{CONF}/1/../x", CONF], ids=str
)
def test_get_content_with_bad_keys_fails(key: str) -> None:
    status, run = one(C(cmd("get"), DOC), content={DOC: {key: "x"}})
    assert status.sc == sc("failed")
    assert run.device.tree.data == tree_data()


def test_get_content_with_wildcard_key_fails() -> None:
    status, _ = one(C(cmd("get"), DOC), content={DOC: {"*": {}}})
    assert status.sc == sc("failed")


@pytest.mark.parametrize(
    ("target", "status_name"),
    [
        (f"{SECRET}/0", "forbidden"),
        ("urn:oma:mo:none:1.0/0", "not_found"),
        (f"{CONF}/9/Name", "not_found"),
    ],
)
def test_get_store_errors(target: str, status_name: str) -> None:
    with_uri, run = one(C(cmd("get"), DOC, target), content={DOC: {"k": "v"}})
    without_uri, _ = one(C(cmd("get"), DOC), content={DOC: {target: "v"}})
    assert with_uri.sc == without_uri.sc == sc(status_name)
    assert run.device.tree.data == tree_data()


@pytest.mark.parametrize(
    "params",
    [(DOC, "*"), (DOC, "*?Levels=1"), ("not-a-url", f"{CONF}/0"), (DOC, f"{CONF}/0?Levels=x")],
    ids=["star", "star-levels", "bad-server-uri", "bad-query"],
)
def test_get_bad_request_fetches_nothing(params: tuple[str, ...]) -> None:
    status, run = one(C(cmd("get"), *params), content={DOC: {"k": "v"}})
    assert status.sc == sc("bad_request")
    assert run.fetches == []


# -- PUT / POST ----------------------------------------------------------------------------------
UPLOADS = ["put", "post"]


@pytest.mark.parametrize("action", UPLOADS)
def test_upload_with_levels_and_star(action: str) -> None:
    command = C(cmd(action), UP, f"{CONF}/0/Sub?Levels=1", "*?Levels=0")
    status, run = one(command)
    assert status == Status(sc("ok"))
    [upload] = run.uploads
    assert upload.method == cmd(action)
    assert upload.url == UP
    assert upload.headers == {HEADERS.content_type: MEDIA.tnds}
    assert decode_document(upload.body, PROFILE) == {
        f"{CONF}/0/Sub": {"A": {}},
        f"{DEVINFO}/0": {},
        f"{CONF}/0": {},
        f"{CONF}/1": {},
    }


@pytest.mark.parametrize("action", UPLOADS)
def test_upload_without_levels_sends_whole_subtrees(action: str) -> None:
    _, run = one(C(cmd(action), UP, f"{CONF}/0/Sub", f"{DEVINFO}/0/Man"))
    assert decode_document(run.uploads[0].body, PROFILE) == {
        f"{CONF}/0/Sub": tree_data()[CONF]["0"]["Sub"],
        f"{DEVINFO}/0/Man": "Acme",
    }
    _, run = one(C(cmd(action), UP, "*"))
    whole = tree_data()
    assert decode_document(run.uploads[0].body, PROFILE) == {
        f"{m}/{i}": whole[m][i] for m in (DEVINFO, CONF) for i in whole[m]
    }


@pytest.mark.parametrize("action", UPLOADS)
@pytest.mark.parametrize(
    ("target", "status_name"),
    [(f"{CONF}/9", "not_found"), (f"{CONF}/0/Nope", "not_found"), (f"{SECRET}/0", "forbidden")],
)
def test_upload_of_missing_node_sends_nothing(action: str, target: str, status_name: str) -> None:
    status, run = one(C(cmd(action), UP, f"{CONF}/0", target))
    assert status.sc == sc(status_name)
    assert run.uploads == []


@pytest.mark.parametrize("action", UPLOADS)
@pytest.mark.parametrize(
    ("answer", "status_name"),
    [
        (Response(500), "failed"),
        (Response(404), "failed"),
        (Response(302), "failed"),
        (None, "failed"),
        (Response(OK), "ok"),
        (Response(201), "ok"),
    ],
)
def test_upload_transfer_result(action: str, answer: Response | None, status_name: str) -> None:
    status, run = one(C(cmd(action), UP, f"{CONF}/1"), upload=answer)
    assert status.sc == sc(status_name)
    assert len(run.uploads) == 1


@pytest.mark.parametrize("action", UPLOADS)
def test_upload_bad_request(action: str) -> None:
    for params in [(UP,), (f"{CONF}/0", UP), (UP, f"{CONF}")]:
        status, run = one(C(cmd(action), *params))
        assert status.sc == sc("bad_request")
        assert run.uploads == []


# -- DELETE --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("target", "status_name"),
    [
        (f"{CONF}/1", "ok"),
        (f"{CONF}/0/Sub/A", "ok"),
        (f"{CONF}/9", "not_found"),
        (f"{DEVINFO}/0", "not_allowed"),
        (f"{DEVINFO}/0/Man", "not_allowed"),
        (f"{SECRET}/0", "forbidden"),
        ("*", "bad_request"),
        (f"{CONF}/", "bad_request"),
    ],
)
def test_delete(target: str, status_name: str) -> None:
    status, run = one(C(cmd("delete"), target))
    assert status.sc == sc(status_name)
    assert status.uri is None
    if status_name == "ok":
        assert not run.device.tree.exists(parse_client_uri(target, PROFILE))
    else:
        assert run.device.tree.data == tree_data()
        assert status.reason


def test_delete_arity_message() -> None:
    statuses, _ = batch(C(cmd("delete"), f"{CONF}/1"), C(cmd("delete"), "a", "b", "c"))
    assert codes(statuses) == [sc("ok"), sc("bad_request")]
    assert statuses[1].reason == f"{PROFILE.keys.commands}[1]: DELETE takes 1 parameter, got 3"


# -- EXEC ----------------------------------------------------------------------------------------
def test_exec_without_server_uri() -> None:
    status, run = one(C(cmd("exec"), f"{CONF}/0/Reboot"))
    assert status == Status(sc("ok"))
    assert run.done.follow_ups == ()


def test_exec_with_server_uri_follows_up_with_a_generic_alert() -> None:
    status, run = one(C(cmd("exec"), f"{CONF}/0/Reboot", "http://alerts.example/dm"))
    assert status == Status(sc("ok"))
    keys = PROFILE.keys
    assert run.done.follow_ups == (
        FollowUp(
            "http://alerts.example/dm",
            Alert(PROFILE.alerts.generic, f"{CONF}/0/Reboot", data={keys.result: sc("ok")}),
        ),
    )


@pytest.mark.parametrize(
    ("params", "status_name"),
    [
        ((f"{CONF}/1/Reboot",), "not_found"),
        ((f"{CONF}/0/Name",), "not_allowed"),
        ((f"{CONF}/0",), "not_allowed"),
        ((f"{SECRET}/0/Key",), "forbidden"),
        (("*",), "bad_request"),
        ((f"{CONF}/0/Reboot", "nope"), "bad_request"),
        ((), "bad_request"),
    ],
)
def test_exec_errors(params: tuple[str, ...], status_name: str) -> None:
    status, run = one(C(cmd("exec"), *params))
    assert status.sc == sc(status_name)
    assert run.done.follow_ups == ()


# -- INCLUDE (A8) --------------------------------------------------------------------------------
def test_include_adds_a_multipart_part() -> None:
    statuses, run = batch(
        C(cmd("include"), f"{CONF}/0?Levels=1", f"{DEVINFO}/0/Man"),
        C(cmd("include"), f"{CONF}/9"),
        C(cmd("include"), "*?Levels=0"),
    )
    assert codes(statuses) == [sc("ok"), sc("not_found"), sc("ok")]
    send = run.sends[1]
    assert parse_media_type(send.headers[HEADERS.content_type])[0] == MEDIA.multipart
    assert send.message.includes == (
        {f"{CONF}/0": {"Name": "zero", "Reboot": "", "Sub": {}}, f"{DEVINFO}/0/Man": "Acme"},
        {f"{DEVINFO}/0": {}, f"{CONF}/0": {}, f"{CONF}/1": {}},
    )
    decoded = decode_client_message(send.headers[HEADERS.content_type], send.body, PROFILE)
    assert decoded.includes == send.message.includes


@pytest.mark.parametrize(
    "params",
    [(f"{CONF}/9",), (f"{CONF}/0", f"{CONF}/0/Nope"), (f"{SECRET}/0",), ()],
)
def test_include_without_success_is_plain(params: tuple[str, ...]) -> None:
    status, run = one(C(cmd("include"), *params))
    assert status.sc in {sc("not_found"), sc("forbidden"), sc("bad_request")}
    send = run.sends[1]
    assert send.headers[HEADERS.content_type] == MEDIA.status
    assert send.message.includes == ()


# -- SHOW (A11) ----------------------------------------------------------------------------------
def test_show_browses_before_the_status() -> None:
    status, run = one(C(cmd("show"), WEB))
    assert status == Status(sc("ok"))
    assert run.browses == [WEB]
    assert run.log.index("Browse") < [i for i, k in enumerate(run.log) if k == "Send"][1]


def test_show_pauses_the_session_until_the_browser_is_done() -> None:
    session = ClientSession(PROFILE, make_device(), SESSION_URL)
    session.start()
    session.receive(commands_answer(C(cmd("show"), WEB), C(cmd("cont"), "http://srv/x")))
    assert session.next_action() == Browse(WEB)
    session.complete(True)
    send = session.next_action()
    assert isinstance(send, Send)
    assert send.message.statuses == (Status(sc("ok")), Status(sc("ok")))


def test_show_failed_browse() -> None:
    status, _ = one(C(cmd("show"), WEB), browse=False)
    assert status.sc == sc("failed")


def test_show_without_browser() -> None:
    status, run = one(C(cmd("show"), WEB), device=make_device(without=["SHOW"]))
    assert status.sc == sc("not_supported")
    assert run.browses == []


# -- DEFAULT (A12) -------------------------------------------------------------------------------
MMS = "urn:oma:mo:mms:1.0"


def test_default_is_stored_per_moid_and_replaced() -> None:
    statuses, run = batch(
        C(cmd("default"), MMS, "http://c/mms"),
        C(cmd("default"), DEVINFO, "http://c/devinfo"),
        C(cmd("default"), MMS, "http://c/mms2"),
    )
    assert codes(statuses) == [sc("ok")] * 3
    assert run.device.defaults == {MMS: "http://c/mms2", DEVINFO: "http://c/devinfo"}


@pytest.mark.parametrize(
    "params",
    [("mms", "http://c/mms"), (f"{MMS}/0", "http://c/mms"), (MMS, "c/mms"), (MMS,)],
)
def test_default_bad_request(params: tuple[str, ...]) -> None:
    status, run = one(C(cmd("default"), *params))
    assert status.sc == sc("bad_request")
    assert run.device.defaults == {}


# -- CONT (A4) -----------------------------------------------------------------------------------
def test_cont_moves_the_session() -> None:
    moved, again = "http://srv.example/dm2", "http://srv.example/dm3"
    run = drive(
        [
            [C(cmd("cont"), moved), C(cmd("delete"), f"{CONF}/1")],
            [C(cmd("default"), MMS, "http://c/mms")],
            [C(cmd("delete"), f"{CONF}/9"), C(cmd("cont"), again)],
            [END],
        ]
    )
    assert [s.url for s in run.sends] == [SESSION_URL, moved, moved, again]
    assert codes(run.statuses(0)) == [sc("ok"), sc("ok")]
    assert codes(run.statuses(2)) == [sc("not_found"), sc("ok")]
    assert run.server is not None and run.server.findings == []
    assert not run.done.aborted


def test_cont_bad_url() -> None:
    status, run = one(C(cmd("cont"), "srv/dm"))
    assert status.sc == sc("bad_request")
    assert run.sends[1].url == SESSION_URL


# -- END -----------------------------------------------------------------------------------------
def test_end_alone_sends_no_status() -> None:
    run = drive([[END]])
    assert run.done == Done(False, "ended by END")
    assert len(run.sends) == 1
    assert run.server is not None and run.server.findings == []


def test_end_with_other_commands_executes_them_and_sends_nothing() -> None:
    run = drive(
        [
            [
                C(cmd("delete"), f"{CONF}/1"),
                C(cmd("default"), MMS, "http://c/mms"),
                C(cmd("put"), UP, f"{CONF}/0/Name"),
                END,
            ]
        ]
    )
    assert not run.done.aborted
    assert len(run.sends) == 1
    assert "1" not in run.device.tree.data[CONF]
    assert run.device.defaults == {MMS: "http://c/mms"}
    assert len(run.uploads) == 1
    assert run.log[-1] == "Done"


def test_malformed_end_still_ends_the_session() -> None:
    run = drive([[C(cmd("delete"), f"{CONF}/1"), C(END.name, "x")]])
    assert not run.done.aborted
    assert len(run.sends) == 1
    assert "1" not in run.device.tree.data[CONF]


def test_end_keeps_the_follow_ups() -> None:
    run = drive([[C(cmd("exec"), f"{CONF}/0/Reboot", "http://alerts.example/"), END]])
    assert [f.url for f in run.done.follow_ups] == ["http://alerts.example/"]


# -- malformed commands and features (A5, A6) ----------------------------------------------------
def test_unknown_command() -> None:
    statuses, _ = batch(C("FOO", "x"), C(cmd("delete"), f"{CONF}/1"), C("get", DOC))
    assert codes(statuses) == [sc("unknown_command"), sc("ok"), sc("unknown_command")]
    assert statuses[0].reason == f"{PROFILE.keys.commands}[0]: unknown command 'FOO'"


@pytest.mark.parametrize(
    "spec",
    [c for c in PROFILE.commands if c.max_params is not None and c.action != "end"],
    ids=lambda c: c.name,
)
def test_too_many_parameters(spec: Any) -> None:
    count = spec.max_params + 1
    status, run = one(C(spec.name, *["http://x.example/"] * count))
    assert run.sends[1].url == SESSION_URL
    assert status.sc == sc("bad_request")
    assert status.reason == (
        f"{PROFILE.keys.commands}[0]: {spec.name} takes {spec.arity_text()}, got {count}"
    )


@pytest.mark.parametrize(
    "spec", [c for c in PROFILE.commands if c.min_params > 0], ids=lambda c: c.name
)
def test_too_few_parameters(spec: Any) -> None:
    status, _ = one(C(spec.name))
    assert status.sc == sc("bad_request")
    assert (
        status.reason == f"{PROFILE.keys.commands}[0]: {spec.name} takes {spec.arity_text()}, got 0"
    )


VALID: dict[str, Command] = {
    "get": C(cmd("get"), DOC, f"{CONF}/1"),
    "put": C(cmd("put"), UP, f"{CONF}/1"),
    "post": C(cmd("post"), UP, f"{CONF}/1"),
    "delete": C(cmd("delete"), f"{CONF}/1"),
    "exec": C(cmd("exec"), f"{CONF}/0/Reboot", "http://alerts.example/"),
    "include": C(cmd("include"), f"{CONF}/1"),
    "show": C(cmd("show"), WEB),
    "default": C(cmd("default"), MMS, "http://c/mms"),
    "cont": C(cmd("cont"), "http://srv.example/moved"),
}


@pytest.mark.parametrize("spec", [c for c in PROFILE.commands if c.feature], ids=lambda c: c.name)
def test_undeclared_feature(spec: Any) -> None:
    content: Content = {DOC: {"k": {"Name": "new"}}}
    device = make_device(without=[spec.feature])
    status, run = one(VALID[spec.action], device=device, content=content)
    assert status.sc == sc("not_supported")
    assert run.fetches == run.uploads == run.browses == []
    assert run.done.follow_ups == ()
    assert run.device.tree.data == tree_data()
    assert run.device.defaults == {}
    assert [s.url for s in run.sends] == [SESSION_URL, SESSION_URL]
    assert run.sends[1].message.includes == ()


@pytest.mark.parametrize("spec", [c for c in PROFILE.commands if c.feature], ids=lambda c: c.name)
def test_declared_feature_succeeds(spec: Any) -> None:
    content: Content = {DOC: {"k": {"Name": "new"}}}
    status, _ = one(VALID[spec.action], device=make_device([spec.feature]), content=content)
    assert status.sc == sc("ok")


# -- A1: a bad answer aborts ---------------------------------------------------------------------
GOOD = encode_commands(CommandMessage((C(cmd("delete"), f"{CONF}/1"),)), PROFILE)
BAD_ANSWERS = {
    "http-500": Response(500, MEDIA.command, GOOD),
    "http-204": Response(204, MEDIA.command, GOOD),
    "content-type": Response(PROFILE.http_ok, "application/json", GOOD),
    "no-content-type": Response(PROFILE.http_ok, None, GOOD),
    "not-json": Response(PROFILE.http_ok, MEDIA.command, b"<html>"),
    "no-commands": Response(PROFILE.http_ok, MEDIA.command, b'{"CMD": []}'),
    "status-message": Response(PROFILE.http_ok, MEDIA.command, b'{"Status": []}'),
}


@pytest.mark.parametrize("answer", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
@pytest.mark.parametrize("after", [0, 1], ids=["first-answer", "second-answer"])
def test_bad_answer_aborts(answer: Response, after: int) -> None:
    answers = [commands_answer(C(cmd("delete"), f"{CONF}/0/Name"))] * after + [answer]

    def respond(send: Send) -> Response:
        return answers.pop(0)

    run = drive_with(respond)
    assert run.done.aborted
    assert "A1" in run.done.reason
    assert len(run.sends) == after + 1
    assert run.log[-1] == "Done"
    assert "1" in run.device.tree.data[CONF]


def test_first_accepted_only_once_the_server_answered_with_commands() -> None:
    """The first message's alerts are delivered once the server took it (seed 5.2)."""
    refused = ClientSession(PROFILE, make_device(), SESSION_URL)
    assert not refused.first_accepted
    refused.start()
    refused.receive(BAD_ANSWERS["not-json"])
    assert not refused.first_accepted
    taken = ClientSession(PROFILE, make_device(), SESSION_URL)
    taken.start()
    taken.receive(commands_answer(C(cmd("delete"), f"{CONF}/9")))
    assert taken.first_accepted
    assert isinstance(taken.next_action(), Send)
    taken.receive(BAD_ANSWERS["http-500"])
    done = taken.next_action()
    assert isinstance(done, Done) and done.aborted
    assert taken.first_accepted


def test_aborted_session_stays_done() -> None:
    session = ClientSession(PROFILE, make_device(), SESSION_URL)
    session.start()
    session.receive(BAD_ANSWERS["http-500"])
    done = session.next_action()
    assert isinstance(done, Done) and done.aborted
    assert session.next_action() == done
    with pytest.raises(StateError):
        session.receive(commands_answer(END))


def test_abort_keeps_follow_ups_of_executed_commands() -> None:
    answers = [
        commands_answer(C(cmd("exec"), f"{CONF}/0/Reboot", "http://alerts.example/")),
        BAD_ANSWERS["http-500"],
    ]
    run = drive_with(lambda send: answers.pop(0))
    assert run.done.aborted
    assert [f.url for f in run.done.follow_ups] == ["http://alerts.example/"]


def test_lone_surrogate_in_a_command_does_not_crash_the_client() -> None:
    body = b'{"CMD": [["DELETE", "' + CONF.encode() + b'/0/\\ud800"]]}'
    answers = [Response(PROFILE.http_ok, MEDIA.command, body), commands_answer(END)]
    run = drive_with(lambda send: answers.pop(0))
    assert len(run.sends) == 1
    assert run.done.aborted and "surrogate" in run.done.reason


# -- bounds and misuse ---------------------------------------------------------------------------
def test_cont_loop_is_bounded() -> None:
    counter = iter(range(10**6))

    def respond(send: Send) -> Response:
        return commands_answer(C(cmd("cont"), f"http://srv.example/{next(counter)}"))

    run = drive_with(respond)
    assert run.done.aborted
    assert len(run.sends) == PROFILE.limits.max_exchanges
    assert str(PROFILE.limits.max_exchanges) in run.done.reason


def test_endless_server_script_is_bounded() -> None:
    script = [[C(cmd("delete"), f"{CONF}/9")]] * (PROFILE.limits.max_exchanges + 10)
    run = drive(script)
    assert run.done.aborted
    assert len(run.sends) == PROFILE.limits.max_exchanges
    assert run.server is not None and run.server.findings == []


def test_receive_only_when_an_answer_is_due() -> None:
    session = ClientSession(PROFILE, make_device(), SESSION_URL)
    with pytest.raises(StateError, match="idle"):
        session.receive(commands_answer(END))
    session.start()
    with pytest.raises(StateError, match="waiting"):
        session.next_action()
    with pytest.raises(StateError):
        session.start()
    session.receive(commands_answer(C(cmd("delete"), f"{CONF}/1")))
    with pytest.raises(StateError, match="executing"):
        session.receive(commands_answer(END))


def test_upload_action_shape() -> None:
    session = ClientSession(PROFILE, make_device(), SESSION_URL)
    session.start()
    session.receive(commands_answer(C(cmd("post"), UP, f"{CONF}/1"), END))
    action = session.next_action()
    assert action == Upload(
        cmd("post"),
        UP,
        {HEADERS.content_type: MEDIA.tnds},
        b'{"' + CONF.encode() + b'/1":{"Name":"one"}}',
    )
    session.complete(Response(204))
    assert session.next_action() == Done(False, "ended by END")
