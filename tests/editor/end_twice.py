"""The sample server with one change, for the what-if tests: the message that carries END
carries it twice (`[…, END, END]`). The first END is then not the last command of its message
(A2), while every command still reaches the device in the order it was queued (A15), so A2 alone
decides the verdict. Relax A2 and the server passes.

    python tests/editor/end_twice.py ARGS…     (ARGS as the sample server takes them)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from conformance.core.messages import Command
from conformance.core.server import Batches, DeviceSessions
from conformance.profiles import load_profile


def patch() -> None:
    end = Command(load_profile().for_action("end").name)
    original = DeviceSessions.next_batch

    def next_batch(self: DeviceSessions, batches: Batches) -> tuple[Command, ...]:
        batch = tuple(original(self, batches))
        return (*batch, end) if end in batch else batch

    DeviceSessions.next_batch = next_batch  # type: ignore[method-assign]


if __name__ == "__main__":
    patch()
    from conformance.samples.server import main

    sys.exit(main(sys.argv[1:]))
