"""The session state machine: exactly the table's transitions; StateError names state and event."""

from __future__ import annotations

import itertools

import pytest

from conformance.core.errors import StateError
from conformance.core.states import ENDED, TRANSITIONS, Event, SessionState, State

EXPECTED = {
    (State.IDLE, Event.CLIENT_MESSAGE): State.AWAIT_COMMANDS,
    (State.AWAIT_COMMANDS, Event.COMMANDS): State.EXECUTING,
    (State.AWAIT_COMMANDS, Event.FINAL_COMMANDS): State.FINISHING,
    (State.AWAIT_COMMANDS, Event.BAD_ANSWER): State.ABORTED,
    (State.EXECUTING, Event.CLIENT_MESSAGE): State.AWAIT_COMMANDS,
    (State.FINISHING, Event.EXECUTED): State.CLOSED,
    (State.IDLE, Event.GIVE_UP): State.ABORTED,
    (State.AWAIT_COMMANDS, Event.GIVE_UP): State.ABORTED,
    (State.EXECUTING, Event.GIVE_UP): State.ABORTED,
    (State.FINISHING, Event.GIVE_UP): State.ABORTED,
}
PAIRS = list(itertools.product(State, Event))


def at(state: State, max_exchanges: int = 50) -> SessionState:
    session = SessionState("http://srv/dm", max_exchanges)
    session.state = state
    return session


def test_table_is_exactly_the_listed_transitions() -> None:
    assert TRANSITIONS == EXPECTED


def test_ended_states() -> None:
    assert frozenset({State.CLOSED, State.ABORTED}) == ENDED
    assert not any(state in ENDED for state, _ in TRANSITIONS)


@pytest.mark.parametrize(("state", "event"), PAIRS, ids=[f"{s.name}-{e.name}" for s, e in PAIRS])
def test_every_pair(state: State, event: Event) -> None:
    session = at(state)
    assert session.allows(event) == ((state, event) in EXPECTED)
    if (state, event) in EXPECTED:
        assert session.handle(event) is EXPECTED[(state, event)]
        assert session.state is EXPECTED[(state, event)]
    else:
        with pytest.raises(StateError) as info:
            session.handle(event)
        assert repr(state.value) in str(info.value)
        assert event.value in str(info.value)
        assert session.state is state


def test_a_whole_session() -> None:
    session = SessionState("http://srv/dm", 50)
    assert session.state is State.IDLE
    assert not session.ended
    for event in (Event.CLIENT_MESSAGE, Event.COMMANDS, Event.CLIENT_MESSAGE):
        session.handle(event)
    session.handle(Event.FINAL_COMMANDS)
    assert not session.ended
    assert session.handle(Event.EXECUTED) is State.CLOSED
    assert session.ended
    assert session.exchanges == 2


def test_exchange_bound() -> None:
    session = SessionState("http://srv/dm", 2)
    for event in (Event.CLIENT_MESSAGE, Event.COMMANDS, Event.CLIENT_MESSAGE, Event.COMMANDS):
        session.handle(event)
    assert session.exchanges == 2
    with pytest.raises(StateError, match="more than 2 client messages"):
        session.handle(Event.CLIENT_MESSAGE)
    assert session.state is State.ABORTED
    assert session.ended


def test_redirect_changes_the_url() -> None:
    session = SessionState("http://srv/dm", 50)
    session.redirect("http://srv/dm2")
    assert session.url == "http://srv/dm2"
