"""Faulty variants of the sample client, one broken requirement each."""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import replace
from typing import Any

from conformance.core import client, codec, tree
from conformance.core.client import ClientSession, Upload
from conformance.core.device import Device
from conformance.core.errors import CommandFailure
from conformance.core.messages import ClientMessage, CommandMessage
from conformance.core.multipart import encode_multipart
from conformance.core.tnds import encode_document
from conformance.profiles import load_profile
from conformance.samples import client as sample
from conformance.samples.client import Http
from tests.mutants.registry import mutant
from tests.patched import wrap_http_call

PROFILE = load_profile()
NAMES = PROFILE.headers


def _rewrite_headers(change: Any) -> None:
    original = ClientSession._headers

    def headers(self: ClientSession, content_type: str) -> dict[str, str]:
        values = original(self, content_type)
        change(values)
        return values

    ClientSession._headers = headers


@mutant(
    "client-json-content-type", "client", "DM20-6.3-002", "labels its messages application/json"
)
def _json_content_type() -> None:
    _rewrite_headers(lambda h: h.__setitem__(NAMES.content_type, "application/json"))


@mutant("client-no-device-id", "client", "DM20-6.3-005", "leaves out X-OMADMDevID")
def _no_device_id() -> None:
    _rewrite_headers(lambda h: h.pop(NAMES.device_id))


@mutant(
    "client-accept-dm20-only",
    "client",
    "DM20-6.3-003",
    "accepts application/dm20 but not application/tnds20",
)
def _accept_dm20_only() -> None:
    _rewrite_headers(lambda h: h.__setitem__(NAMES.accept, PROFILE.media.command))


@mutant(
    "client-statuses-reversed",
    "client",
    "DM20-6.3-006",
    "sends the statuses in reverse command order",
)
def _statuses_reversed() -> None:
    original = ClientSession._send

    def send(self: ClientSession, message: ClientMessage) -> Any:
        reordered = ClientMessage(
            tuple(reversed(message.statuses)),
            message.devinfo,
            message.mo,
            message.mometa,
            message.alerts,
            message.includes,
        )
        return original(self, reordered)

    ClientSession._send = send


@mutant(
    "client-delete-keeps-children",
    "client",
    "DM20-6.2-012",
    "DELETE removes the leaves but keeps interior children",
)
def _delete_keeps_children() -> None:
    def delete(self: tree.Tree, uri: Any) -> None:
        node = self._walk(uri.nodes())
        if isinstance(node, dict):
            for name in [k for k, v in node.items() if not isinstance(v, dict)]:
                del node[name]

    tree.Tree.delete = delete


@mutant(
    "client-levels-ignored",
    "client",
    "DM20-6.2-008",
    "PUT/POST send the whole subtree whatever Levels says",
)
def _levels_ignored() -> None:
    original = tree.prune
    tree.prune = lambda value, levels: original(value, None)


@mutant(
    "client-cont-ignored",
    "client",
    "DM20-6.2-023",
    "executes CONT but keeps posting to the old URL",
)
def _cont_ignored() -> None:
    ClientSession._do_cont = lambda self, checked, batch: _ok(self)


def _ok(session: ClientSession) -> Any:
    return session._ok()
    yield  # a generator, like every command handler


@mutant(
    "client-ignores-end",
    "client",
    "DM20-6.2-024",
    "does not see END: executes the rest of the message and sends its statuses",
)
def _ignores_end() -> None:
    original = client.decode_commands
    end = PROFILE.for_action("end").name

    def decode(body: bytes, profile: Any) -> CommandMessage:
        message = original(body, profile)
        return CommandMessage(tuple(c for c in message.commands if c.name != end))

    client.decode_commands = decode


@mutant(
    "client-devinfo-in-every-message",
    "client",
    "P2.1",
    "repeats the device information in every status message, not only the first",
)
def _devinfo_in_every_message() -> None:
    original = ClientSession._send

    def send(self: ClientSession, message: ClientMessage) -> Any:
        if message.devinfo is None:
            message = replace(message, devinfo=dict(self.device.devinfo))
        return original(self, message)

    ClientSession._send = send


@mutant(
    "client-skips-unknown-commands",
    "client",
    "P1.3",
    "skips commands it does not know without a status, so a status is missing",
)
def _skips_unknown_commands() -> None:
    original = client.decode_commands

    def decode(body: bytes, profile: Any) -> CommandMessage:
        message = original(body, profile)
        return CommandMessage(tuple(c for c in message.commands if profile.command(c.name)))

    client.decode_commands = decode


