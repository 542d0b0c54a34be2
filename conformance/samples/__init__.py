"""The bundled sample implementations: a conforming DM client and a conforming DM server built on
the core, runnable as the DUT file contract says. They are the suite's default implementations
under test and the baseline its faulty variants are made from."""

from importlib import resources
from pathlib import Path


def dut_file(role: str) -> Path:
    """The DUT file of the bundled sample for `role` (client or server)."""
    with resources.as_file(resources.files(__package__) / f"sample-{role}.yaml") as path:
        return path
