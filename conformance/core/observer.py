"""A client's sessions as the server side sees them, judged message by message: the headers of
seed 6.3, one status per command in order, the session URL (CONT, A4) and the state machine (no
message after END). The sample server and the reference server both watch clients through it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from conformance.core.errors import StateError
from conformance.core.judge import (
    CONT_URL,
    FAIL,
    NO_STATUS_AFTER_END,
    SAME_URL_UNTIL_END,
    Finding,
    header,
    judge_request_headers,
    judge_statuses,
    read_client_message,
)
from conformance.core.messages import ClientMessage, Command, Status
from conformance.core.states import Event, SessionState, State
from conformance.profiles import Profile

FRESH = (State.IDLE, State.CLOSED, State.ABORTED)


def url_after(
    commands: Sequence[Command], statuses: Sequence[Status], url: str, profile: Profile
) -> str:
    """Where the status message for `commands` must go: the URL of the last CONT that succeeded
    (its status is ok), else `url`. A refused CONT leaves the session where it was."""
    cont, end = profile.for_action("cont").name, profile.for_action("end").name
    answered = [c for c in commands if c.name != end]
    for command, status in zip(answered, statuses, strict=False):
        if command.name == cont and command.params and status.sc == profile.status.ok:
            url = command.params[0]
    return url


class SessionObserver:
    """Watches one client (one device) across its sessions."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.state: SessionState | None = None
        self.sent: tuple[Command, ...] = ()
        self.device_id: str | None = None
        self.moved = False  # a CONT moved this session's URL

    @property
    def ended(self) -> bool:
        return self.state is None or self.state.state in FRESH

    def client_message(
        self, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[ClientMessage | None, list[Finding]]:
        """Read and judge a message the client sent to `url`."""
        findings = judge_request_headers(headers, self.profile, device_id=self.device_id)
        self.device_id = self.device_id or header(headers, self.profile.headers.device_id)
        message, problems = read_client_message(headers, body, self.profile)
        findings += problems
        if message is None:
            return None, findings
        if self.state is None or (not message.statuses and self.state.state in FRESH):
            self.state = SessionState(url, self.profile.limits.max_exchanges)
            self.sent = ()
            self.moved = False
        elif self.state.state is State.EXECUTING:
            expected = url_after(self.sent, message.statuses, self.state.url, self.profile)
            self.moved |= expected != self.state.url
            if url != expected:
                where = f"status message went to {url}, the session URL is {expected}"
                findings.append(Finding(SAME_URL_UNTIL_END, FAIL, where))
                if self.moved:
                    findings.append(Finding(CONT_URL, FAIL, f"{where} (set by CONT)"))
            self.state.redirect(expected)
            findings += judge_statuses(self.sent, message, self.profile)
        try:
            self.state.handle(Event.CLIENT_MESSAGE)
        except StateError as exc:
            findings.append(Finding(NO_STATUS_AFTER_END, FAIL, f"{exc} (the session had ended)"))
        return message, findings

    def commands(self, commands: tuple[Command, ...]) -> None:
        """The server answered with these commands."""
        self.sent = commands
        if self.state is None or self.state.state is not State.AWAIT_COMMANDS:
            return
        final = any(c.name == self.profile.for_action("end").name for c in commands)
        self.state.handle(Event.FINAL_COMMANDS if final else Event.COMMANDS)
        if final:
            self.state.handle(Event.EXECUTED)

    def bad_answer(self) -> None:
        """The server answered with something the client must refuse (A1)."""
        self.sent = ()
        if self.state is not None and self.state.allows(Event.BAD_ANSWER):
            self.state.handle(Event.BAD_ANSWER)
