"""Wire profiles: the data that says what goes on the wire (media types, headers, commands,
status codes, limits, assumptions, the profile's numbered rules). `load_profile("dm20-draft")`
reads the packaged file; a path loads a spec editor's own variant, which may name only what it
changes (`extends: dm20-draft`). Nothing else in the package writes these names as literals."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.inputs import Document, InputError, check_schema, load_yaml


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
    signature: str | None = None  # the catalog entry quoting its row of the seed 6.2 table

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
    rules: Section
    source: str
    extends: str | None = None  # the profile this one was derived from, if any
    relaxed: tuple[str, ...] = ()  # assumptions and rules whose checks the judge drops (what-if)

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

    def basis(self, basis_id: str) -> str | None:
        """The text of an assumption (A…) or of a numbered rule (P…) of this profile."""
        return self.assumptions.get(basis_id) or self.rules.get(basis_id)

    def status_name(self, code: int) -> str:
        """The profile's name for a status code ("not_found" for 404), or the number."""
        for name, value in self.status.items():
            if value == code:
                return name
        return str(code)


def _from_data(data: dict[str, Any], source: str, extends: str | None = None) -> Profile:
    commands = tuple(
        CommandSpec(
            name=c["name"],
            action=c["action"],
            feature=c.get("feature"),
            params=tuple(Param(**p) for p in c["params"]),
            statuses=tuple(c["statuses"]),
            status_uri=c.get("status_uri", False),
            signature=c.get("signature"),
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
        rules=Section(data["rules"]),
        source=source,
        extends=extends,
        relaxed=_relaxed(data),
    )


def _relaxed(data: dict[str, Any]) -> tuple[str, ...]:
    """The assumptions and rules a what-if profile relaxes; each must be one of the profile's."""
    relaxed = tuple(data.get("relaxed", ()))
    unknown = [b for b in relaxed if b not in data["assumptions"] and b not in data["rules"]]
    if unknown:
        raise ValueError(f"relaxed names no assumption or rule of the profile: {unknown}")
    return relaxed


def available_profiles() -> list[str]:
    """Names of the profiles shipped in the package."""
    folder = resources.files(__package__)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def merge(base: Any, change: Any) -> Any:
    """`base` with `change` laid over it: mappings merge key by key (a key set to null is
    removed), anything else is replaced."""
    if not isinstance(base, dict) or not isinstance(change, dict):
        return copy.deepcopy(change)
    out = copy.deepcopy(base)
    for key, value in change.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def _document(text: str, folder: Path | None = None) -> Document:
    """The YAML of a shipped profile (a name) or of a profile file (a path, relative to `folder`
    when it is given: the folder of the profile that extends it)."""
    if text.endswith((".yaml", ".yml")) or "/" in text:
        return load_yaml(
            (folder or Path.cwd()) / text if not Path(text).is_absolute() else Path(text)
        )
    resource = resources.files(__package__) / f"{text}.yaml"
    if not resource.is_file():
        raise ValueError(f"no profile named {text!r}; shipped: {', '.join(available_profiles())}")
    with resources.as_file(resource) as path:
        return load_yaml(path)


def _resolved(document: Document, seen: tuple[str, ...] = ()) -> Document:
    """The document with the profiles it `extends` laid under it, all the way down."""
    data = document.data
    base = data.get("extends") if isinstance(data, dict) else None
    if not isinstance(base, str):
        return document
    if base in seen:
        raise ValueError(f"{document.path}: profiles extend each other in a circle: {base}")
    lower = _resolved(_document(base, document.path.parent), (*seen, base))
    own = {k: v for k, v in data.items() if k != "extends"}
    return Document(document.path, merge(lower.data, own), {})


@functools.cache
def load_profile(name_or_path: str | Path = "dm20-draft") -> Profile:
    """The profile shipped under `name`, or the profile file at a path, validated. A file with
    `extends: NAME_OR_PATH` is that profile with the file's sections laid over it (`merge`)."""
    text = str(name_or_path)
    document = _document(text)
    data = document.data
    extends = data.get("extends") if isinstance(data, dict) else None
    resolved = _resolved(document)
    problems = check_schema(resolved, "profile")
    if problems:
        raise InputError(problems)
    source = text if resolved.path.parent == _shipped_folder() else str(resolved.path.resolve())
    return _from_data(resolved.data, source, extends if isinstance(extends, str) else None)


def _shipped_folder() -> Path:
    with resources.as_file(resources.files(__package__)) as path:
        return Path(path).resolve()