@mutant(
    "client-stops-after-one-round",
    "client",
    "DM20-6.3-001",
    "takes the answer to its first status message as the end of the session",
)
def _stops_after_one_round() -> None:
    original = ClientSession.receive

    def receive(self: ClientSession, response: Any) -> None:
        rounds = len(self.received)
        original(self, response)
        if rounds >= 1 and self._done is None:
            self._finish(False, "no more rounds")

    ClientSession.receive = receive


@mutant(
    "client-cont-for-one-message",
    "client",
    "DM20-6.2-023",
    "follows CONT for the next message only, then posts to the old session URL again",
)
def _cont_for_one_message() -> None:
    original_send = ClientSession._send

    def do_cont(self: ClientSession, checked: Any, batch: Any) -> Any:
        self._url_before_cont = self.state.url
        self.state.redirect(checked.server_uri())
        return self._ok()
        yield

    def send(self: ClientSession, message: ClientMessage) -> Any:
        action = original_send(self, message)
        before = getattr(self, "_url_before_cont", None)
        if before is not None:
            self.state.redirect(before)
            self._url_before_cont = None
        return action

    ClientSession._do_cont = do_cont
    ClientSession._send = send


@mutant(
    "client-no-accept",
    "client",
    "DM20-6.3-003",
    "sets no Accept header of its own (its HTTP library sends */*)",
)
def _no_accept() -> None:
    _rewrite_headers(lambda h: h.pop(NAMES.accept))


@mutant(
    "client-device-id-changes",
    "client",
    "DM20-6.3-005",
    "saves a new device ID with its state, so X-OMADMDevID changes in the next session",
)
def _device_id_changes() -> None:
    original = Device.to_json

    def to_json(self: Device) -> dict[str, Any]:
        value = original(self)
        value["device_id"] = f"{self.device_id}-1"
        return value

    Device.to_json = to_json


@mutant(
    "client-get-fetches-with-post",
    "client",
    "DM20-6.2-004",
    "retrieves a GET's content with HTTP POST instead of HTTP GET",
)
def _get_fetches_with_post() -> None:
    def with_post(call: Any, http: Http, method: str, url: str, *rest: Any) -> Any:
        headers = rest[0]
        return call(http, "POST" if method == "GET" and headers is None else method, url, *rest)

    wrap_http_call(with_post)


@mutant(
    "client-get-new-instance-unnamed",
    "client",
    "DM20-6.2-005",
    "reports a new instance's location as sent (MOID/), without the instance ID it chose",
)
def _get_new_instance_unnamed() -> None:
    original = ClientSession._store

    def store(self: ClientSession, uri: Any, value: Any) -> str:
        location = original(self, uri, value)
        return f"{uri.moid}{PROFILE.client_uri.separator}" if uri.new_instance else location

    ClientSession._store = store


@mutant(
    "client-get-merges",
    "client",
    "DM20-6.2-006",
    "GET merges the retrieved MO into the existing data instead of replacing it",
)
def _get_merges() -> None:
    original = tree.Tree.replace

    def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(old)
        for name, value in new.items():
            both = isinstance(out.get(name), dict) and isinstance(value, dict)
            out[name] = merge(out[name], value) if both else copy.deepcopy(value)
        return out

    def replace_(self: tree.Tree, uri: Any, value: Any) -> None:
        try:
            old = self._walk(uri.nodes())
        except CommandFailure:
            old = None
        if isinstance(old, dict) and isinstance(value, dict):
            value = merge(old, value)
        original(self, uri, value)

    tree.Tree.replace = replace_


@mutant("client-put-sent-as-post", "client", "DM20-6.2-007", "sends PUT's document by HTTP POST")
def _put_sent_as_post() -> None:
    original = ClientSession._upload

    def upload(self: ClientSession, checked: Any, batch: Any) -> Any:
        action = PROFILE.for_action("post").name
        if checked.spec.action == "put":
            checked = replace(checked, spec=PROFILE.command(action))
        return (yield from original(self, checked, batch))

    ClientSession._do_put = upload
    ClientSession._do_post = upload


