"""Benign variants of the sample client: each differs from the sample in one way the draft and
the profile allow, and names the sentence or assumption that allows it. The suite must give
every one of them no FAIL, ERROR or INCONCLUSIVE."""

from __future__ import annotations

import copy
import io
import json
import secrets
from dataclasses import replace
from email.generator import BytesGenerator
from email.message import EmailMessage
from typing import Any

from conformance.core import client, codec, tree
from conformance.core.client import ClientSession, FollowUp, Response
from conformance.core.errors import CommandFailure, ProtocolError
from conformance.core.messages import Alert, ClientMessage
from conformance.core.multipart import POLICY, make_boundary
from conformance.core.tnds import decode_document
from conformance.profiles import load_profile
from conformance.samples import client as sample
from conformance.samples.client import Http
from tests.patched import wrap_http_call
from tests.variants.registry import variant

PROFILE = load_profile()
NAMES = PROFILE.headers
KEYS = PROFILE.keys


def _rewrite_headers(change: Any) -> None:
    original = ClientSession._headers

    def headers(self: ClientSession, content_type: str) -> dict[str, str]:
        values = original(self, content_type)
        return change(values)

    ClientSession._headers = headers


@variant(
    "client-accept-semicolon",
    "client",
    "A3",
    "writes Accept as the seed does, application/dm20; application/tnds20 (INFORMATIONAL)",
)
def _accept_semicolon() -> None:
    value = "; ".join(PROFILE.media[k] for k in PROFILE.accept.required)
    _rewrite_headers(lambda h: {**h, NAMES.accept: value})


@variant(
    "client-accept-more-types",
    "client",
    "DM20-6.3-004",
    "lists more media types in Accept, with weights",
)
def _accept_more_types() -> None:
    value = f"{PROFILE.accept.send}, application/json;q=0.5, */*;q=0.1"
    _rewrite_headers(lambda h: {**h, NAMES.accept: value})


@variant(
    "client-header-names-lower-case",
    "client",
    "A16",
    "writes every header name in lower case",
)
def _header_names_lower_case() -> None:
    _rewrite_headers(lambda h: {k.lower(): v for k, v in h.items()})


@variant(
    "client-media-type-parameters",
    "client",
    "A16",
    "adds ; charset=utf-8 to the Content-Type of its messages",
)
def _media_type_parameters() -> None:
    def change(h: dict[str, str]) -> dict[str, str]:
        value = h[NAMES.content_type]
        if ";" not in value:
            h[NAMES.content_type] = f"{value}; charset=utf-8"
        return h

    _rewrite_headers(change)


@variant(
    "client-media-type-upper-case",
    "client",
    "A16",
    "writes its media types in upper case (Application/DM20STATUS)",
)
def _media_type_upper_case() -> None:
    def change(h: dict[str, str]) -> dict[str, str]:
        kind, sep, rest = h[NAMES.content_type].partition(";")
        h[NAMES.content_type] = kind.upper() + sep + rest
        h[NAMES.accept] = h[NAMES.accept].upper()
        return h

    _rewrite_headers(change)


@variant("client-extra-headers", "client", "A16", "adds headers the draft does not name")
def _extra_headers() -> None:
    _rewrite_headers(lambda h: {**h, "User-Agent": "acme-dm/1.0", "X-Trace-Id": "t-1"})


@variant(
    "client-chunked-bodies",
    "client",
    "A16",
    "sends every request body with Transfer-Encoding: chunked",
)
def _chunked_bodies() -> None:
    wrap_http_call(
        lambda call, http, method, url, headers, body, _: call(
            http, method, url, headers, body, chunked=bool(body)
        )
    )


@variant(
    "client-connection-close",
    "client",
    "A16",
    "closes the connection after every request (Connection: close, a new one each time)",
)
def _connection_close() -> None:
    def close_after(call: Any, http: Http, method: str, url: str, headers: Any, *rest: Any) -> Any:
        answer = call(http, method, url, {**(headers or {}), "Connection": "close"}, *rest)
        http.close()
        return answer

    wrap_http_call(close_after)


