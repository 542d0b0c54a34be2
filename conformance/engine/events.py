"""What a case run tells whoever listens: a case starts, a step starts, an HTTP exchange happened,
a step ends, the case ends with its record. Allure, the results files and the conformance report
subscribe; the engine imports none of them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from conformance.roles.exchange import HttpExchange

if TYPE_CHECKING:
    from conformance.engine.model import Case
    from conformance.engine.records import CaseRecord


class Listener:
    """A subscriber to a case run; every method does nothing unless overridden."""

    def case_started(self, case: Case, params: dict[str, Any]) -> None:
        """A case run begins, with its parameter values."""

    def step_started(self, label: str) -> None:
        """A step begins (`step 3 (expect request)`)."""

    def exchange(self, exchange: HttpExchange) -> None:
        """An HTTP exchange of the step that is running."""

    def step_ended(self, label: str, problem: str | None) -> None:
        """A step ended; `problem` says why it failed, when it did."""

    def case_ended(self, record: CaseRecord) -> None:
        """The case run ended with this record."""


class Listeners(Listener):
    """Several listeners as one, called in order."""

    def __init__(self, listeners: Iterable[Listener] = ()) -> None:
        self.listeners = list(listeners)

    def case_started(self, case: Case, params: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener.case_started(case, params)

    def step_started(self, label: str) -> None:
        for listener in self.listeners:
            listener.step_started(label)

    def exchange(self, exchange: HttpExchange) -> None:
        for listener in self.listeners:
            listener.exchange(exchange)

    def step_ended(self, label: str, problem: str | None) -> None:
        for listener in self.listeners:
            listener.step_ended(label, problem)

    def case_ended(self, record: CaseRecord) -> None:
        for listener in self.listeners:
            listener.case_ended(record)
