"""The DM session's state machine. Two rules, after h11's _state.py:

1. Everything that affects the session's state lives in this file: the states, the events and the
   one transition table below.
2. This file does not know which role it plays. The client runs it to know what it may do next;
   the server and the harness run the same machine on what they see the client do, so the same
   rules judge the local and the remote side.
"""

from __future__ import annotations

import enum

from conformance.core.errors import StateError


class State(enum.Enum):
    IDLE = "idle"  # nothing sent yet
    AWAIT_COMMANDS = "await-commands"  # a client message is out; the server's answer is due
    EXECUTING = "executing"  # commands received; their statuses are due
    FINISHING = "finishing"  # commands with END received: executed, then no status (seed 6.2 END)
    CLOSED = "closed"  # the session ended normally
    ABORTED = "aborted"  # the client gave up on a bad answer (A1) or a bound


class Event(enum.Enum):
    CLIENT_MESSAGE = "client sends a first or status message"
    COMMANDS = "server answers with commands"
    FINAL_COMMANDS = "server answers with commands that include END"
    BAD_ANSWER = "server answers with anything but a valid command message (A1)"
    EXECUTED = "client has executed the commands of the END message"
    GIVE_UP = "a bound is exceeded (exchanges, time)"


TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.IDLE, Event.CLIENT_MESSAGE): State.AWAIT_COMMANDS,
    (State.AWAIT_COMMANDS, Event.COMMANDS): State.EXECUTING,
    (State.AWAIT_COMMANDS, Event.FINAL_COMMANDS): State.FINISHING,
    (State.AWAIT_COMMANDS, Event.BAD_ANSWER): State.ABORTED,
    (State.EXECUTING, Event.CLIENT_MESSAGE): State.AWAIT_COMMANDS,
    (State.FINISHING, Event.EXECUTED): State.CLOSED,
}
for _state in (State.IDLE, State.AWAIT_COMMANDS, State.EXECUTING, State.FINISHING):
    TRANSITIONS[(_state, Event.GIVE_UP)] = State.ABORTED

ENDED = frozenset({State.CLOSED, State.ABORTED})


class SessionState:
    """One DM session: its state, how many client messages it has carried, and the URL the next
    client message must go to (the session URL until a CONT changes it, A4)."""

    def __init__(self, url: str, max_exchanges: int) -> None:
        self.state = State.IDLE
        self.url = url
        self.exchanges = 0
        self.max_exchanges = max_exchanges

    def allows(self, event: Event) -> bool:
        return (self.state, event) in TRANSITIONS

    def handle(self, event: Event) -> State:
        """Apply `event`; raise StateError naming state and event if the table forbids it."""
        try:
            new = TRANSITIONS[(self.state, event)]
        except KeyError:
            raise StateError(
                f"in state {self.state.value!r}: {event.value} is not allowed"
            ) from None
        if event is Event.CLIENT_MESSAGE:
            self.exchanges += 1
            if self.exchanges > self.max_exchanges:
                self.state = State.ABORTED
                raise StateError(f"more than {self.max_exchanges} client messages in one session")
        self.state = new
        return new

    def redirect(self, url: str) -> None:
        """A CONT: every later client message of the session goes to `url`."""
        self.url = url

    @property
    def ended(self) -> bool:
        return self.state in ENDED
