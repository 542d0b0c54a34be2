"""The DM client's session, sans I/O: it takes the server's answers and the device, executes every
command per the command table of seed 6.2, and tells its driver what to do next as actions:

    session = ClientSession(profile, device, url)
    action = session.start()                      # Send: the first message
    while not isinstance(action, Done):
        if isinstance(action, Send):  session.receive(*post(action))
        elif isinstance(action, Fetch): session.complete(get(action.url))
        ...                                       # Upload, Browse likewise
        action = session.next_action()

The driver does the HTTP; this module decides everything else, including when to give up (A1).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from conformance.core.codec import decode_commands, encode_client_message
from conformance.core.commands import Checked, check_command
from conformance.core.device import Device
from conformance.core.errors import CommandFailure, ProtocolError, StateError
from conformance.core.messages import Alert, ClientMessage, Command, CommandMessage, Status
from conformance.core.states import Event, SessionState, State
from conformance.core.tnds import decode_document, encode_document
from conformance.core.uri import ClientURI, parse_client_uri
from conformance.core.wire import parse_media_type
from conformance.profiles import Profile


@dataclass(frozen=True)
class Send:
    """POST a client message to `url`."""

    url: str
    headers: dict[str, str]
    body: bytes
    message: ClientMessage


@dataclass(frozen=True)
class Fetch:
    """HTTP GET `url` (a GET command's content); answer with `complete(Response | None)`."""

    url: str


@dataclass(frozen=True)
class Upload:
    """Send a tnds20 document with HTTP `method` (PUT or POST); answer with `complete(Response |
    None)`."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Browse:
    """Open the browser on `url` and wait until its session is done (SHOW); answer with
    `complete(True)` when done, `complete(False)` when it failed."""

    url: str


@dataclass(frozen=True)
class FollowUp:
    """A session the client must open after this one: the Generic Alert of an EXEC (A10)."""

    url: str
    alert: Alert


@dataclass(frozen=True)
class Done:
    """The session is over: `aborted` with a reason (A1, a bound), or ended by END."""

    aborted: bool
    reason: str
    follow_ups: tuple[FollowUp, ...] = ()


@dataclass(frozen=True)
class Response:
    """What the driver got back from an HTTP request: status, Content-Type, body."""

    status: int
    content_type: str | None = None
    body: bytes = b""


Action = Send | Fetch | Upload | Browse | Done
Step = Generator[Fetch | Upload | Browse, Any, Status]


@dataclass
class _Batch:
    commands: tuple[Command, ...]
    statuses: list[Status] = field(default_factory=list)
    includes: list[dict[str, Any]] = field(default_factory=list)
    final: bool = False


class ClientSession:
    """One DM session of a client, from its first message to END or an abort."""

    def __init__(
        self,
        profile: Profile,
        device: Device,
        url: str,
        *,
        alerts: tuple[Alert, ...] | None = None,
        first_message: ClientMessage | None = None,
    ) -> None:
        self.profile = profile
        self.device = device
        self.state = SessionState(url, profile.limits.max_exchanges)
        self.first_message = first_message or ClientMessage(
            statuses=(), devinfo=dict(device.devinfo), alerts=alerts
        )
        self.follow_ups: list[FollowUp] = []
        self.received: list[CommandMessage] = []
        self.first_accepted = False  # the server took the first message (its alerts delivered)
        self._runner: Generator[Action, Any, None] | None = None
        self._done: Done | None = None

    # -- the driver's interface ----------------------------------------------------------------
    def start(self) -> Send:
        """The first message of the session."""
        return self._send(self.first_message)

    def receive(self, response: Response) -> None:
        """The server's answer to the last client message."""
        if self.state.state is not State.AWAIT_COMMANDS:
            raise StateError(f"in state {self.state.state.value!r}: no answer is due")
        try:
            message = self._decode_answer(response)
        except ProtocolError as exc:
            self.state.handle(Event.BAD_ANSWER)
            self._finish(True, f"server answer refused (A1): {exc}")
            return
        self.received.append(message)
        self.first_accepted = True
        end = self.profile.for_action("end").name
        final = any(c.name == end for c in message.commands)
        self.state.handle(Event.FINAL_COMMANDS if final else Event.COMMANDS)
        self._runner = self._run(_Batch(message.commands, final=final))
        self._pending: Any = None

    def next_action(self) -> Action:
        """What the driver must do next."""
        if self._done is not None:
            return self._done
        if self._runner is None:
            raise StateError(
                f"in state {self.state.state.value!r}: waiting for the server's answer"
            )
        pending, self._pending = self._pending, None
        try:
            return self._runner.send(pending)
        except StopIteration:
            return self._done or self._finish(False, "ended by END")

    def complete(self, result: Response | bool | None) -> None:
        """The result of the last Fetch, Upload or Browse."""
        self._pending = result

    # -- answers -------------------------------------------------------------------------------
    def _decode_answer(self, response: Response) -> CommandMessage:
        media, _ = parse_media_type(response.content_type)
        if response.status != self.profile.http_ok:
            raise ProtocolError(f"HTTP status {response.status}", "answer")
        if media != self.profile.media.command:
            raise ProtocolError(
                f"Content-Type {response.content_type!r}, not {self.profile.media.command}",
                "answer",
            )
        return decode_commands(response.body, self.profile)

    def _headers(self, content_type: str) -> dict[str, str]:
        headers = self.profile.headers
        return {
            headers.content_type: content_type,
            headers.accept: self.profile.accept.send,
            headers.device_id: self.device.device_id,
        }

    def _send(self, message: ClientMessage) -> Send:
        try:
            self.state.handle(Event.CLIENT_MESSAGE)
        except StateError as exc:
            self._done = Done(True, str(exc))
            raise
        content_type, body = encode_client_message(message, self.profile)
        return Send(self.state.url, self._headers(content_type), body, message)

    def _finish(self, aborted: bool, reason: str) -> Done:
        self._done = Done(aborted, reason, tuple(self.follow_ups))
        return self._done

    # -- execution -----------------------------------------------------------------------------
    def _run(self, batch: _Batch) -> Generator[Action, Any, None]:
        for index, command in enumerate(batch.commands):
            where = f"{self.profile.keys.commands}[{index}]"
            try:
                checked = check_command(command, self.profile, where)
                if checked.spec.action == "end":
                    continue
                status = yield from self._execute(checked, batch)
            except CommandFailure as exc:
                status = Status(self.profile.status[exc.status], reason=exc.reason)
            batch.statuses.append(status)
        if batch.final:
            self.state.handle(Event.EXECUTED)
            self._finish(False, "ended by END")
            return
        message = ClientMessage(statuses=tuple(batch.statuses), includes=tuple(batch.includes))
        self._runner = None
        try:
            yield self._send(message)
        except StateError as exc:
            yield self._finish(True, str(exc))

    def _execute(self, checked: Checked, batch: _Batch) -> Step:
        feature = checked.spec.feature
        if feature and feature not in self.device.features:
            raise CommandFailure("not_supported", f"{checked.spec.name} is not supported")
        handler = getattr(self, f"_do_{checked.spec.action}")
        status: Status = yield from handler(checked, batch)
        return status

    def _ok(self, **fields: Any) -> Status:
        return Status(self.profile.status.ok, **fields)

    def _do_get(self, checked: Checked, batch: _Batch) -> Step:
        url = checked.target_url()
        targets = checked.client_uris()
        for uri in targets:
            self._refuse_wildcard(uri)
        response = yield Fetch(url)
        document = self._content(response)
        if targets:
            if len(document) != 1:
                raise CommandFailure(
                    "failed", f"content has {len(document)} entries, a GET with ClientURI takes 1"
                )
            [value] = document.values()
            return self._ok(uri=(self._store(targets[0], value),))
        stored = []
        for key, value in document.items():
            try:
                uri = parse_client_uri(key, self.profile, allow_new_instance=True, where="content")
            except ProtocolError as exc:
                raise CommandFailure("failed", str(exc)) from None
            if uri.wildcard or uri.levels is not None:
                raise CommandFailure("failed", f"content key {key!r} is not a node location (A13)")
            stored.append(self._store(uri, value))
        return self._ok(uri=tuple(stored))

    def _store(self, uri: ClientURI, value: Any) -> str:
        if uri.new_instance and uri.moid is not None:
            instance = self.device.tree.new_instance(uri.moid, value)
            separator: str = self.profile.client_uri.separator
            return separator.join((uri.moid, instance))
        self.device.tree.replace(uri, value)
        return uri.target(self.profile)

    def _refuse_wildcard(self, uri: ClientURI) -> None:
        if uri.wildcard:
            raise CommandFailure(
                "bad_request", f"{self.profile.client_uri.wildcard} cannot be a target"
            )

    def _content(self, response: Response | None) -> dict[str, Any]:
        if response is None:
            raise CommandFailure("failed", "content could not be fetched")
        if response.status != self.profile.http_ok:
            raise CommandFailure("failed", f"content answered HTTP {response.status}")
        media, _ = parse_media_type(response.content_type)
        if media != self.profile.media.tnds:
            raise CommandFailure(
                "failed",
                f"content is {response.content_type!r}, not {self.profile.media.tnds} (A13)",
            )
        try:
            return decode_document(response.body, self.profile, "content")
        except ProtocolError as exc:
            raise CommandFailure("failed", f"{exc} (A13)") from None

    def _document(self, uris: tuple[ClientURI, ...]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for uri in uris:
            document.update(self.device.tree.extract(uri, self.profile))
        return document

    def _upload(self, checked: Checked, batch: _Batch) -> Step:
        document = self._document(checked.client_uris())
        headers = {self.profile.headers.content_type: self.profile.media.tnds}
        method = checked.spec.action.upper()
        url = checked.target_url()
        response = yield Upload(method, url, headers, encode_document(document))
        if response is None or not 200 <= response.status < 300:
            detail = "no answer" if response is None else f"HTTP {response.status}"
            raise CommandFailure("failed", f"{method} to {url} failed: {detail}")
        return self._ok()

    _do_put = _upload
    _do_post = _upload

    def _do_delete(self, checked: Checked, batch: _Batch) -> Step:
        [uri] = checked.client_uris()
        self._refuse_wildcard(uri)
        self.device.tree.delete(uri)
        return self._ok()
        yield  # a generator like every handler

    def _do_exec(self, checked: Checked, batch: _Batch) -> Step:
        [uri] = checked.client_uris()
        self._refuse_wildcard(uri)
        self.device.tree.check_executable(uri)
        result = self.profile.status.ok
        url = checked.server_uri()
        if url:
            keys = self.profile.keys
            alert = Alert(
                self.profile.alerts.generic, uri.target(self.profile), data={keys.result: result}
            )
            self.follow_ups.append(FollowUp(url, alert))
        return self._ok()
        yield

    def _do_include(self, checked: Checked, batch: _Batch) -> Step:
        batch.includes.append(self._document(checked.client_uris()))
        return self._ok()
        yield

    def _do_show(self, checked: Checked, batch: _Batch) -> Step:
        done = yield Browse(checked.target_url())
        if not done:
            raise CommandFailure("failed", "the browser session failed")
        return self._ok()

    def _do_default(self, checked: Checked, batch: _Batch) -> Step:
        moid, url = (str(a) for a in checked.args)
        self.device.defaults[moid] = url
        return self._ok()
        yield

    def _do_cont(self, checked: Checked, batch: _Batch) -> Step:
        self.state.redirect(checked.target_url())
        return self._ok()
        yield
