"""The mutant registry: a name, the role, the requirement it breaks, and the patch that breaks it.
A patch runs inside the DUT process (run.py), before the sample starts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from conformance.samples import dut_file

RUN = Path(__file__).resolve().parent / "run.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    role: str  # client | server
    requirement: str  # the catalog ID it breaks
    description: str
    patch: Callable[[], None]


MUTANTS: dict[str, Mutant] = {}


def mutant(name: str, role: str, requirement: str, description: str) -> Callable:
    """Register the decorated function as the patch of a mutant."""

    def register(patch: Callable[[], None]) -> Callable[[], None]:
        if name in MUTANTS:
            raise ValueError(f"mutant {name} is defined twice")
        MUTANTS[name] = Mutant(name, role, requirement, description, patch)
        return patch

    return register


def write_dut(mutant: Mutant, folder: Path) -> Path:
    """A DUT file for the mutant: the sample's, with every command run through run.py."""
    data = yaml.safe_load(dut_file(mutant.role).read_text(encoding="utf-8"))
    sample = f"python -m conformance.samples.{mutant.role}"
    section = data[mutant.role]
    for key, value in section.items():
        if isinstance(value, str) and value.startswith(sample):
            section[key] = value.replace(sample, f"python '{RUN}' {mutant.name}", 1)
    data["name"] = f"{data['name']} (mutant {mutant.name})"
    path = folder / f"{mutant.name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
