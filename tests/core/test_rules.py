"""The table of rules (core/rules.py) held against the catalog and the profile, and the proof at
unit level that every rule the core judges by can be seen broken: a crafted bad input per rule,
judged by the core's own entry points, gives exactly one finding, filed under that rule."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from conformance.catalog import load_catalog
from conformance.core import rules
from conformance.core.codec import client_message_json
from conformance.core.judge import judge_server_answer
from conformance.core.messages import ClientMessage, Command, Status
from conformance.core.multipart import encode_multipart
from conformance.core.observer import DeviceObserver
from conformance.core.rules import (
    ASSUMPTION,
    PROFILE_RULE,
    RULES,
    Finding,
    Grade,
    Rule,
    signature_rule,
)
from conformance.core.wire import dump_json
from conformance.profiles import CommandSpec

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

CATALOG = load_catalog()
MEDIA = PROFILE.media
DOC = "http://content.example/doc"
MOVED = "http://srv.example/moved"
SIGNATURES = [signature_rule(spec) for spec in PROFILE.commands]
EVERY_RULE = [*RULES.values(), *SIGNATURES]


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def basis_texts(rule: Rule) -> list[str]:
    """The text a rule's basis has: a catalog entry's text and detail, or the profile's words."""
    entry = CATALOG.get(rule.basis)
    if entry is not None:
        return [entry.text, *([entry.detail] if entry.detail else [])]
    text = PROFILE.basis(rule.basis)
    return [text] if text else []


# -- the table -----------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", EVERY_RULE, ids=lambda r: r.key)
def test_basis_exists(rule: Rule) -> None:
    assert basis_texts(rule), f"{rule.key}: no catalog entry or profile text {rule.basis}"


@pytest.mark.parametrize("rule", EVERY_RULE, ids=lambda r: r.key)
def test_level_is_the_basis_level(rule: Rule) -> None:
    entry = CATALOG.get(rule.basis)
    if entry is not None:
        assert rule.level == entry.level
        assert not rule.is_assumption
    elif rule.basis in PROFILE.assumptions:
        assert rule.level == ASSUMPTION
        assert rule.is_assumption
    else:
        assert rule.basis in PROFILE.rules
        assert rule.level == PROFILE_RULE
        assert rule.is_assumption


@pytest.mark.parametrize("rule", EVERY_RULE, ids=lambda r: r.key)
def test_quote_is_in_the_basis(rule: Rule) -> None:
    quote = normalised(rule.quote)
    assert quote
    assert any(quote in normalised(text) for text in basis_texts(rule)), (
        f"{rule.key}: {rule.quote!r} is not in {rule.basis}"
    )


@pytest.mark.parametrize("rule", EVERY_RULE, ids=lambda r: r.key)
def test_a_catalog_basis_is_testable_and_binds_the_side_judged(rule: Rule) -> None:
    entry = CATALOG.get(rule.basis)
    if entry is None:
        return
    assert entry.testable, f"{rule.key} rests on {rule.basis}, which the catalog calls untestable"
    judged = entry.binds_server if rule.key.startswith("server.") else entry.binds_client
    assert judged, f"{rule.key} judges a side that {rule.basis} ({entry.binds}) does not bind"


@pytest.mark.parametrize(
    "rule", [r for r in EVERY_RULE if r.grade is Grade.FAIL], ids=lambda r: r.key
)
def test_no_failure_rests_on_a_may(rule: Rule) -> None:
    entry = CATALOG.get(rule.basis)
    assert entry is None or entry.level != "MAY"


def test_rule_keys_are_unique_and_all_in_the_table() -> None:
    constants = [v for v in vars(rules).values() if isinstance(v, Rule)]
    assert len({c.key for c in constants}) == len(constants) == len(RULES)
    assert all(RULES[c.key] is c for c in constants)
    keys = [r.key for r in EVERY_RULE]
    assert len(set(keys)) == len(keys)


def test_a_rule_cannot_be_defined_twice() -> None:
    before = dict(RULES)
    with pytest.raises(ValueError, match="defined twice"):
        rules._rule("status.order", "DM20-6.3-006", "MUST", "x", "x")
    assert before == RULES


@pytest.mark.parametrize("spec", PROFILE.commands, ids=lambda s: s.name)
def test_signature_rule_rests_on_the_command_row(spec: CommandSpec) -> None:
    rule = signature_rule(spec)
    assert spec.signature is not None
    entry = CATALOG[spec.signature]
    assert entry.command is not None and spec.name in entry.command.split("/")
    assert rule.basis == spec.signature
    assert spec.name in entry.text.split()[0].split("/")  # the row starts with the name


def test_only_the_a3_remark_is_no_failure() -> None:
    assert [r.key for r in EVERY_RULE if r.grade is not Grade.FAIL] == ["client.accept-separator"]
    assert "informational" in (PROFILE.basis(rules.CLIENT_ACCEPT_SEPARATOR.basis) or "")


