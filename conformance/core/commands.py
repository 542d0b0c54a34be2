"""Commands checked against the profile's command table: a known name, the right number of
parameters, each parameter of its kind. The client turns a failure into a status (400, 501); a
judge of a server turns it into a finding of the rule the failure names."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.core import rules
from conformance.core.errors import CommandFailure, ProtocolError
from conformance.core.messages import Command, CommandMessage
from conformance.core.rules import Finding, Rule
from conformance.core.uri import ClientURI, check_moid, check_server_uri, parse_client_uri
from conformance.profiles import CommandSpec, Profile


@dataclass(frozen=True)
class Checked:
    """A command that passed the table: its spec, and each parameter parsed by its kind."""

    command: Command
    spec: CommandSpec
    args: tuple[str | ClientURI, ...]

    def client_uris(self) -> tuple[ClientURI, ...]:
        return tuple(a for a in self.args if isinstance(a, ClientURI))

    def server_uri(self) -> str | None:
        """The ServerURI (or ServerURL) among the parameters, if the command has one."""
        kinds = [self.spec.param_at(i).kind for i in range(len(self.args))]
        found = [a for a, k in zip(self.args, kinds, strict=True) if k == "server_uri"]
        return found[0] if found and isinstance(found[0], str) else None

    def target_url(self) -> str:
        """The ServerURI a command must have (GET, PUT, POST, SHOW, CONT): the signature rows
        make it required, so a checked command always has it."""
        url = self.server_uri()
        if url is None:
            raise CommandFailure("bad_request", f"{self.spec.name} has no ServerURI")
        return url


class Malformed(CommandFailure):
    """A command that does not fit the table, and the rule a server breaks by sending it."""

    def __init__(self, status: str, reason: str, rule: Rule) -> None:
        super().__init__(status, reason)
        self.rule = rule


def check_command(command: Command, profile: Profile, where: str = "command") -> Checked:
    """Check one command; raise Malformed("unknown_command" | "bad_request", reason, rule)."""
    spec = profile.command(command.name)
    if spec is None:
        raise Malformed(
            "unknown_command",
            f"{where}: unknown command {command.name!r}",
            rules.SERVER_COMMAND_NAME,
        )
    count = len(command.params)
    high = spec.max_params
    if count < spec.min_params or (high is not None and count > high):
        raise Malformed(
            "bad_request",
            f"{where}: {spec.name} takes {spec.arity_text()}, got {count}",
            rules.signature_rule(spec),
        )
    args: list[str | ClientURI] = []
    for index, value in enumerate(command.params):
        param = spec.param_at(index)
        place = f"{where} {spec.name} {param.name}"
        try:
            if param.kind == "client_uri":
                args.append(
                    parse_client_uri(
                        value, profile, allow_new_instance=spec.status_uri, where=place
                    )
                )
            elif param.kind == "moid":
                args.append(check_moid(value, place))
            else:
                args.append(check_server_uri(value, place))
        except ProtocolError as exc:
            raise Malformed("bad_request", str(exc), rules.SERVER_URI) from None
    return Checked(command, spec, tuple(args))


def check_message(message: CommandMessage, profile: Profile) -> list[Finding]:
    """Every way the commands of a message break the table, as a judge of a server sees them:
    unknown names (A18), wrong parameters (the signature rows of seed 6.2), malformed URIs
    (A20), an END that is not last (A2)."""
    found = []
    last = len(message.commands) - 1
    for index, command in enumerate(message.commands):
        where = f"{profile.keys.commands}[{index}]"
        try:
            item = check_command(command, profile, where)
        except Malformed as exc:
            found.append(Finding(exc.rule, exc.reason))
            continue
        if item.spec.action == "end" and index != last:
            found.append(
                Finding(
                    rules.SERVER_END_LAST,
                    f"{where}: {command.name} is not the last command of its message",
                )
            )
    return found
