"""A client's sessions as the server side sees them, judged message by message: the headers of
seed 6.3, one status per command in order, the session URL (CONT, A4), the first message's own
members, and the state machine (nothing after END). A device may have several sessions open at
once (the Generic Alert of an EXEC may come while the session that carried it is open, A14), so
each message is first routed to its session. The sample server and the reference server both
watch clients through this module."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from conformance.core import rules
from conformance.core.errors import StateError
from conformance.core.judge import (
    header,
    in_command_order,
    judge_first_only,
    judge_request_headers,
    judge_statuses,
    read_client_message,
)
from conformance.core.messages import ClientMessage, Command, Status
from conformance.core.rules import Finding
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


def cont_targets(commands: Sequence[Command], profile: Profile) -> list[str]:
    """The ServerURLs of the CONT commands among `commands`."""
    cont = profile.for_action("cont").name
    return [c.params[0] for c in commands if c.name == cont and c.params]


@dataclass
class SessionObserver:
    """One session of a client: its state, where it is, what the server last sent it."""

    profile: Profile
    url: str
    number: int = 1  # the device's sessions counted from 1, in the order they opened
    state: SessionState = field(init=False)
    sent: tuple[Command, ...] = ()
    moved: bool = False  # a CONT moved this session's URL
    ended_by_end: bool = False
    settled: bool = False  # the client was started again since: a message is no longer its

    def __post_init__(self) -> None:
        self.state = SessionState(self.url, self.profile.limits.max_exchanges)

    @property
    def ended(self) -> bool:
        return self.state.state in FRESH and self.state.exchanges > 0

    @property
    def awaiting_statuses(self) -> bool:
        return self.state.state is State.EXECUTING

    def expects_at(self, url: str) -> bool:
        """Whether a status message of this session may be arriving at `url`."""
        return url == self.state.url or url in cont_targets(self.sent, self.profile)

    def commands(self, commands: tuple[Command, ...]) -> None:
        """The server answered this session with these commands."""
        self.sent = commands
        if self.state.state is not State.AWAIT_COMMANDS:
            return
        final = any(c.name == self.profile.for_action("end").name for c in commands)
        self.state.handle(Event.FINAL_COMMANDS if final else Event.COMMANDS)
        if final:
            self.state.handle(Event.EXECUTED)
            self.ended_by_end = True

    def bad_answer(self) -> None:
        """The server answered with something the client must refuse (A1)."""
        self.sent = ()
        if self.state.allows(Event.BAD_ANSWER):
            self.state.handle(Event.BAD_ANSWER)

    def take(self, url: str, message: ClientMessage, first: bool) -> list[Finding]:
        """Judge `message` as this session's next message, arrived at `url`."""
        profile = self.profile
        found = judge_first_only(message, first, profile)
        if self.state.state is State.EXECUTING:
            statuses = in_command_order(self.sent, message.statuses, profile)
            expected = url_after(self.sent, statuses, self.state.url, profile)
            self.moved |= expected != self.state.url
            if url != expected:
                where = f"status message went to {url}, the session URL is {expected}"
                rule = rules.CONT_URL if self.moved else rules.SAME_URL
                found.append(Finding(rule, where + (" (set by CONT)" if self.moved else "")))
            self.state.redirect(expected)
            found += judge_statuses(self.sent, message, profile)
        elif self.ended:
            if self.ended_by_end:
                what = f"a message to {url} after the session ended with END"
                found.append(Finding(rules.NOTHING_AFTER_END, what))
            else:
                what = f"a message to {url} after a refused answer ended the session"
                found.append(Finding(rules.NOTHING_AFTER_ABORT, what))
            return found
        # A bound of the harness (limits.max_exchanges) is no rule: past it the session is given
        # up (ABORTED) and its next message is refused (A1).
        with contextlib.suppress(StateError):
            self.state.handle(Event.CLIENT_MESSAGE)
        return found


@dataclass
class Routed:
    """A client message read, judged and routed: the message (None when it cannot be read),
    every finding, its session (None when unreadable) and whether it opened that session."""

    message: ClientMessage | None
    findings: list[Finding]
    session: SessionObserver | None
    first: bool = False


class DeviceObserver:
    """Every session of one client (one device), each message routed to its session."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.sessions: list[SessionObserver] = []
        self.device_id: str | None = None

    def route(self, url: str, message: ClientMessage) -> tuple[SessionObserver, bool]:
        """The session `message` belongs to, and whether it opens that session. A message with
        statuses continues a session that awaits them (the one expecting it at `url` first); one
        with none opens a session, unless it carries neither DevInfo nor Alert and comes where a
        session ended by END or was aborted (A1), which makes it that session's message after
        its end; once the client is started again (`settle`), such a message opens a session."""
        open_ = [s for s in self.sessions if s.awaiting_statuses]
        here = [s for s in open_ if s.expects_at(url)]
        if message.statuses:
            if here or open_:
                return (here or open_)[-1], False
            ended = [s for s in self.sessions if s.ended and s.state.url == url]
            if ended:
                return ended[-1], False
        elif message.devinfo is None and not message.alerts:
            waiting = [s for s in here if s.sent]
            if waiting:
                return waiting[-1], False
            ended = [
                s
                for s in self.sessions
                if (s.ended_by_end or s.state.state is State.ABORTED)
                and not s.settled
                and s.state.url == url
            ]
            if ended:
                return ended[-1], False
        session = SessionObserver(self.profile, url, len(self.sessions) + 1)
        self.sessions.append(session)
        return session, True

    def settle(self) -> None:
        """The client was told to open a new session (its session command ran again): a message
        without statuses is no longer taken for a message after the END of an earlier session."""
        for session in self.sessions:
            if session.ended:
                session.settled = True

    def client_message(self, url: str, headers: Mapping[str, str], body: bytes) -> Routed:
        """Read, judge and route a message the client sent to `url`. A message that cannot be
        read belongs to no session."""
        findings = judge_request_headers(headers, self.profile, device_id=self.device_id)
        self.device_id = self.device_id or header(headers, self.profile.headers.device_id)
        message, problems = read_client_message(headers, body, self.profile)
        findings += problems
        if message is None:
            return Routed(None, findings, None)
        session, first = self.route(url, message)
        if first and message.statuses:
            findings.append(
                Finding(
                    rules.CLIENT_BODY,
                    f"a first message with {len(message.statuses)} statuses; "
                    f"{self.profile.keys.status} is [] in the first message",
                )
            )
        findings += session.take(url, message, first)
        return Routed(message, findings, session, first)