def test_finding_is_filed_under_its_rule_basis() -> None:
    finding = Finding(rules.STATUS_ORDER, "statuses swapped")
    assert finding.requirement == "DM20-6.3-006"
    assert finding.grade is Grade.FAIL and finding.failed
    assert str(finding) == "[DM20-6.3-006] statuses swapped"
    remark = Finding(rules.CLIENT_ACCEPT_SEPARATOR, "';'")
    assert remark.requirement == "A3"
    assert remark.grade is Grade.INFO and not remark.failed


# -- each rule can fail --------------------------------------------------------------------------
Trigger = Callable[[], list[Finding]]
TRIGGERS: dict[str, Trigger] = {}
FIRST = ClientMessage(devinfo={"DevID": DEVICE_ID})
OK_ANSWER = {PROFILE.headers.content_type: MEDIA.command}
GOOD_COMMANDS = b'{"CMD": [["DELETE", "' + CONF.encode() + b'/1"], ["END"]]}'


def trigger(key: str) -> Callable[[Trigger], Trigger]:
    def register(function: Trigger) -> Trigger:
        TRIGGERS[key] = function
        return function

    return register


def opened(*commands: Command) -> DeviceObserver:
    """An observer that saw a good first message, answered with `commands`."""
    observer = DeviceObserver(PROFILE)
    routed = post_message(observer, FIRST)
    assert routed.findings == [] and routed.session is not None
    routed.session.commands(commands)
    return observer


def answered(*statuses: Status, includes: tuple[dict[str, object], ...] = ()) -> ClientMessage:
    return ClientMessage(statuses, includes=includes)


def multipart(*parts: tuple[str, bytes]) -> tuple[str, bytes]:
    return encode_multipart(MEDIA.multipart, list(parts))


FIRST_PART = (MEDIA.status, dump_json(client_message_json(FIRST, PROFILE)))


@trigger("client.content-type")
def _() -> list[Finding]:
    return post_message(DeviceObserver(PROFILE), FIRST, content_type="application/json").findings


@trigger("client.multipart-only-with-include")
def _() -> list[Finding]:
    return post_bytes(DeviceObserver(PROFILE), *multipart(FIRST_PART)).findings


@trigger("client.accept")
def _() -> list[Finding]:
    return post_message(DeviceObserver(PROFILE), FIRST, accept=MEDIA.command).findings


@trigger("client.accept-separator")
def _() -> list[Finding]:
    seed_form = f"{MEDIA.command}; {MEDIA.tnds}"
    return post_message(DeviceObserver(PROFILE), FIRST, accept=seed_form).findings


@trigger("client.device-id")
def _() -> list[Finding]:
    return post_message(DeviceObserver(PROFILE), FIRST, device_id=None).findings


@trigger("client.device-id-stable")
def _() -> list[Finding]:
    observer = opened(C(cmd("delete"), f"{CONF}/1"))
    return post_message(observer, answered(Status(sc("ok"))), device_id="IMEI:other").findings


@trigger("client.body")
def _() -> list[Finding]:
    return post_bytes(DeviceObserver(PROFILE), MEDIA.status, b"{").findings


@trigger("client.first-message-only")
def _() -> list[Finding]:
    observer = opened(C(cmd("delete"), f"{CONF}/1"))
    message = ClientMessage((Status(sc("ok")),), devinfo={"DevID": DEVICE_ID})
    return post_message(observer, message).findings


@trigger("client.status-shape")
def _() -> list[Finding]:
    body = b'{"Status": [{"sc": "200"}]}'
    return post_bytes(DeviceObserver(PROFILE), MEDIA.status, body).findings


@trigger("client.devinfo-devid")
def _() -> list[Finding]:
    body = b'{"Status": [], "DevInfo": {"Man": "Acme"}}'
    return post_bytes(DeviceObserver(PROFILE), MEDIA.status, body).findings


@trigger("client.multipart")
def _() -> list[Finding]:
    _, body = multipart(FIRST_PART)
    return post_bytes(DeviceObserver(PROFILE), MEDIA.multipart, body).findings


@trigger("client.multipart-parts")
def _() -> list[Finding]:
    wrong_first = (MEDIA.tnds, FIRST_PART[1])
    return post_bytes(DeviceObserver(PROFILE), *multipart(wrong_first)).findings


@trigger("client.include-document")
def _() -> list[Finding]:
    parts = multipart(FIRST_PART, (MEDIA.tnds, b"[]"))
    return post_bytes(DeviceObserver(PROFILE), *parts).findings


@trigger("status.count")
def _() -> list[Finding]:
    observer = opened(C(cmd("delete"), f"{CONF}/1"))
    return post_message(observer, answered(Status(sc("ok")), Status(sc("ok")))).findings


@trigger("status.order")
def _() -> list[Finding]:
    observer = opened(C(cmd("exec"), f"{CONF}/0/Reboot"), C(cmd("delete"), f"{CONF}/1"))
    swapped = answered(Status(sc("ok")), Status(sc("accepted")))  # only an EXEC gets 202
    return post_message(observer, swapped).findings


