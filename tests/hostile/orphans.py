"""What the hostile `orphan` behaviours leave behind: two sleepers that ignore SIGTERM, one in the
DUT's process group and one in a session of its own (setsid), out of the group's reach. Standard
library only: the hostile scripts run it as a sibling module."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

SLEEPER = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(3600)\n"
)


def leave_orphans(marker: str, log: Callable[[str], None]) -> None:
    """Start both sleepers; return once each ignores SIGTERM."""
    for kind, new_session in (("orphan-same-group", False), ("orphan-setsid", True)):
        child = subprocess.Popen(
            [sys.executable, "-c", SLEEPER, marker, kind],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=new_session,
        )
        child.stdout.readline()  # it ignores SIGTERM from now on
        log(f"left {kind} child {child.pid}")
