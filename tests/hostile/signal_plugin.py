"""A pytest plugin for the harness under test (loaded with `-p tests.hostile.signal_plugin`): it
sends SIGINT to its own process right after the Nth case's verdict was reported
(DM20_HOSTILE_SIGNAL_AFTER=N), that is between a case's record and the end of its reporting, the
moment a Ctrl-C can always land on."""

from __future__ import annotations

import os
import signal

import pytest

AFTER = int(os.environ.get("DM20_HOSTILE_SIGNAL_AFTER", "0"))
seen = 0


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global seen
    if AFTER and report.when == "call":
        seen += 1
        if seen == AFTER:
            os.kill(os.getpid(), signal.SIGINT)