@mutant(
    "client-put-one-document-per-uri",
    "client",
    "DM20-6.2-007",
    "sends one document per ClientURI instead of one object with all of them",
)
def _put_one_document_per_uri() -> None:
    def upload(self: ClientSession, checked: Any, batch: Any) -> Any:
        headers = {PROFILE.headers.content_type: PROFILE.media.tnds}
        method = checked.spec.action.upper()
        for uri in checked.client_uris():
            document = encode_document(self._document((uri,)))
            response = yield Upload(method, checked.server_uri(), headers, document)
            if response is None or not 200 <= response.status < 300:
                raise CommandFailure("failed", f"{method} failed")
        return self._ok()

    ClientSession._do_put = upload
    ClientSession._do_post = upload


def _exact_prune(value: Any, levels: int | None) -> Any:
    """tree.prune's rule, recursing into itself (a patched tree.prune must not call itself)."""
    if not isinstance(value, dict):
        return value
    if levels is None:
        return copy.deepcopy(value)
    if levels <= 0:
        return {}
    return {name: _exact_prune(child, levels - 1) for name, child in value.items()}


@mutant(
    "client-levels-off-by-one",
    "client",
    "DM20-6.2-008",
    "counts the node itself as a level: Levels=n sends n-1 levels of children",
)
def _levels_off_by_one() -> None:
    tree.prune = lambda value, levels: _exact_prune(
        value, None if levels is None else max(levels - 1, 0)
    )


@mutant(
    "client-no-levels-means-one",
    "client",
    "DM20-6.2-009",
    "without Levels it sends one level of children instead of all of them",
)
def _no_levels_means_one() -> None:
    tree.prune = lambda value, levels: _exact_prune(value, 1 if levels is None else levels)


@mutant(
    "client-star-leaks-private",
    "client",
    "DM20-6.2-010",
    "* also returns the instances of the MO the server has no access right to",
)
def _star_leaks_private() -> None:
    def instances(self: tree.Tree) -> list[tuple[str, str]]:
        return [(moid, instance) for moid, mo in self.data.items() for instance in mo]

    tree.Tree.instances = instances


@mutant(
    "client-star-levels-from-moid",
    "client",
    "DM20-6.2-011",
    "counts *'s Levels from the MOID, so *?Levels=1 gives empty instances",
)
def _star_levels_from_moid() -> None:
    original = tree.Tree.extract

    def extract(self: tree.Tree, uri: Any, profile: Any) -> dict[str, Any]:
        if uri.wildcard and uri.levels is not None:
            uri = replace(uri, levels=max(uri.levels - 1, 0))
        return original(self, uri, profile)

    tree.Tree.extract = extract


@mutant(
    "client-exec-any-node",
    "client",
    "DM20-6.2-013",
    "EXEC answers ok for any node that exists, executable or not",
)
def _exec_any_node() -> None:
    def check_executable(self: tree.Tree, uri: Any) -> None:
        self._check_access(uri)
        self._walk(uri.nodes())

    tree.Tree.check_executable = check_executable


@mutant(
    "client-alert-to-session-url",
    "client",
    "DM20-6.2-014",
    "sends EXEC's Generic Alert to the session URL instead of the EXEC's ServerURI",
)
def _alert_to_session_url() -> None:
    original = ClientSession._finish

    def finish(self: ClientSession, aborted: bool, reason: str) -> Any:
        self.follow_ups = [replace(f, url=self.state.url) for f in self.follow_ups]
        return original(self, aborted, reason)

    ClientSession._finish = finish


@mutant(
    "client-include-in-json",
    "client",
    "DM20-6.2-015",
    "puts INCLUDE data in the status JSON (as MO) instead of a multipart part",
)
def _include_in_json() -> None:
    original = client.encode_client_message

    def encode(message: ClientMessage, profile: Any) -> tuple[str, bytes]:
        if message.includes:
            data: dict[str, Any] = {}
            for document in message.includes:
                data.update(document)
            message = replace(message, mo=data, includes=())
        return original(message, profile)

    client.encode_client_message = encode


@mutant(
    "client-include-plain-uris-only",
    "client",
    "DM20-6.2-016",
    "INCLUDE does not take the PUT/POST syntax: Levels and * get bad_request",
)
def _include_plain_uris_only() -> None:
    original = ClientSession._do_include

    def include(self: ClientSession, checked: Any, batch: Any) -> Any:
        if any(u.wildcard or u.levels is not None for u in checked.client_uris()):
            raise CommandFailure("bad_request", "INCLUDE takes a plain ClientURI")
        return (yield from original(self, checked, batch))

    ClientSession._do_include = include


@mutant(
    "client-show-without-browser",
    "client",
    "DM20-6.2-017",
    "acknowledges SHOW with ok but never opens the browser",
)
def _show_without_browser() -> None:
    def show(self: ClientSession, checked: Any, batch: Any) -> Any:
        return self._ok()
        yield

    ClientSession._do_show = show


