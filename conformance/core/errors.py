"""The core's one exception family. Every message says what is wrong and where, so a person can
act on it: `CMD[2]: DELETE takes 1 parameter, got 3`."""

from __future__ import annotations


class DMError(Exception):
    """Base of every error the protocol core raises."""


class ProtocolError(DMError):
    """A message on the wire breaks the profile: bad bytes, bad JSON, bad shape, bad URI.

    `where` names the place in the message (``CMD[2]``, ``Status[0].sc``, ``body``); `rule` is
    the key of the rule it breaks (core/rules.py), when the raiser knows it. A message with
    several problems raises the first with every one of them in `problems`."""

    def __init__(
        self,
        what: str,
        where: str | None = None,
        rule: str | None = None,
        problems: tuple[ProtocolError, ...] = (),
    ) -> None:
        self.what = what
        self.where = where
        self.rule = rule
        self.problems = problems or (self,)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__((f"{where}: {what}" if where else what) + more)

    def with_rule(self, rule: str) -> ProtocolError:
        """The same error, filed under `rule` where it had none (every problem it lists)."""
        problems = tuple(ProtocolError(p.what, p.where, p.rule or rule) for p in self.problems)
        return ProtocolError(self.what, self.where, self.rule or rule, problems)


class CommandFailure(DMError):
    """A command cannot be carried out; `status` is the profile's name for its status code."""

    def __init__(self, status: str, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status}: {reason}")


class StateError(DMError):
    """An event that the session's state machine does not allow in its current state."""
