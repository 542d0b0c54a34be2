"""Patched samples: the bundled sample client or server with one change applied in its process
before it starts. A faulty variant (tests/mutants/) breaks one requirement; a benign variant
(tests/variants/) uses one freedom the draft and the profile give. Both run through the DUT file
contract, as any implementation under test does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conformance.dut import bundled_dut
from conformance.samples.client import Http

RUN = Path(__file__).resolve().parent / "run_patched.py"


@dataclass(frozen=True)
class Patched:
    """A sample with one change: its name, role, the ID it concerns (the requirement a mutant
    breaks, the sentence or assumption that allows a variant), what it does, and the patch."""

    name: str
    role: str  # client | server
    basis: str
    description: str
    patch: Callable[[], None]

    @property
    def requirement(self) -> str:
        return self.basis


def registrar(table: dict[str, Patched]) -> Callable[[str, str, str, str], Callable]:
    """A decorator that registers patches in `table`: @register(name, role, basis, what)."""

    def register(name: str, role: str, basis: str, description: str) -> Callable:
        def add(patch: Callable[[], None]) -> Callable[[], None]:
            if name in table:
                raise ValueError(f"{name} is defined twice")
            table[name] = Patched(name, role, basis, description, patch)
            return patch

        return add

    return register


def write_dut(patched: Patched, folder: Path) -> Path:
    """A DUT file for the patched sample: the sample's, every command run through run_patched.py."""
    data = yaml.safe_load(bundled_dut(patched.role).read_text(encoding="utf-8"))
    sample = f"python -m conformance.samples.{patched.role}"
    section = data[patched.role]
    for key, value in section.items():
        if isinstance(value, str) and value.startswith(sample):
            section[key] = value.replace(sample, f"python '{RUN}' {patched.name}", 1)
    data["name"] = f"{data['name']} ({patched.name})"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{patched.name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def wrap_http_call(change: Callable[..., Any]) -> None:
    """Send every HTTP request of the sample client through
    `change(call, http, method, url, headers, body, chunked)`, `call` being the sample's own."""
    original = Http.call

    def call(
        self: Http,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        chunked: bool = False,
    ) -> Any:
        return change(original, self, method, url, headers, body, chunked)

    Http.call = call
