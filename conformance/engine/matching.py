"""Matching what arrived against what a case expects, Tavern-style: mappings match partially
(keys the case names must match, others may be there), lists match item by item, scalars match
equal. A mapping with one `$` key is a matcher: `{$regex: "^IMEI:"}`, `{$any: true}`,
`{$absent: true}`, `{$contains: "x"}`, `{$type: string}`, `{$len: 3}`, `{$exact: {...}}`, and
`{$in: [a, b]}` for a place where the draft allows several values (200 or 202, A10; with
`{$absent: true}` among them, the place may also be missing). Every mismatch names its place,
so a failure says where it parted."""

from __future__ import annotations

import re
from typing import Any

MISSING = object()
TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "number": (int, float),
    "integer": int,
    "boolean": bool,
    "object": dict,
    "array": list,
}


def _show(value: Any, limit: int = 200) -> str:
    """A value as a failure message quotes it: its repr, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def _matcher(expected: Any) -> tuple[str, Any] | None:
    if isinstance(expected, dict) and len(expected) == 1:
        [(key, value)] = expected.items()
        if isinstance(key, str) and key.startswith("$"):
            return key, value
    return None


def mismatches(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Every place `actual` departs from `expected`; empty when it matches."""
    place = where or "(top)"
    matcher = _matcher(expected)
    if matcher:
        return _apply(*matcher, actual, place)
    if actual is MISSING:
        return [f"{place}: missing (expected {_show(expected)})"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{place}: expected an object, got {_show(actual)}"]
        found = []
        for key, value in expected.items():
            found += mismatches(
                value, actual.get(key, MISSING), f"{where}.{key}" if where else str(key)
            )
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{place}: expected a list, got {_show(actual)}"]
        if len(actual) != len(expected):
            return [f"{place}: expected {len(expected)} items, got {len(actual)}: {_show(actual)}"]
        found = []
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found += mismatches(e, a, f"{where}[{index}]")
        return found
    if type(expected) is not type(actual) and not (
        isinstance(expected, int | float)
        and isinstance(actual, int | float)
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
    ):
        return [f"{place}: expected {_show(expected)}, got {_show(actual)}"]
    return (
        [] if expected == actual else [f"{place}: expected {_show(expected)}, got {_show(actual)}"]
    )


def _apply(name: str, value: Any, actual: Any, place: str) -> list[str]:
    if name == "$any":
        return [] if actual is not MISSING else [f"{place}: missing"]
    if name == "$absent":
        return [] if actual is MISSING else [f"{place}: expected absent, got {_show(actual)}"]
    if name == "$in":
        if not isinstance(value, list):
            return [f"{place}: $in takes a list of the values allowed"]
        if any(not mismatches(option, actual) for option in value):
            return []
        got = "nothing" if actual is MISSING else _show(actual)
        return [f"{place}: {got} is none of {_show(value)}"]
    if actual is MISSING:
        return [f"{place}: missing"]
    if name == "$regex":
        found = isinstance(actual, str) and re.search(value, actual) is not None
        return [] if found else [f"{place}: {_show(actual)} does not match /{value}/"]
    if name == "$contains":
        if isinstance(actual, str) and isinstance(value, str):
            return (
                []
                if value in actual
                else [f"{place}: {_show(actual)} does not contain {_show(value)}"]
            )
        if isinstance(actual, list):
            ok = any(not mismatches(value, item) for item in actual)
            return [] if ok else [f"{place}: no item matches {_show(value)} in {_show(actual)}"]
        return [f"{place}: cannot look for {_show(value)} in {_show(actual)}"]
    if name == "$type":
        if value not in TYPES:
            return [f"{place}: unknown $type {value!r} ({', '.join(TYPES)})"]
        typed = isinstance(actual, TYPES[value]) and not (
            value != "boolean" and isinstance(actual, bool)
        )
        return [] if typed else [f"{place}: expected a {value}, got {_show(actual)}"]
    if name == "$len":
        sized = hasattr(actual, "__len__") and len(actual) == value
        return [] if sized else [f"{place}: expected length {value}, got {_show(actual)}"]
    if name == "$exact":
        if exactly(value, actual):
            return []
        return [f"{place}: expected exactly {_show(value)}, got {_show(actual)}"]
    return [f"{place}: unknown matcher {name}"]


def _kind(value: Any) -> type:
    return float if isinstance(value, int | float) and not isinstance(value, bool) else type(value)


def exactly(expected: Any, actual: Any) -> bool:
    """Equal, with JSON's types kept apart (1 is not true, "1" is not 1) and no extra keys."""
    if _kind(expected) is not _kind(actual):
        return False
    if isinstance(expected, dict):
        return expected.keys() == actual.keys() and all(
            exactly(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(map(exactly, expected, actual))
    return bool(expected == actual)


MATCHERS = frozenset({"$any", "$absent", "$regex", "$contains", "$type", "$len", "$exact", "$in"})


def pick(value: Any, path: str) -> Any:
    """The part of `value` at a path like `statuses[0].uri[0]` (for `save`); KeyError if absent."""
    current = value
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        try:
            current = current[int(index)] if index else current[name]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"nothing at {path!r} (stopped at {name or index!r})") from None
    return current
