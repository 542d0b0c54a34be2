"""Placeholders in test cases: `{ixit.writable_moid}` (the DUT file), `{device.exec_uri}` (the
simulated device of server-role cases), `{server_url}`, `{status.not_found}`, saved values. A
lookup in a table of values, never an evaluation: there is no attribute access,
indexing or formatting, so a case cannot run code. `{{` and `}}` stand for literal braces."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.profiles import Profile

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


class SubstitutionError(KeyError):
    """A placeholder names nothing known."""

    def __str__(self) -> str:
        return str(self.args[0])


def placeholders(value: Any) -> set[str]:
    """Every placeholder name used anywhere in `value` (keys included)."""
    found: set[str] = set()
    if isinstance(value, str):
        found |= {m.group(1) for m in PLACEHOLDER.finditer(value) if m.group(1)}
    elif isinstance(value, dict):
        for key, item in value.items():
            found |= placeholders(key) | placeholders(item)
    elif isinstance(value, list):
        for item in value:
            found |= placeholders(item)
    return found


def placeholder_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[str, tuple[Any, ...]]]:
    """Every placeholder name in `value` with the path of the value that holds it."""
    found: list[tuple[str, tuple[Any, ...]]] = []
    if isinstance(value, str):
        found += [(m.group(1), path) for m in PLACEHOLDER.finditer(value) if m.group(1)]
    elif isinstance(value, dict):
        for key, item in value.items():
            found += placeholder_paths(key, (*path, key)) + placeholder_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += placeholder_paths(item, (*path, index))
    return found


def substitute(value: Any, names: Mapping[str, Any]) -> Any:
    """`value` with every placeholder replaced from `names` (dotted keys, e.g. "ixit.device_id").
    A string that is one placeholder and nothing else takes the value's own type (an int stays an
    int); elsewhere the value is written into the string."""
    if isinstance(value, dict):
        return {substitute(k, names): substitute(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    if not isinstance(value, str):
        return value
    whole = PLACEHOLDER.fullmatch(value)
    if whole and whole.group(1):
        return _lookup(whole.group(1), names)

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "{{":
            return "{"
        if match.group(0) == "}}":
            return "}"
        return str(_lookup(match.group(1), names))

    return PLACEHOLDER.sub(replace, value)


def _lookup(name: str, names: Mapping[str, Any]) -> Any:
    if name not in names:
        known = ", ".join(sorted(n for n in names if "." not in n or n.startswith("ixit.")))
        raise SubstitutionError(f"unknown placeholder {{{name}}} (known: {known})")
    return names[name]


def flatten(prefix: str, mapping: Mapping[str, Any]) -> dict[str, Any]:
    """{"a": 1} under prefix "ixit" -> {"ixit.a": 1}."""
    return {f"{prefix}.{key}": value for key, value in mapping.items()}


def profile_names(profile: Profile) -> dict[str, Any]:
    """The `{profile.*}` and `{status.*}` placeholders a case may use, with their values."""
    names: dict[str, Any] = {}
    for section in ("media", "headers", "keys", "alerts"):
        names.update(flatten(f"profile.{section}", getattr(profile, section)))
    names.update(flatten("status", profile.status))
    return names
