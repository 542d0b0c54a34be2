"""The DM tree of a device: root → MOID → instance → nodes. Interior nodes are dicts, leaves are
strings, numbers or booleans. Beside the values the tree knows which nodes are permanent (DELETE
gets 405, A9), which are executable (EXEC), and which MOs the server has no access right to
(403; left out of `*`, A7). Failures are CommandFailure with the profile's status name."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from conformance.core.errors import CommandFailure
from conformance.core.uri import ClientURI
from conformance.profiles import Profile


def prune(value: Any, levels: int | None) -> Any:
    """`value` with at most `levels` levels of children (deeper interior nodes become {})."""
    if not isinstance(value, dict):
        return value
    if levels is None:
        return copy.deepcopy(value)
    if levels == 0:
        return {}
    return {name: prune(child, levels - 1) for name, child in value.items()}


def _is_within(path: tuple[str, ...], other: tuple[str, ...]) -> bool:
    return path[: len(other)] == other


class Tree:
    """A device's management tree and the properties of its nodes."""

    def __init__(
        self,
        data: dict[str, dict[str, Any]] | None = None,
        *,
        permanent: Iterable[str] = (),
        executable: Iterable[str] = (),
        private: Iterable[str] = (),
        separator: str = "/",
    ) -> None:
        self.data: dict[str, dict[str, Any]] = copy.deepcopy(data or {})
        self.sep = separator
        self.permanent = {tuple(p.split(separator)) for p in permanent}
        self.executable = {tuple(p.split(separator)) for p in executable}
        self.private = set(private)

    # -- persistence ---------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The tree and its node properties as one JSON-ready object."""
        join = self.sep.join
        return {
            "tree": copy.deepcopy(self.data),
            "permanent": sorted(join(p) for p in self.permanent),
            "executable": sorted(join(p) for p in self.executable),
            "private": sorted(self.private),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any], separator: str = "/") -> Tree:
        return cls(
            value.get("tree", {}),
            permanent=value.get("permanent", ()),
            executable=value.get("executable", ()),
            private=value.get("private", ()),
            separator=separator,
        )

    # -- reading -------------------------------------------------------------------------------
    def _check_access(self, uri: ClientURI) -> None:
        if uri.moid in self.private:
            raise CommandFailure("forbidden", f"no access right to {uri.moid}")

    def _walk(self, nodes: tuple[str, ...]) -> Any:
        moid, *rest = nodes
        if moid not in self.data:
            raise CommandFailure("not_found", f"no MO {moid}")
        value: Any = self.data[moid]
        for depth, name in enumerate(rest):
            if not isinstance(value, dict) or name not in value:
                raise CommandFailure("not_found", f"no node {self.sep.join(nodes[: depth + 2])}")
            value = value[name]
        return value

    def exists(self, uri: ClientURI) -> bool:
        try:
            self._walk(uri.nodes())
        except CommandFailure:
            return False
        return True

    def instances(self) -> list[tuple[str, str]]:
        """Every (MOID, instance) the server has access right to, in tree order."""
        return [
            (moid, instance)
            for moid, mo in self.data.items()
            if moid not in self.private
            for instance in mo
        ]

    def extract(self, uri: ClientURI, profile: Profile) -> dict[str, Any]:
        """The tnds20 entries for `uri`: one for a ClientURI, one per accessible instance for `*`
        (A7), each pruned to `Levels`."""
        if uri.wildcard:
            return {
                self.sep.join((moid, instance)): prune(self.data[moid][instance], uri.levels)
                for moid, instance in self.instances()
            }
        self._check_access(uri)
        return {uri.target(profile): prune(self._walk(uri.nodes()), uri.levels)}

    # -- writing -------------------------------------------------------------------------------
    def replace(self, uri: ClientURI, value: Any) -> None:
        """Store `value` at `uri`, replacing whatever is there; the parent must exist."""
        self._check_access(uri)
        *parent_path, name = uri.nodes()
        parent = self._walk(tuple(parent_path))
        if not isinstance(parent, dict):
            raise CommandFailure("not_found", f"{self.sep.join(parent_path)} is a leaf")
        parent[name] = copy.deepcopy(value)

    def new_instance(self, moid: str, value: Any) -> str:
        """Store `value` as a new instance of `moid`; return the instance ID chosen."""
        if moid in self.private:
            raise CommandFailure("forbidden", f"no access right to {moid}")
        if moid not in self.data:
            raise CommandFailure("not_found", f"no MO {moid}")
        mo = self.data[moid]
        number = 0
        while str(number) in mo:
            number += 1
        mo[str(number)] = copy.deepcopy(value)
        return str(number)

    def delete(self, uri: ClientURI) -> None:
        """Delete the node at `uri` and all its children."""
        self._check_access(uri)
        nodes = uri.nodes()
        self._walk(nodes)
        if any(_is_within(nodes, p) or _is_within(p, nodes) for p in self.permanent):
            raise CommandFailure("not_allowed", f"{self.sep.join(nodes)} is a permanent node")
        *parent_path, name = nodes
        del self._walk(tuple(parent_path))[name]

    def check_executable(self, uri: ClientURI) -> None:
        """Raise unless the node at `uri` exists and can be executed."""
        self._check_access(uri)
        self._walk(uri.nodes())
        if uri.nodes() not in self.executable:
            raise CommandFailure("not_allowed", f"{self.sep.join(uri.nodes())} is not executable")
