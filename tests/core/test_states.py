"""The session state machine driven through the event sequences a session goes through: where
each sequence leads, and the StateError (naming state and event) for what a session may not do."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.core.errors import StateError
from conformance.core.states import Event, SessionState, State

URL = "http://srv.example/dm"
MESSAGE, COMMANDS, FINAL, BAD, EXECUTED, GIVE_UP = (
    Event.CLIENT_MESSAGE,
    Event.COMMANDS,
    Event.FINAL_COMMANDS,
    Event.BAD_ANSWER,
    Event.EXECUTED,
    Event.GIVE_UP,
)


def run(*events: Event, max_exchanges: int = 50) -> tuple[SessionState, list[State]]:
    """A fresh session after `events`, and the state each event led to."""
    session = SessionState(URL, max_exchanges)
    return session, [session.handle(event) for event in events]


def refused(session: SessionState, event: Event) -> str:
    """Apply an event the session must refuse; the state is unchanged; the error's text."""
    before, exchanges = session.state, session.exchanges
    assert not session.allows(event)
    with pytest.raises(StateError) as info:
        session.handle(event)
    assert (session.state, session.exchanges) == (before, exchanges)
    return str(info.value)


# -- sessions that run to their end --------------------------------------------------------------
def test_a_session_of_two_exchanges_ends_with_end() -> None:
    session, states = run(MESSAGE, COMMANDS, MESSAGE, FINAL, EXECUTED)
    assert states == [
        State.AWAIT_COMMANDS,
        State.EXECUTING,
        State.AWAIT_COMMANDS,
        State.FINISHING,
        State.CLOSED,
    ]
    assert session.ended and session.exchanges == 2


def test_end_in_the_first_answer() -> None:
    session, states = run(MESSAGE, FINAL)
    assert states[-1] is State.FINISHING and not session.ended
    assert session.handle(EXECUTED) is State.CLOSED
    assert session.ended and session.exchanges == 1


def test_a_fresh_session_is_idle() -> None:
    session = SessionState(URL, 50)
    assert (session.state, session.exchanges, session.url) == (State.IDLE, 0, URL)
    assert not session.ended
    assert session.allows(MESSAGE) and session.allows(GIVE_UP)


# -- what a session may not do -------------------------------------------------------------------
def test_nothing_after_a_refused_answer() -> None:
    session, states = run(MESSAGE, BAD)
    assert states[-1] is State.ABORTED and session.ended
    assert refused(session, MESSAGE) == (
        "in state 'aborted': client sends a first or status message is not allowed"
    )


def test_nothing_after_end() -> None:
    session, _ = run(MESSAGE, COMMANDS, MESSAGE, FINAL)
    assert refused(session, MESSAGE) == (
        "in state 'finishing': client sends a first or status message is not allowed"
    )
    session.handle(EXECUTED)
    assert refused(session, MESSAGE) == (
        "in state 'closed': client sends a first or status message is not allowed"
    )
    for event in Event:
        refused(session, event)


def test_no_second_message_before_the_answer() -> None:
    session, _ = run(MESSAGE)
    assert refused(session, MESSAGE) == (
        "in state 'await-commands': client sends a first or status message is not allowed"
    )


def test_no_answer_before_a_message() -> None:
    session = SessionState(URL, 50)
    assert refused(session, COMMANDS) == (
        "in state 'idle': server answers with commands is not allowed"
    )
    refused(session, FINAL)
    refused(session, BAD)
    session, _ = run(MESSAGE, COMMANDS)
    assert refused(session, COMMANDS) == (
        "in state 'executing': server answers with commands is not allowed"
    )
    refused(session, BAD)


def test_executed_only_ends_a_message_with_end() -> None:
    session, _ = run(MESSAGE, COMMANDS)
    assert refused(session, EXECUTED) == (
        "in state 'executing': client has executed the commands of the END message is not allowed"
    )
    refused(run(MESSAGE)[0], EXECUTED)


@pytest.mark.parametrize(
    "events",
    [(), (MESSAGE,), (MESSAGE, COMMANDS), (MESSAGE, FINAL), (MESSAGE, COMMANDS, MESSAGE)],
    ids=["idle", "await-commands", "executing", "finishing", "await-again"],
)
def test_giving_up_aborts_a_live_session(events: Sequence[Event]) -> None:
    session, _ = run(*events)
    assert session.handle(GIVE_UP) is State.ABORTED
    assert session.ended
    assert "in state 'aborted'" in refused(session, GIVE_UP)


def test_an_ended_session_cannot_give_up_again() -> None:
    session, _ = run(MESSAGE, FINAL, EXECUTED)
    assert refused(session, GIVE_UP) == (
        "in state 'closed': a bound is exceeded (exchanges, time) is not allowed"
    )


def test_the_exchange_bound() -> None:
    session, _ = run(MESSAGE, COMMANDS, MESSAGE, COMMANDS, max_exchanges=2)
    assert session.exchanges == 2 and session.state is State.EXECUTING
    with pytest.raises(StateError, match=r"^more than 2 client messages in one session$"):
        session.handle(MESSAGE)
    assert session.state is State.ABORTED and session.ended
    refused(session, MESSAGE)


def test_the_bound_counts_messages_not_answers() -> None:
    session, states = run(MESSAGE, FINAL, EXECUTED, max_exchanges=1)
    assert states[-1] is State.CLOSED and session.exchanges == 1


def test_cont_moves_the_url_for_the_rest_of_the_session() -> None:
    session, _ = run(MESSAGE, COMMANDS)
    session.redirect("http://srv.example/dm2")
    for event in (MESSAGE, COMMANDS, MESSAGE, FINAL, EXECUTED):
        session.handle(event)
    assert session.url == "http://srv.example/dm2"
    assert session.exchanges == 3


# -- any sequence --------------------------------------------------------------------------------
@settings(max_examples=300)
@given(st.lists(st.sampled_from(list(Event)), max_size=30), st.integers(1, 4))
def test_any_event_sequence(events: list[Event], bound: int) -> None:
    """Whatever happens: an event is refused exactly when `allows` says so, with an error naming
    the state and the event and nothing changed; an ended session takes no event; a session is
    CLOSED only by EXECUTED after an answer with END; the exchanges are the messages taken."""
    session = SessionState(URL, bound)
    taken: list[Event] = []
    for event in events:
        state, ended = session.state, session.ended
        if not session.allows(event):
            text = refused(session, event)
            assert text == f"in state {state.value!r}: {event.value} is not allowed"
            continue
        assert not ended
        try:
            new = session.handle(event)
        except StateError as exc:
            assert event is MESSAGE and session.exchanges == bound + 1
            assert str(exc) == f"more than {bound} client messages in one session"
            assert session.state is State.ABORTED
            taken.append(event)
            continue
        taken.append(event)
        assert new is session.state
        if new is State.CLOSED:
            assert taken[-2:] == [FINAL, EXECUTED]
    assert session.exchanges == taken.count(MESSAGE)
    assert session.exchanges <= bound + 1
