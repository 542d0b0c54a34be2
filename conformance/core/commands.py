"""Commands checked against the profile's command table: a known name, the right number of
parameters, each parameter of its kind. The client turns a failure into a status (400, 501); a
judge of a server turns it into a finding."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.core.errors import CommandFailure, ProtocolError
from conformance.core.messages import Command, CommandMessage
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
        kinds = [self.spec.param_at(i).kind for i in range(len(self.args))]
        return next((a for a, k in zip(self.args, kinds, strict=True) if k == "server_uri"), None)


def check_command(command: Command, profile: Profile, where: str = "command") -> Checked:
    """Check one command; raise CommandFailure("unknown_command" | "bad_request", reason)."""
    spec = profile.command(command.name)
    if spec is None:
        raise CommandFailure("unknown_command", f"{where}: unknown command {command.name!r}")
    count = len(command.params)
    high = spec.max_params
    if count < spec.min_params or (high is not None and count > high):
        raise CommandFailure(
            "bad_request", f"{where}: {spec.name} takes {spec.arity_text()}, got {count}"
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
            raise CommandFailure("bad_request", str(exc)) from None
    return Checked(command, spec, tuple(args))


def check_message(message: CommandMessage, profile: Profile) -> list[Checked]:
    """Check every command of a message strictly, as a judge of a server does: raise
    ProtocolError at the first command that breaks the table, or an END that is not last (A2)."""
    checked = []
    last = len(message.commands) - 1
    for index, command in enumerate(message.commands):
        where = f"{profile.keys.commands}[{index}]"
        try:
            item = check_command(command, profile, where)
        except CommandFailure as exc:
            raise ProtocolError(exc.reason.removeprefix(f"{where}: "), where) from None
        if item.spec.action == "end" and index != last:
            raise ProtocolError(
                f"{command.name} is not the last command of its message (A2)", where
            )
        checked.append(item)
    return checked
