"""The mutant registry: faulty variants of the samples, each breaking one requirement (or one
assumption of the profile) the way a real implementation might."""

from __future__ import annotations

from tests.patched import Patched, registrar, write_dut

Mutant = Patched
MUTANTS: dict[str, Patched] = {}
mutant = registrar(MUTANTS)

__all__ = ["MUTANTS", "Mutant", "mutant", "write_dut"]
