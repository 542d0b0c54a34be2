"""The variant registry: benign variants of the samples, each differing from the sample in exactly
one way the draft and the profile allow, named by the sentence or assumption that allows it."""

from __future__ import annotations

from tests.patched import Patched, registrar, write_dut

Variant = Patched
VARIANTS: dict[str, Patched] = {}
variant = registrar(VARIANTS)

__all__ = ["VARIANTS", "Variant", "variant", "write_dut"]