@trigger("status.code")
def _() -> list[Finding]:
    observer = opened(C(cmd("delete"), f"{CONF}/1"))
    return post_message(observer, answered(Status(sc("accepted")))).findings


@trigger("status.get-uri")
def _() -> list[Finding]:
    observer = opened(C(cmd("get"), DOC, f"{CONF}/1"))
    return post_message(observer, answered(Status(sc("ok")))).findings


@trigger("include.parts-missing")
def _() -> list[Finding]:
    observer = opened(C(cmd("include"), f"{CONF}/1"))
    return post_message(observer, answered(Status(sc("ok")))).findings


@trigger("include.parts-extra")
def _() -> list[Finding]:
    observer = opened(C(cmd("include"), f"{CONF}/9"))
    extra = answered(Status(sc("not_found")), includes=({f"{CONF}/9": {}},))
    return post_message(observer, extra).findings


@trigger("session.same-url")
def _() -> list[Finding]:
    observer = opened(C(cmd("delete"), f"{CONF}/1"))
    return post_message(observer, answered(Status(sc("ok"))), url=MOVED).findings


@trigger("session.cont-url")
def _() -> list[Finding]:
    observer = opened(C(cmd("cont"), MOVED))
    return post_message(observer, answered(Status(sc("ok"))), url=SESSION_URL).findings


@trigger("session.after-end")
def _() -> list[Finding]:
    observer = opened(C(cmd("end")))
    return post_message(observer, ClientMessage()).findings


@trigger("session.after-abort")
def _() -> list[Finding]:
    observer = DeviceObserver(PROFILE)
    routed = post_message(observer, FIRST)
    assert routed.session is not None
    routed.session.bad_answer()
    return post_message(observer, answered(Status(sc("ok")))).findings


def server_answer(status: int, headers: dict[str, str], body: bytes) -> list[Finding]:
    _, found = judge_server_answer(status, headers, body, PROFILE)
    return found


@trigger("server.http-200")
def _() -> list[Finding]:
    return server_answer(500, OK_ANSWER, GOOD_COMMANDS)


@trigger("server.content-type")
def _() -> list[Finding]:
    headers = {PROFILE.headers.content_type: MEDIA.web}
    return server_answer(PROFILE.http_ok, headers, GOOD_COMMANDS)


@trigger("server.command-message")
def _() -> list[Finding]:
    return server_answer(PROFILE.http_ok, OK_ANSWER, b"<html>")


@trigger("server.command-shape")
def _() -> list[Finding]:
    return server_answer(PROFILE.http_ok, OK_ANSWER, b'{"CMD": [["END", 1]]}')


@trigger("server.command-name")
def _() -> list[Finding]:
    return server_answer(PROFILE.http_ok, OK_ANSWER, b'{"CMD": [["get", "http://a.example/"]]}')


@trigger("server.uri")
def _() -> list[Finding]:
    return server_answer(PROFILE.http_ok, OK_ANSWER, b'{"CMD": [["DELETE", "not a uri"]]}')


@trigger("server.end-last")
def _() -> list[Finding]:
    body = b'{"CMD": [["END"], ["DELETE", "' + CONF.encode() + b'/1"]]}'
    return server_answer(PROFILE.http_ok, OK_ANSWER, body)


# The rules judged outside the core: the engine sees a session end, or the commands a device got
# over a whole session, which no single message shows.
NOT_JUDGED_BY_THE_CORE = {
    "session.continues": "the engine's client role: a client that stops before END",
    "server.session-ends": "the engine's server role and the load runner: a session never ended",
    "server.queue-order": "the engine's server role: the commands a device got, in order",
    "server.own-device": "the engine's server role: what another device got over a session",
    "include.parts-order": "the engine's client role: parts a case expects, in another order",
    "session.post": "nothing yet: the reference server counts a non-POST as a stray request",
}


def test_every_rule_can_fail_in_the_core_or_is_judged_elsewhere() -> None:
    assert set(TRIGGERS).isdisjoint(NOT_JUDGED_BY_THE_CORE)
    assert set(TRIGGERS) | set(NOT_JUDGED_BY_THE_CORE) == set(RULES)


@pytest.mark.parametrize("key", TRIGGERS)
def test_each_rule_can_fail(key: str) -> None:
    found = TRIGGERS[key]()
    assert [f.rule.key for f in found] == [key], [str(f) for f in found]
    [finding] = found
    assert finding.rule is RULES[key]
    assert finding.requirement == RULES[key].basis
    assert finding.message


@pytest.mark.parametrize("spec", PROFILE.commands, ids=lambda s: s.name)
def test_each_signature_rule_can_fail(spec: CommandSpec) -> None:
    params = ("http://a.example/",) if spec.min_params == 0 else ()
    body = b'{"CMD": [' + dump_json([spec.name, *params]) + b"]}"
    [finding] = server_answer(PROFILE.http_ok, OK_ANSWER, body)
    assert finding.rule == signature_rule(spec)
    assert finding.requirement == spec.signature
    assert f"{spec.name} takes {spec.arity_text()}, got {len(params)}" in finding.message
