"""The JSON Schemas of the package, loaded once, and validation that reports where it failed.

Every schema gets two validators: jsonschema-rs answers "valid?" in microseconds (it runs on
every message and every case file), and only when the answer is no does the jsonschema reference
implementation find the errors and say where they are."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any

import jsonschema_rs

if TYPE_CHECKING:
    from conformance.profiles import Profile


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema `name` (e.g. "profile" for profile.schema.json), parsed."""
    text = (resources.files(__package__) / f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


class Checker:
    """A schema's two validators: the fast one decides, the precise one explains. The precise
    one (and the jsonschema import, a good part of a DUT process's start-up) is made only when
    something is wrong."""

    def __init__(
        self, schema: dict[str, Any], resources: dict[str, dict[str, Any]] | None = None
    ) -> None:
        self.schema = schema
        self.resources = resources or {}
        registry = jsonschema_rs.Registry(list(self.resources.items())) if self.resources else None
        self.fast = jsonschema_rs.validator_for(schema, registry=registry)

    @functools.cached_property
    def precise(self) -> Any:
        import jsonschema
        import referencing

        cls = jsonschema.validators.validator_for(self.schema)
        cls.check_schema(self.schema)
        registry = referencing.Registry().with_resources(
            (uri, referencing.Resource.from_contents(s)) for uri, s in self.resources.items()
        )
        return cls(self.schema, registry=registry)

    def errors(self, instance: Any) -> list[tuple[tuple[Any, ...], str]]:
        """Every way `instance` breaks the schema, as (path into the instance, message)."""
        if self.fast.is_valid(instance):
            return []
        return _explain(self.precise.iter_errors(instance))


@functools.cache
def validator(name: str) -> Checker:
    """The validators of the schema `name`."""
    return Checker(load_schema(name))


def schema_errors(
    instance: Any, name: str, checker: Checker | None = None
) -> list[tuple[tuple[Any, ...], str]]:
    """Every way `instance` breaks schema `name` (or the given checker's), as (path into the
    instance, message), sorted by path."""
    return (checker or validator(name)).errors(instance)


def _explain(errors: Iterable[Any]) -> list[tuple[tuple[Any, ...], str]]:
    from jsonschema.exceptions import best_match

    found = []
    for error in errors:
        best = best_match([error])
        path = tuple(best.absolute_path)
        if best.validator == "additionalProperties" and isinstance(best.instance, dict):
            allowed = best.schema.get("properties", {})
            patterns = best.schema.get("patternProperties", {})
            for key in best.instance:
                if key not in allowed and not patterns:
                    found.append(((*path, key), f"unknown key {key!r}"))
            continue
        if best.validator == "not" and best.validator_value == {} and path:
            found.append((path, f"key {path[-1]!r} is not allowed here"))
            continue
        if best.validator in ("maxItems", "minItems") and isinstance(best.instance, list):
            bound = "more" if best.validator == "maxItems" else "fewer"
            found.append((path, f"{len(best.instance)} items, {bound} than {best.validator_value}"))
            continue
        message = best.message
        found.append((path, message if len(message) <= 300 else message[:297] + "…"))
    return sorted(found, key=lambda item: [str(p) for p in item[0]])


def format_path(path: tuple[Any, ...]) -> str:
    """A JSON path as a reader writes it: steps[2].expect_request.headers."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\.([a-z_]+)\}")


def _fill(value: Any, lookup: Callable[[str, str], Any]) -> Any:
    if isinstance(value, dict):
        return {_fill(k, lookup): _fill(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, lookup) for v in value]
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return lookup(*whole.groups())
        return _PLACEHOLDER.sub(lambda m: str(lookup(*m.groups())), value)
    return value


_MESSAGE_SCHEMAS = ("command-message", "client-message", "tnds20", "alert")


@functools.cache
def message_validator(name: str, profile: Profile) -> Checker:
    """A validator for message schema `name` with the profile's names filled in: the schema files
    say `${keys.commands}` where the profile says `CMD`, so one schema serves every profile."""

    def lookup(section: str, key: str) -> Any:
        return getattr(profile, section)[key]

    filled = {n: _fill(load_schema(n), lookup) for n in _MESSAGE_SCHEMAS}
    return Checker(filled[name], {s["$id"]: s for s in filled.values()})