@mutant(
    "client-show-does-not-pause",
    "client",
    "DM20-6.2-018",
    "answers SHOW at once and loads the page in the background, after the status went out",
)
def _show_does_not_pause() -> None:
    def browse(url: str) -> None:
        time.sleep(0.5)
        with Http(PROFILE, None) as http:
            http.call("GET", url, {NAMES.accept: PROFILE.media.web})

    def show(self: ClientSession, checked: Any, batch: Any) -> Any:
        threading.Thread(target=browse, args=(checked.server_uri(),)).start()
        return self._ok()
        yield

    ClientSession._do_show = show


@mutant(
    "client-browser-accepts-dm20",
    "client",
    "DM20-6.2-019",
    "the SHOW browser lists the DM media types in its Accept header",
)
def _browser_accepts_dm20() -> None:
    def browser(call: Any, http: Http, method: str, url: str, headers: Any, *rest: Any) -> Any:
        if headers and headers.get(NAMES.accept) == PROFILE.media.web:
            media = PROFILE.media
            headers = {**headers, NAMES.accept: f"{media.web}, {media.command}, {media.tnds}"}
        return call(http, method, url, headers, *rest)

    wrap_http_call(browser)


@mutant(
    "client-browser-sends-device-id",
    "client",
    "DM20-6.2-019",
    "the SHOW browser sends X-OMADMDevID, identifying the DM client to the web server",
)
def _browser_sends_device_id() -> None:
    original_session = Http.session
    device: list[str] = []  # the device of the session being driven

    def session(self: Http, dm_session: ClientSession) -> Any:
        device[:] = [dm_session.device.device_id]
        return original_session(self, dm_session)

    def browser(call: Any, http: Http, method: str, url: str, headers: Any, *rest: Any) -> Any:
        if headers and headers.get(NAMES.accept) == PROFILE.media.web:
            headers = {**headers, NAMES.device_id: device[0]}
        return call(http, method, url, headers, *rest)

    Http.session = session
    wrap_http_call(browser)


@mutant(
    "client-default-keeps-first",
    "client",
    "A21",
    "a second DEFAULT for the same MOID does not replace the first ServerURL",
)
def _default_keeps_first() -> None:
    def default(self: ClientSession, checked: Any, batch: Any) -> Any:
        moid, url = checked.args
        self.device.defaults.setdefault(moid, url)
        return self._ok()
        yield

    ClientSession._do_default = default


@mutant(
    "client-default-no-initiated-by",
    "client",
    "DM20-6.2-021",
    "opens the configuration session at ServerURL without ?InitiatedBy=",
)
def _default_no_initiated_by() -> None:
    sample.add_query = lambda url, name, value: url


@mutant(
    "client-status-to-other-url",
    "client",
    "DM20-6.3-001",
    "POSTs its status messages to the session URL with /status added, with no CONT asking it to",
)
def _status_to_other_url() -> None:
    original = ClientSession._send

    def send(self: ClientSession, message: ClientMessage) -> Any:
        action = original(self, message)
        if message.statuses:
            action = replace(action, url=action.url.rstrip("/") + "/status")
        return action

    ClientSession._send = send


@mutant(
    "client-multipart-always",
    "client",
    "A8",
    "sends every status message as multipart/mixed, also when no INCLUDE succeeded",
)
def _multipart_always() -> None:
    original = client.encode_client_message

    def encode(message: ClientMessage, profile: Any) -> tuple[str, bytes]:
        if message.statuses and not message.includes:
            status_type, body = original(message, profile)
            return encode_multipart(profile.media.multipart, [(status_type, body)])
        return original(message, profile)

    client.encode_client_message = encode


@mutant(
    "client-include-parts-as-json",
    "client",
    "A8",
    "labels the INCLUDE parts of a multipart status message application/json",
)
def _include_parts_as_json() -> None:
    original = client.encode_client_message

    def encode(message: ClientMessage, profile: Any) -> tuple[str, bytes]:
        if not message.includes:
            return original(message, profile)
        head = original(replace(message, includes=()), profile)
        parts = [head] + [("application/json", encode_document(d)) for d in message.includes]
        return encode_multipart(profile.media.multipart, parts)

    client.encode_client_message = encode


