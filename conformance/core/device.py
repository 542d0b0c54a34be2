"""A device as a DM client sees it: its identity, its tree, the servers DEFAULT remembered, the
optional features it has and the alerts it generated that no server has taken yet (seed 5.2).
Saved to and loaded from one JSON object (a sample client's state)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.core.messages import Alert
from conformance.core.tree import Tree


@dataclass
class Device:
    """The client's side of the world: what commands act on."""

    device_id: str
    devinfo: dict[str, Any]
    tree: Tree
    features: frozenset[str]
    defaults: dict[str, str] = field(default_factory=dict)  # MOID -> ServerURL (DEFAULT)
    undelivered: list[Alert] = field(default_factory=list)  # alerts no server has taken yet

    def to_json(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "devinfo": self.devinfo,
            "features": sorted(self.features),
            "defaults": dict(self.defaults),
            "undelivered": [vars(a) for a in self.undelivered],
            **self.tree.to_json(),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Device:
        return cls(
            device_id=value["device_id"],
            devinfo=value.get("devinfo", {}),
            tree=Tree.from_json(value),
            features=frozenset(value.get("features", ())),
            defaults=dict(value.get("defaults", {})),
            undelivered=[Alert(**a) for a in value.get("undelivered", [])],
        )
