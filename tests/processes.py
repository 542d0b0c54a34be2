"""Subprocesses of the harness's own tests: each runs to its end in its own process group,
bounded in time (the group is killed when it overruns), and every one still running can be
stopped at once when a test session ends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_TIMEOUT_S = 600.0  # a bound on any one subprocess of these tests; none should come near it


@dataclass
class Ran:
    """A finished subprocess: what ran, where, its status and output."""

    argv: list[str]
    cwd: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float  # wall time, start to exit

    def tail(self, limit: int = 4000) -> str:
        """The end of its output, for assertion messages."""
        text = f"$ {' '.join(self.argv)}  (in {self.cwd}, exit {self.returncode})\n"
        return text + (self.stdout + "\n" + self.stderr)[-limit:]


_LIVE: set[subprocess.Popen[str]] = set()
_LIVE_LOCK = threading.Lock()


def run(
    argv: Sequence[str | Path],
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    timeout_s: float = RUN_TIMEOUT_S,
) -> Ran:
    """Run a command to its end in its own process group; kill the group if it overruns."""
    words = [str(a) for a in argv]
    started = time.monotonic()
    proc = subprocess.Popen(
        words,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    with _LIVE_LOCK:
        _LIVE.add(proc)
    try:
        out, err = proc.communicate(stdin, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        err += f"\n(killed: still running after {timeout_s} s)"
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(proc)
    return Ran(words, cwd, proc.returncode, out, err, time.monotonic() - started)


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL the process group a test started (by its id, nothing else)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def kill_live() -> None:
    """Stop every subprocess these helpers started that is still running."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        kill_group(proc)
