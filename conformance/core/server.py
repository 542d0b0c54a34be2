"""The DM server's session, sans I/O: a scripted server that answers each client message with the
next batch of queued commands (END with the last), checks that the statuses come back one per
command and in order, follows CONT, and records every exchange. The sample server runs it behind
HTTP; the same judge it uses (core.judge) judges a client under test."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from conformance.core.codec import encode_commands
from conformance.core.judge import FAIL, NO_STATUS_AFTER_END, Finding
from conformance.core.messages import ClientMessage, Command, CommandMessage
from conformance.core.observer import SessionObserver
from conformance.core.states import State
from conformance.profiles import Profile


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
    findings: list[Finding] = field(default_factory=list)


class ServerSession:
    """One DM session from the server's side, driven by a script of command batches."""

    def __init__(
        self,
        profile: Profile,
        url: str,
        script: Sequence[Sequence[Command]] = (),
        *,
        device_id: str | None = None,
    ) -> None:
        self.profile = profile
        self.url = url
        self.observer = SessionObserver(profile)
        self.observer.device_id = device_id
        self.exchanges: list[Exchange] = []
        self._batches = [tuple(b) for b in script if b]
        self._refused = False  # it refused a message: the client must abort (A1)

    @property
    def findings(self) -> list[Finding]:
        return [f for e in self.exchanges for f in e.findings]

    @property
    def ended(self) -> bool:
        state = self.observer.state
        return self._refused or (state is not None and state.state in (State.CLOSED, State.ABORTED))

    def _next_batch(self) -> tuple[Command, ...]:
        end = Command(self.profile.for_action("end").name)
        batch = self._batches.pop(0) if self._batches else ()
        if not self._batches and end not in batch:
            batch = (*batch, end)
        return batch

    def receive(self, url: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one client message that arrived at `url`."""
        answered = self.observer.sent
        if self.ended:
            finding = Finding(NO_STATUS_AFTER_END, FAIL, "a message after the session ended")
            self.exchanges.append(Exchange(url, None, answered, (), [finding]))
            return self._refuse(str(finding))
        message, findings = self.observer.client_message(url, headers, body)
        state = self.observer.state
        if message is None or state is None or state.state is not State.AWAIT_COMMANDS:
            self.observer.bad_answer()
            self.exchanges.append(Exchange(url, message, answered, (), findings))
            return self._refuse("; ".join(str(f) for f in findings) or "no session to continue")
        batch = self._next_batch()
        self.observer.commands(batch)
        self.exchanges.append(Exchange(url, message, answered, batch, findings))
        names = self.profile.headers
        return Reply(
            self.profile.http_ok,
            {names.content_type: self.profile.media.command},
            encode_commands(CommandMessage(batch), self.profile),
        )

    def _refuse(self, reason: str) -> Reply:
        self._refused = True
        return Reply(
            self.profile.status.bad_request,
            {self.profile.headers.content_type: f"{self.profile.media.text}; charset=utf-8"},
            reason.encode("utf-8"),
        )
