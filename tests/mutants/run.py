"""Run a sample implementation with one mutant's patch applied:

python tests/mutants/run.py MUTANT ARGS…     (ARGS as the sample client or server takes them)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.mutants import client_mutants, server_mutants  # noqa: F401  (they register)
from tests.mutants.registry import MUTANTS


def main() -> int:
    name, *args = sys.argv[1:]
    mutant = MUTANTS[name]
    mutant.patch()
    if mutant.role == "client":
        from conformance.samples.client import main as sample
    else:
        from conformance.samples.server import main as sample
    return sample(args)


if __name__ == "__main__":
    sys.exit(main())
