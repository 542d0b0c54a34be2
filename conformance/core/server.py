"""The DM server's side of a device's sessions, sans I/O: a scripted server that answers each
client message with the next batch of the commands queued for the device (END with the last),
judges what the client sent with the same observer the reference server uses, follows CONT and
keeps several sessions of a device apart (A14), and records every exchange. The sample server
runs it behind HTTP."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from conformance.core.codec import encode_commands
from conformance.core.messages import ClientMessage, Command, CommandMessage
from conformance.core.observer import DeviceObserver, SessionObserver
from conformance.core.rules import Finding
from conformance.core.states import State
from conformance.profiles import Profile

Batches = list[tuple[Command, ...]]


@dataclass(frozen=True)
class Reply:
    """The HTTP answer to one client message."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Exchange:
    """One client message, what it answered (statuses paired with the commands sent before) and
    the commands sent back."""

    url: str
    message: ClientMessage | None
    answered: tuple[Command, ...]
    sent: tuple[Command, ...]
    session: int | None  # the device's session it belongs to, counted from 1
    findings: list[Finding] = field(default_factory=list)


def batches_of(script: Sequence[Sequence[Command]]) -> Batches:
    """A script as the batches a server sends, one message each (empty batches dropped)."""
    return [tuple(batch) for batch in script if batch]


class DeviceSessions:
    """One device's sessions as the server runs them. `script_for_new_session` hands each new
    session the batches queued for the device at that moment."""

    def __init__(
        self, profile: Profile, script_for_new_session: Callable[[], Batches] = list
    ) -> None:
        self.profile = profile
        self.observer = DeviceObserver(profile)
        self.script_for_new_session = script_for_new_session
        self.scripts: dict[int, Batches] = {}
        self.exchanges: list[Exchange] = []

    @property
    def findings(self) -> list[Finding]:
        return [f for e in self.exchanges for f in e.findings]

    def next_batch(self, batches: Batches) -> tuple[Command, ...]:
        """The commands of the next message: the next queued batch, END added to the last."""
        end = Command(self.profile.for_action("end").name)
        batch = batches.pop(0) if batches else ()
        if not batches and end not in batch:
            batch = (*batch, end)
        return batch

    def receive(self, url: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one client message that arrived at `url`."""
        routed = self.observer.client_message(url, headers, body)
        message, findings, session = routed.message, routed.findings, routed.session
        answered = session.sent if session is not None else ()
        if session is None or message is None:
            self.exchanges.append(Exchange(url, message, answered, (), None, findings))
            return self.refuse("; ".join(str(f) for f in findings) or "unreadable message")
        if session.state.state is not State.AWAIT_COMMANDS:
            self.exchanges.append(Exchange(url, message, answered, (), session.number, findings))
            return self.refuse("; ".join(str(f) for f in findings) or "no session to continue")
        batches = self._script(session)
        batch = self.next_batch(batches)
        session.commands(batch)
        self.exchanges.append(Exchange(url, message, answered, batch, session.number, findings))
        names = self.profile.headers
        return Reply(
            self.profile.http_ok,
            {names.content_type: self.profile.media.command},
            encode_commands(CommandMessage(batch), self.profile),
        )

    def _script(self, session: SessionObserver) -> Batches:
        if session.number not in self.scripts:
            self.scripts[session.number] = self.script_for_new_session()
        return self.scripts[session.number]

    def refuse(self, reason: str) -> Reply:
        """The answer to a message the server cannot take: the client must abort (A1)."""
        return Reply(
            self.profile.status.bad_request,
            {self.profile.headers.content_type: f"{self.profile.media.text}; charset=utf-8"},
            reason.encode("utf-8"),
        )


class ServerSession(DeviceSessions):
    """The sessions of one device driven by one script: its first session gets the script."""

    def __init__(
        self,
        profile: Profile,
        url: str,
        script: Sequence[Sequence[Command]] = (),
        *,
        device_id: str | None = None,
    ) -> None:
        pending = [batches_of(script)]
        super().__init__(profile, lambda: pending.pop() if pending else [])
        self.url = url
        self.observer.device_id = device_id

    @property
    def ended(self) -> bool:
        sessions = self.observer.sessions
        return bool(sessions) and all(s.state.ended or s.ended for s in sessions)
