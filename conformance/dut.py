"""DUT files (../shared/dut-adapter.md): the implementation under test, its declared features
(the conformance statement), its ixit facts and the commands that run it. Commands are split
like a shell would split them, then placeholders are filled one word at a time: a value can never
become two arguments or run anything (no shell is involved)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.inputs import InputError, Problem, load_checked

DEFAULT_TIMEOUT_S = 10.0
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


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
        return command in self.commands

    def argv(self, command: str, values: Mapping[str, Any]) -> list[str]:
        """The argument vector of `command` (session, config_request, start, enqueue)."""
        return render(self.commands[command], values, f"{self.path}: {self.role}.{command}")

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


def render(template: str, values: Mapping[str, Any], where: str = "command") -> list[str]:
    """Split `template` into words, then fill `{name}` placeholders inside each word."""
    try:
        words = shlex.split(template)
    except ValueError as exc:
        raise ValueError(f"{where}: cannot split {template!r}: {exc}") from None

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ValueError(
                f"{where}: unknown placeholder {{{name}}} (known: {', '.join(sorted(values))})"
            )
        return str(values[name])

    return [_PLACEHOLDER.sub(fill, word) for word in words]


def load_dut(path: Path | str) -> DutFile:
    """Load and check a DUT file; InputError names file, line and problem."""
    path = Path(path).resolve()
    document = load_checked(path, "dut")
    data = document.data
    role = data["role"]
    section = data[role]
    commands = {k: v for k, v in section.items() if k not in ("url", "timeout_s")}
    problems = []
    for name, template in commands.items():
        try:
            shlex.split(template)
        except ValueError as exc:
            problems.append(document.problem((role, name), f"cannot split the command: {exc}"))
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
