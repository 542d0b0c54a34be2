"""The core's one exception family. Every message says what is wrong and where, so a person can
act on it: `CMD[2]: DELETE takes 1 parameter, got 3`."""

from __future__ import annotations


class DMError(Exception):
    """Base of every error the protocol core raises."""


class ProtocolError(DMError):
    """A message on the wire breaks the profile: bad bytes, bad JSON, bad shape, bad URI.

    `where` names the place in the message (``CMD[2]``, ``Status[0].sc``, ``body``)."""

    def __init__(self, what: str, where: str | None = None) -> None:
        self.what = what
        self.where = where
        super().__init__(f"{where}: {what}" if where else what)

    def at(self, outer: str) -> ProtocolError:
        """The same error, placed inside `outer` (e.g. a multipart part)."""
        inner = f"{outer}.{self.where}" if self.where else outer
        return ProtocolError(self.what, inner)


class CommandFailure(DMError):
    """A command cannot be carried out; `status` is the profile's name for its status code."""

    def __init__(self, status: str, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status}: {reason}")


class StateError(DMError):
    """An event that the session's state machine does not allow in its current state."""
