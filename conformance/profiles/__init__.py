"""Wire profiles: the data that says what goes on the wire (media types, headers, commands,
status codes, limits, assumptions). `load_profile("dm20-draft")` reads the packaged file; a path
loads a spec editor's own variant. Nothing else in the package writes these names as literals."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.inputs import load_checked


@dataclass(frozen=True)
class Param:
    """One parameter of a command, in the order of seed 6.2."""

    name: str
    kind: str  # server_uri | client_uri | moid
    optional: bool = False
    repeat: bool = False


@dataclass(frozen=True)
class CommandSpec:
    """A command of the profile: its wire name, the action that executes it, its parameters."""

    name: str
    action: str
    params: tuple[Param, ...]
    statuses: tuple[str, ...]
    feature: str | None = None
    status_uri: bool = False

    @property
    def min_params(self) -> int:
        return sum(1 for p in self.params if not p.optional)

    @property
    def max_params(self) -> int | None:
        return None if any(p.repeat for p in self.params) else len(self.params)

    def arity_text(self) -> str:
        low, high = self.min_params, self.max_params
        if high is None:
            return f"at least {low} parameter{'s' if low != 1 else ''}"
        if low == high:
            return f"{low} parameter{'s' if low != 1 else ''}"
        return f"{low} to {high} parameters"

    def param_at(self, index: int) -> Param:
        """The parameter spec for position `index` (a repeating last parameter covers the rest)."""
        return self.params[min(index, len(self.params) - 1)]


class Section(Mapping[str, Any]):
    """A read-only mapping whose entries also read as attributes: profile.media.command."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        shadowed = [key for key in data if hasattr(Mapping, key)]
        if shadowed:
            raise ValueError(f"profile keys {shadowed} clash with mapping methods; rename them")
        self._data = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __hash__(self) -> int:
        return id(self)


@dataclass(frozen=True, eq=False)  # one object per loaded profile: identity is equality
class Profile:
    """A loaded wire profile. Sections read as attributes: `profile.headers.device_id`."""

    name: str
    title: str
    media: Section
    headers: Section
    accept: Section
    keys: Section
    first_message_only: tuple[str, ...]
    commands: tuple[CommandSpec, ...]
    status: Section
    http_ok: int
    client_uri: Section
    alerts: Section
    default_query: Section
    limits: Section
    assumptions: Section
    source: str

    def command(self, name: str) -> CommandSpec | None:
        """The command with wire name `name`, or None if the profile has no such command."""
        return self._by_name.get(name)

    def for_action(self, action: str) -> CommandSpec:
        """The command that performs `action` (get, put, …, end)."""
        return self._by_action[action]

    @functools.cached_property
    def _by_name(self) -> dict[str, CommandSpec]:
        return {c.name: c for c in self.commands}

    @functools.cached_property
    def _by_action(self) -> dict[str, CommandSpec]:
        return {c.action: c for c in self.commands}

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature a DUT can declare: the gated commands."""
        return tuple(c.feature for c in self.commands if c.feature)

    def status_name(self, code: int) -> str:
        """The profile's name for a status code ("not_found" for 404), or the number."""
        for name, value in self.status.items():
            if value == code:
                return name
        return str(code)


def _from_data(data: dict[str, Any], source: str) -> Profile:
    commands = tuple(
        CommandSpec(
            name=c["name"],
            action=c["action"],
            feature=c.get("feature"),
            params=tuple(Param(**p) for p in c["params"]),
            statuses=tuple(c["statuses"]),
            status_uri=c.get("status_uri", False),
        )
        for c in data["commands"]
    )
    return Profile(
        name=data["name"],
        title=data["title"],
        media=Section(data["media_types"]),
        headers=Section(data["headers"]),
        accept=Section(data["accept"]),
        keys=Section(data["keys"]),
        first_message_only=tuple(data["first_message_only"]),
        commands=commands,
        status=Section(data["status_codes"]),
        http_ok=data["http_ok"],
        client_uri=Section(data["client_uri"]),
        alerts=Section(data["alerts"]),
        default_query=Section(data["default_query"]),
        limits=Section(data["limits"]),
        assumptions=Section(data["assumptions"]),
        source=source,
    )


def available_profiles() -> list[str]:
    """Names of the profiles shipped in the package."""
    folder = resources.files(__package__)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


@functools.cache
def load_profile(name_or_path: str | Path = "dm20-draft") -> Profile:
    """The profile shipped under `name`, or the profile file at a path (validated)."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        document = load_checked(Path(text), "profile")
        return _from_data(document.data, str(Path(text).resolve()))
    resource = resources.files(__package__) / f"{text}.yaml"
    if not resource.is_file():
        raise ValueError(f"no profile named {text!r}; shipped: {', '.join(available_profiles())}")
    with resources.as_file(resource) as path:
        document = load_checked(path, "profile")
    return _from_data(document.data, text)
