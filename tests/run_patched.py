"""Run a sample implementation with one patch (a mutant's or a variant's) applied:

python tests/run_patched.py NAME ARGS…     (ARGS as the sample client or server takes them)
"""

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.mutants.registry import MUTANTS
from tests.variants.registry import VARIANTS


def main() -> int:
    name, *args = sys.argv[1:]
    role = name.split("-", 1)[0]  # only the patches of that role are imported: they register
    importlib.import_module(f"tests.mutants.{role}_mutants")
    importlib.import_module(f"tests.variants.{role}_variants")
    patched = MUTANTS.get(name) or VARIANTS[name]
    patched.patch()
    if patched.role == "client":
        from conformance.samples.client import main as sample
    else:
        from conformance.samples.server import main as sample
    return sample(args)


if __name__ == "__main__":
    sys.exit(main())
