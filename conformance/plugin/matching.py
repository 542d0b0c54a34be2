"""Matching what arrived against what a case expects, Tavern-style: mappings match partially
(keys the case names must match, others may be there), lists match item by item, scalars match
equal. A mapping with one `$` key is a matcher: `{$regex: "^IMEI:"}`, `{$any: true}`,
`{$absent: true}`, `{$contains: "x"}`, `{$type: string}`, `{$len: 3}`, `{$exact: {...}}`.
Every mismatch names its place, so a failure says where it parted."""

from __future__ import annotations

import re
from typing import Any

MISSING = object()
TYPES = {
    "string": str,
    "number": (int, float),
    "integer": int,
    "boolean": bool,
    "object": dict,
    "array": list,
}


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
        return [f"{place}: missing (expected {expected!r})"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{place}: expected an object, got {actual!r}"]
        found = []
        for key, value in expected.items():
            found += mismatches(
                value, actual.get(key, MISSING), f"{where}.{key}" if where else str(key)
            )
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{place}: expected a list, got {actual!r}"]
        if len(actual) != len(expected):
            return [f"{place}: expected {len(expected)} items, got {len(actual)}: {actual!r}"]
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
        return [f"{place}: expected {expected!r}, got {actual!r}"]
    return [] if expected == actual else [f"{place}: expected {expected!r}, got {actual!r}"]


def _apply(name: str, value: Any, actual: Any, place: str) -> list[str]:
    if name == "$any":
        return [] if actual is not MISSING else [f"{place}: missing"]
    if name == "$absent":
        return [] if actual is MISSING else [f"{place}: expected absent, got {actual!r}"]
    if actual is MISSING:
        return [f"{place}: missing"]
    if name == "$regex":
        ok = isinstance(actual, str) and re.search(value, actual)
        return [] if ok else [f"{place}: {actual!r} does not match /{value}/"]
    if name == "$contains":
        if isinstance(actual, str) and isinstance(value, str):
            return [] if value in actual else [f"{place}: {actual!r} does not contain {value!r}"]
        if isinstance(actual, list):
            ok = any(not mismatches(value, item) for item in actual)
            return [] if ok else [f"{place}: no item matches {value!r} in {actual!r}"]
        return [f"{place}: cannot look for {value!r} in {actual!r}"]
    if name == "$type":
        ok = isinstance(actual, TYPES[value]) and not (
            value != "boolean" and isinstance(actual, bool)
        )
        return [] if ok else [f"{place}: expected a {value}, got {actual!r}"]
    if name == "$len":
        ok = hasattr(actual, "__len__") and len(actual) == value
        return [] if ok else [f"{place}: expected length {value}, got {actual!r}"]
    if name == "$exact":
        if actual == value:
            return []
        return [f"{place}: expected exactly {value!r}, got {actual!r}"]
    return [f"{place}: unknown matcher {name}"]


MATCHERS = frozenset({"$any", "$absent", "$regex", "$contains", "$type", "$len", "$exact"})


def pick(value: Any, path: str) -> Any:
    """The part of `value` at a path like `statuses[0].uri[0]` (for `save`); KeyError if absent."""
    current = value
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        try:
            current = current[int(index)] if index else current[name]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"nothing at {path!r} (stopped at {name or index!r})") from None
    return current