def _reordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reordered(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


@variant(
    "client-json-layout",
    "client",
    "A16",
    "writes its JSON indented, with members in reverse order",
)
def _json_layout() -> None:
    def dump(value: Any) -> bytes:
        return json.dumps(_reordered(value), indent=3, ensure_ascii=True).encode() + b"\n"

    codec.dump_json = dump
    client.encode_document = lambda document: dump(document)


def _multipart(parts: list[tuple[str, bytes]], encoding: str) -> tuple[str, bytes]:
    container = EmailMessage(policy=POLICY)
    container.make_mixed()
    for content_type, body in parts:
        part = EmailMessage(policy=POLICY.clone(max_line_length=76))
        main, _, sub = content_type.partition("/")
        part.set_content(body, main, sub, cte=encoding)
        container.attach(part)
    container.set_boundary(make_boundary(parts))
    container.preamble = "A DM 2.0 status message with INCLUDE data."
    container.epilogue = "End of the status message."
    out = io.BytesIO()
    BytesGenerator(out, policy=POLICY).flatten(container)
    _, _, body = out.getvalue().partition(b"\r\n\r\n")
    return str(container["Content-Type"]), body


@variant(
    "client-multipart-preamble",
    "client",
    "A16",
    "writes its multipart status messages with a preamble and an epilogue (RFC 2046)",
)
def _multipart_preamble() -> None:
    codec.encode_multipart = lambda media, parts: _multipart(parts, "8bit")


@variant(
    "client-multipart-base64",
    "client",
    "A16",
    "encodes the parts of its multipart messages in base64 (Content-Transfer-Encoding, RFC 2046)",
)
def _multipart_base64() -> None:
    codec.encode_multipart = lambda media, parts: _multipart(parts, "base64")


@variant(
    "client-uri-on-every-status",
    "client",
    "A17",
    "puts URI (the ClientURI it acted on) on the status of every command that names one",
)
def _uri_on_every_status() -> None:
    original = ClientSession._execute

    def execute(self: ClientSession, checked: Any, batch: Any) -> Any:
        status = yield from original(self, checked, batch)
        uris = [u.target(PROFILE) for u in checked.client_uris()]
        if status.uri is None and uris:
            status = replace(status, uri=tuple(uris))
        return status

    ClientSession._execute = execute


@variant(
    "client-reasons",
    "client",
    "P2.2",
    "gives every status a Reason for people",
)
def _reasons() -> None:
    original = ClientSession._execute

    def execute(self: ClientSession, checked: Any, batch: Any) -> Any:
        status = yield from original(self, checked, batch)
        return replace(status, reason=status.reason or "done")

    ClientSession._execute = execute


def _rewrite_first_message(change: Any) -> None:
    """Every first message as `change(session, message)` makes it."""
    original = ClientSession.__init__

    def init(self: ClientSession, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.first_message = change(self, self.first_message)

    ClientSession.__init__ = init


@variant(
    "client-devinfo-devid-only",
    "client",
    "A17",
    "sends DevInfo with DevID only",
)
def _devinfo_devid_only() -> None:
    _rewrite_first_message(
        lambda session, first: replace(first, devinfo={KEYS.devid: session.device.device_id})
    )


@variant(
    "client-devinfo-extra-members",
    "client",
    "A17",
    "adds members of its own to DevInfo (FwV, Lang)",
)
def _devinfo_extra_members() -> None:
    extra = {"FwV": "1.2.3", "Lang": "sv"}
    _rewrite_first_message(
        lambda session, first: replace(first, devinfo={**(first.devinfo or {}), **extra})
    )


@variant(
    "client-first-message-mo-data",
    "client",
    "DM20-6-002",
    "sends management object data and meta data (MO, MOMeta) in every first message",
)
def _first_message_mo_data() -> None:
    moid = "urn:oma:mo:oma-dm-devinfo:1.0"
    meta = {"MOID": moid, "Instances": ["0"], "DDF": "http://ddf.example/devinfo.xml"}

    def change(session: ClientSession, first: ClientMessage) -> ClientMessage:
        devinfo = dict(first.devinfo or {KEYS.devid: session.device.device_id})
        return replace(first, mo={f"{moid}/0": devinfo}, mometa=(meta,))

    _rewrite_first_message(change)


@variant(
    "client-fetch-with-dm-headers",
    "client",
    "A16",
    "asks for GET content with Accept: application/tnds20 and its X-OMADMDevID",
)
def _fetch_with_dm_headers() -> None:
    session_of = Http.session
    device: list[str] = []  # the device of the session being driven

    def session(self: Http, dm_session: ClientSession) -> Any:
        device[:] = [dm_session.device.device_id]
        return session_of(self, dm_session)

    def with_headers(
        call: Any, http: Http, method: str, url: str, headers: Any, body: bytes, chunked: bool
    ) -> Any:
        if method == "GET" and not headers:  # a GET command's content, not the browser's page
            headers = {NAMES.accept: PROFILE.media.tnds, NAMES.device_id: device[0]}
        return call(http, method, url, headers, body, chunked)

    Http.session = session
    wrap_http_call(with_headers)


@variant(
    "client-alert-extra-members",
    "client",
    "A17",
    "adds Mark and TargetURI to its Generic Alerts",
)
def _alert_extra_members() -> None:
    original = codec._alert_to_json

    def to_json(alert: Alert, keys: Any) -> dict[str, Any]:
        return {**original(alert, keys), "Mark": "informational", "TargetURI": "urn:x:target"}

    codec._alert_to_json = to_json


@variant("client-exec-accepted", "client", "A5", "answers EXEC with 202 accepted")
def _exec_accepted() -> None:
    original = ClientSession._do_exec

    def exec_(self: ClientSession, checked: Any, batch: Any) -> Any:
        status = yield from original(self, checked, batch)
        return replace(status, sc=PROFILE.status.accepted)

    ClientSession._do_exec = exec_


@variant("client-alert-result-zero", "client", "A10", "reports Result 0 in its Generic Alerts")
def _alert_result_zero() -> None:
    original = ClientSession._do_exec

    def exec_(self: ClientSession, checked: Any, batch: Any) -> Any:
        status = yield from original(self, checked, batch)
        self.follow_ups = [
            replace(f, alert=replace(f.alert, data={KEYS.result: 0})) for f in self.follow_ups
        ]
        return status

    ClientSession._do_exec = exec_


@variant(
    "client-alert-at-once",
    "client",
    "A14",
    "opens the Generic Alert session of an EXEC at once, before it sends the EXEC's status",
)
def _alert_at_once() -> None:
    original = ClientSession._do_exec

    def exec_(self: ClientSession, checked: Any, batch: Any) -> Any:
        status = yield from original(self, checked, batch)
        owed, self.follow_ups = self.follow_ups, []
        for follow_up in owed:
            alert_session = ClientSession(
                self.profile, self.device, follow_up.url, alerts=(follow_up.alert,)
            )
            with Http(self.profile, None) as http:
                http.session(alert_session)
            if not alert_session.first_accepted:
                self.device.undelivered.append(follow_up.alert)
        return status

    ClientSession._do_exec = exec_


@variant(
    "client-alert-without-serveruri",
    "client",
    "A10",
    "sends a Generic Alert to its session URL after an EXEC without ServerURI too",
)
def _alert_without_serveruri() -> None:
    original = ClientSession._do_exec

    def exec_(self: ClientSession, checked: Any, batch: Any) -> Any:
        status = yield from original(self, checked, batch)
        if checked.server_uri() is None:
            alert = Alert(
                PROFILE.alerts.generic,
                checked.client_uris()[0].target(PROFILE),
                data={KEYS.result: status.sc},
            )
            self.follow_ups.append(FollowUp(self.state.url, alert))
        return status

    ClientSession._do_exec = exec_


@variant(
    "client-accepts-any-media-type",
    "client",
    "A13",
    "takes GET content served as any media type, when it is a tnds20 document; with a "
    "ClientURI and several entries it stores the whole document there",
)
def _accepts_any_media_type() -> None:
    def content(self: ClientSession, response: Response | None) -> dict[str, Any]:
        if response is None or response.status != PROFILE.http_ok:
            raise CommandFailure("failed", "no content")
        try:
            return decode_document(response.body, PROFILE, "content")
        except ProtocolError as exc:
            raise CommandFailure("failed", str(exc)) from None

    original_get = ClientSession._do_get

    def get(self: ClientSession, checked: Any, batch: Any) -> Any:
        targets = checked.client_uris()
        if not targets:
            return (yield from original_get(self, checked, batch))
        response = yield client.Fetch(checked.server_uri())
        document = content(self, response)
        value = next(iter(document.values())) if len(document) == 1 else document
        return self._ok(uri=(self._store(targets[0], value),))

    ClientSession._content = content
    ClientSession._do_get = get


@variant(
    "client-instance-ids",
    "client",
    "A19",
    "names the new instances a GET makes with random IDs, not numbers",
)
def _instance_ids() -> None:
    def new_instance(self: tree.Tree, moid: str, value: Any) -> str:
        if moid in self.private:
            raise CommandFailure("forbidden", f"no access right to {moid}")
        if moid not in self.data:
            raise CommandFailure("not_found", f"no MO {moid}")
        name = f"i{secrets.token_hex(3)}"
        self.data[moid][name] = copy.deepcopy(value)
        return name

    tree.Tree.new_instance = new_instance


@variant(
    "client-alerts-in-status-messages",
    "client",
    "P2.1",
    "adds an informational alert to every status message (Alert may appear in any message)",
)
def _alerts_in_status_messages() -> None:
    original = ClientSession._send

    def send(self: ClientSession, message: ClientMessage) -> Any:
        if message.statuses:
            note = Alert("urn:oma:at:dm:2.0:Informational", mark="informational", data={})
            message = replace(message, alerts=(*(message.alerts or ()), note))
        return original(self, message)

    ClientSession._send = send


@variant(
    "client-undelivered-own-session",
    "client",
    "DM20-5.2-003",
    "reports the alerts no server took in a session of their own, before its usual session",
)
def _undelivered_own_session() -> None:
    original = sample.run

    def run(profile: Any, device: Any, url: str, ca_file: Any = None) -> bool:
        owed, device.undelivered = list(device.undelivered), []
        ok = True
        if owed:
            session = ClientSession(profile, device, url, alerts=tuple(owed))
            with Http(profile, ca_file) as http:
                done = http.session(session)
            ok = not done.aborted
            if not session.first_accepted:
                device.undelivered = owed
            if done.aborted:
                return False
            return original(profile, device, url, ca_file) and ok
        return original(profile, device, url, ca_file)

    sample.run = run


@variant(
    "client-first-without-devinfo",
    "client",
    "DM20-6-002",
    "opens its sessions without the device information (seed 6: the first message MAY carry it)",
)
def _first_without_devinfo() -> None:
    original = ClientSession.__init__

    def init(self: ClientSession, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.first_message = replace(self.first_message, devinfo=None)

    ClientSession.__init__ = init
