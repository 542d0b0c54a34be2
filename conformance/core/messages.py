"""The protocol's messages as plain values: commands, statuses, alerts, the command message a
server sends and the first or status message a client sends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Command:
    """One command as sent: its wire name and its parameters (all strings)."""

    name: str
    params: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str, *params: str) -> Command:
        return cls(name, tuple(params))

    def as_list(self) -> list[str]:
        return [self.name, *self.params]


@dataclass(frozen=True)
class CommandMessage:
    """What a server answers a client with: the commands to execute, in order."""

    commands: tuple[Command, ...]


@dataclass(frozen=True)
class Status:
    """The outcome of one command: a status code, the stored ClientURIs of a GET, a reason."""

    sc: int
    uri: tuple[str, ...] | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Alert:
    """A client event or alert, such as the Generic Alert that reports an EXEC's result."""

    alert_type: str
    source_uri: str | None = None
    mark: str | None = None
    data: Any = None


@dataclass(frozen=True)
class ClientMessage:
    """A first message (no statuses; may carry device information, MO data, meta data, alerts) or
    a status message (one status per command of the previous command message). `includes` are the
    tnds20 documents of successful INCLUDE commands, carried as multipart parts (A8)."""

    statuses: tuple[Status, ...] = ()
    devinfo: dict[str, Any] | None = None
    mo: dict[str, Any] | None = None
    mometa: tuple[dict[str, Any], ...] | None = None
    alerts: tuple[Alert, ...] | None = None
    includes: tuple[dict[str, Any], ...] = ()
