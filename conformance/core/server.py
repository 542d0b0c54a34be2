"""The DM server's session, sans I/O: a scripted server that answers each client message with the
next batch of queued commands (END with the last), checks that the statuses come back one per
command and in order, follows CONT, and records every exchange. The sample server runs it behind
HTTP; the same judge it uses (core.judge) judges a client under test."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from conformance.core.codec import encode_commands
from conformance.core.errors import StateError
from conformance.core.judge import (
    FAIL,
    NO_STATUS_AFTER_END,
    SAME_URL_UNTIL_END,
    Finding,
    header,
    judge_request_headers,
    judge_statuses,
    read_client_message,
)
from conformance.core.messages import ClientMessage, Command, CommandMessage
from conformance.core.states import Event, SessionState, State
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
        self.state = SessionState(url, profile.limits.max_exchanges)
        self.device_id = device_id
        self.exchanges: list[Exchange] = []
        self._batches = [tuple(b) for b in script if b]
        self._last_sent: tuple[Command, ...] = ()

    @property
    def findings(self) -> list[Finding]:
        return [f for e in self.exchanges for f in e.findings]

    @property
    def ended(self) -> bool:
        return self.state.ended

    def _next_batch(self) -> tuple[Command, ...]:
        end = Command(self.profile.for_action("end").name)
        batch = self._batches.pop(0) if self._batches else ()
        if not self._batches and end not in batch:
            batch = (*batch, end)
        return batch

    def _follow_cont(self, batch: tuple[Command, ...]) -> None:
        cont = self.profile.for_action("cont").name
        for command in batch:
            if command.name == cont and command.params:
                self.state.redirect(command.params[0])

    def receive(self, url: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one client message that arrived at `url`."""
        findings = judge_request_headers(headers, self.profile, device_id=self.device_id)
        if self.device_id is None:
            self.device_id = header(headers, self.profile.headers.device_id)
        if self.state.state is not State.IDLE and url != self.state.url:
            findings.append(
                Finding(
                    SAME_URL_UNTIL_END,
                    FAIL,
                    f"message went to {url}, the session URL is {self.state.url}",
                )
            )
        message, problems = read_client_message(headers, body, self.profile)
        findings += problems
        answered = self._last_sent
        if message is not None and self.state.state is not State.IDLE:
            findings += judge_statuses(answered, message, self.profile)
        try:
            self.state.handle(Event.CLIENT_MESSAGE)
        except StateError as exc:
            findings.append(Finding(NO_STATUS_AFTER_END, FAIL, str(exc)))
            self.exchanges.append(Exchange(url, message, answered, (), findings))
            return self._refuse(str(exc))
        if message is None:
            self.state.handle(Event.BAD_ANSWER)
            self.exchanges.append(Exchange(url, None, answered, (), findings))
            return self._refuse("; ".join(str(f) for f in findings))
        batch = self._next_batch()
        self._follow_cont(batch)
        self._last_sent = batch
        end = self.profile.for_action("end").name
        final = any(c.name == end for c in batch)
        self.state.handle(Event.FINAL_COMMANDS if final else Event.COMMANDS)
        if final:
            self.state.handle(Event.EXECUTED)
        self.exchanges.append(Exchange(url, message, answered, batch, findings))
        names = self.profile.headers
        return Reply(
            self.profile.http_ok,
            {names.content_type: self.profile.media.command},
            encode_commands(CommandMessage(batch), self.profile),
        )

    def _refuse(self, reason: str) -> Reply:
        return Reply(
            self.profile.status.bad_request,
            {self.profile.headers.content_type: f"{self.profile.media.text}; charset=utf-8"},
            reason.encode("utf-8"),
        )