@mutant(
    "client-include-parts-reversed",
    "client",
    "A8",
    "puts the tnds20 parts of a status message in reverse command order",
)
def _include_parts_reversed() -> None:
    original = client.encode_client_message

    def encode(message: ClientMessage, profile: Any) -> tuple[str, bytes]:
        return original(replace(message, includes=message.includes[::-1]), profile)

    client.encode_client_message = encode


@mutant(
    "client-get-status-without-uri",
    "client",
    "DM20-6.2-005",
    "reports a GET that succeeded without the URI where it stored",
)
def _get_status_without_uri() -> None:
    original = ClientSession._do_get

    def get(self: ClientSession, checked: Any, batch: Any) -> Any:
        status = yield from original(self, checked, batch)
        return replace(status, uri=None)

    ClientSession._do_get = get


@mutant(
    "client-devinfo-without-devid",
    "client",
    "A17",
    "sends DevInfo without DevID",
)
def _devinfo_without_devid() -> None:
    original = ClientSession.__init__

    def init(self: ClientSession, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        devinfo = {k: v for k, v in (self.first_message.devinfo or {}).items()}
        devinfo.pop(PROFILE.keys.devid, None)
        self.first_message = replace(self.first_message, devinfo=devinfo)

    ClientSession.__init__ = init


@mutant(
    "client-delete-accepted",
    "client",
    "A5",
    "answers every DELETE that would succeed with 202 accepted, a status the DELETE row lacks",
)
def _delete_accepted() -> None:
    original = ClientSession._do_delete

    def delete(self: ClientSession, checked: Any, batch: Any) -> Any:
        status = yield from original(self, checked, batch)
        return replace(status, sc=PROFILE.status.accepted)

    ClientSession._do_delete = delete


@mutant(
    "client-unknown-command-400",
    "client",
    "A18",
    "answers an unknown command with 400 (malformed) instead of 501",
)
def _unknown_command_400() -> None:
    original = client.check_command

    def check(command: Any, profile: Any, where: str = "command") -> Any:
        try:
            return original(command, profile, where)
        except CommandFailure as exc:
            if exc.status == "unknown_command":
                raise CommandFailure("bad_request", exc.reason) from None
            raise

    client.check_command = check


@mutant(
    "client-statuses-after-refused-answer",
    "client",
    "A1",
    "takes an answer with the wrong Content-Type as a command message and goes on",
)
def _statuses_after_refused_answer() -> None:
    def decode(self: ClientSession, response: Any) -> CommandMessage:
        return client.decode_commands(response.body, self.profile)

    ClientSession._decode_answer = decode


@mutant(
    "client-posts-again-after-refused-answer",
    "client",
    "A1",
    "after an answer it must refuse, posts one more empty first message to the session URL",
)
def _posts_again_after_refused_answer() -> None:
    original = Http.session

    def session(self: Http, session: ClientSession) -> Any:
        done = original(self, session)
        if done.aborted:
            kind, body = codec.encode_client_message(ClientMessage(), self.profile)
            self.call("POST", session.state.url, session._headers(kind), body)
        return done

    Http.session = session


@mutant(
    "client-forgets-undelivered-alerts",
    "client",
    "DM20-5.2-003",
    "drops a Generic Alert that no server took instead of reporting it in the next session",
)
def _forgets_undelivered_alerts() -> None:
    original = sample.run

    def run(profile: Any, device: Device, url: str, ca_file: Any = None) -> bool:
        ok = original(profile, device, url, ca_file)
        device.undelivered = []
        return ok

    sample.run = run


@mutant(
    "client-alert-result-text",
    "client",
    "DM20-6.2-014",
    'reports the EXEC result in its Generic Alert as text ("200"), not an integer (A10)',
)
def _alert_result_text() -> None:
    original = ClientSession._do_exec

    def exec_(self: ClientSession, checked: Any, batch: Any) -> Any:
        status = yield from original(self, checked, batch)
        self.follow_ups = [
            replace(f, alert=replace(f.alert, data={PROFILE.keys.result: str(PROFILE.status.ok)}))
            for f in self.follow_ups
        ]
        return status

    ClientSession._do_exec = exec_


@mutant(
    "client-session-by-put",
    "client",
    "P1.1",
    "opens its sessions with HTTP PUT instead of POST",
)
def _session_by_put() -> None:
    def with_put(call: Any, http: Http, method: str, url: str, headers: Any, *rest: Any) -> Any:
        is_dm = headers is not None and NAMES.device_id in headers
        return call(http, "PUT" if method == "POST" and is_dm else method, url, headers, *rest)

    wrap_http_call(with_put)
