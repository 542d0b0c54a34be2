"""DUT files (../shared/dut-adapter.md): the implementation under test, its declared features
(the conformance statement), its ixit facts and the commands that run it. Commands are split
like a shell would split them, then placeholders are filled one word at a time: a value can never
become two arguments or run anything (no shell is involved). A client's hook may instead be a
manual instruction (`session: {manual: "…"}`) that an operator carries out; `tls` names the
certificate files of a run over TLS (paths relative to the DUT file)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.inputs import InputError, Problem, load_checked

DEFAULT_TIMEOUT_S = 10.0
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_NOT_COMMANDS = ("url", "timeout_s", "tls")


@dataclass(frozen=True)
class TlsFiles:
    """The `tls` of a DUT file's role section, paths resolved against the DUT file's folder.
    `ca_file` is the CA of the server's certificate: of the harness's own (role client: it is
    what `{ca_file}` names) or of the server under test (role server: what the harness verifies
    it against). `cert` and `key` are the certificate the harness presents: as the server (role
    client, instead of one from the run's test CA) or as the device (role server: mutual TLS)."""

    ca_file: Path | None = None
    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True)
class DutFile:
    """A loaded DUT file."""

    path: Path
    name: str
    version: str
    role: str
    profile: str
    features: tuple[str, ...]
    ixit: dict[str, Any] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)  # session, config_request, start, …
    manual: dict[str, str] = field(default_factory=dict)  # hooks an operator carries out
    tls: TlsFiles | None = None
    url: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    feature_lines: tuple[int | None, ...] = ()  # where each feature stands in the file

    @property
    def folder(self) -> Path:
        """Where its commands run."""
        return self.path.parent

    def declares(self, feature: str) -> bool:
        return feature in self.features

    def has(self, command: str) -> bool:
        """Whether the DUT file gives the hook `command`, as a command or a manual step."""
        return command in self.commands or command in self.manual

    def is_manual(self, command: str) -> bool:
        return command in self.manual

    def argv(self, command: str, values: Mapping[str, Any]) -> list[str]:
        """The argument vector of `command` (session, config_request, start, enqueue)."""
        return render(self.commands[command], values, f"{self.path}: {self.role}.{command}")

    def instruction(self, command: str, values: Mapping[str, Any]) -> str:
        """The manual step `command` for the operator, its placeholders filled in."""
        where = f"{self.path}: {self.role}.{command}.manual"
        return _PLACEHOLDER.sub(lambda m: _value(m, values, where), self.manual[command])

    def identity(self) -> dict[str, Any]:
        """What a report shows of it."""
        return {
            "name": self.name,
            "version": self.version,
            "role": self.role,
            "profile": self.profile,
            "features": list(self.features),
            "file": str(self.path),
        }


def bundled_dut(role: str) -> Path:
    """The DUT file of the bundled sample implementation of `role` (client or server)."""
    with resources.as_file(resources.files("conformance.samples") / f"sample-{role}.yaml") as path:
        return path


def render(template: str, values: Mapping[str, Any], where: str = "command") -> list[str]:
    """Split `template` into words, then fill `{name}` placeholders inside each word."""
    try:
        words = shlex.split(template)
    except ValueError as exc:
        raise ValueError(f"{where}: cannot split {template!r}: {exc}") from None

    return [_PLACEHOLDER.sub(lambda m: _value(m, values, where), word) for word in words]


def _value(match: re.Match[str], values: Mapping[str, Any], where: str) -> str:
    name = match.group(1)
    if name not in values:
        raise ValueError(
            f"{where}: unknown placeholder {{{name}}} (known: {', '.join(sorted(values))})"
        )
    return str(values[name])


def load_dut(path: Path | str) -> DutFile:
    """Load and check a DUT file; InputError names file, line and problem."""
    path = Path(path).resolve()
    document = load_checked(path, "dut")
    data = document.data
    role = data["role"]
    section = data[role]
    hooks = {k: v for k, v in section.items() if k not in _NOT_COMMANDS}
    commands = {k: v for k, v in hooks.items() if isinstance(v, str)}
    manual = {k: v["manual"] for k, v in hooks.items() if isinstance(v, dict)}
    problems = []
    for name, template in commands.items():
        try:
            shlex.split(template)
        except ValueError as exc:
            problems.append(document.problem((role, name), f"cannot split the command: {exc}"))
    tls = None
    if "tls" in section:
        found: dict[str, Path] = {}
        for key, value in section["tls"].items():
            file = (path.parent / value).resolve()
            if not file.is_file():
                problems.append(document.problem((role, "tls", key), f"no such file: {file}"))
            found[key] = file
        tls = TlsFiles(**found)
    if problems:
        raise InputError(problems)
    features = data["features"]
    return DutFile(
        path=path,
        name=data["name"],
        version=str(data["version"]),
        role=role,
        profile=data["profile"],
        features=tuple(features),
        ixit=dict(data.get("ixit", {})),
        commands=commands,
        manual=manual,
        tls=tls,
        url=section.get("url"),
        timeout_s=float(section.get("timeout_s", DEFAULT_TIMEOUT_S)),
        feature_lines=tuple(
            document.line_of(("features", i)) for i in range(len(data["features"]))
        ),
    )


def unknown_features(dut: DutFile, known: tuple[str, ...]) -> list[Problem]:
    """Features the DUT declares that its profile does not know (a typo in the statement)."""
    lines = dut.feature_lines or (None,) * len(dut.features)
    return [
        Problem(
            str(dut.path),
            line,
            f"features[{index}]",
            f"unknown feature {feature!r} (profile has {', '.join(known)})",
        )
        for index, (feature, line) in enumerate(zip(dut.features, lines, strict=True))
        if feature not in known
    ]
