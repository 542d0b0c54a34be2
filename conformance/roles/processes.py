"""Processes of the implementation under test: started without a shell in their own process
group (so a child they leave behind is stopped with them), output kept in files, every wait
bounded, stopped with terminate then kill."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STOP_GRACE_S = 2.0


def dut_environment() -> dict[str, str]:
    """The environment a DUT command runs in: the harness's, with the harness's Python first on
    PATH, so a DUT file's `python …` is the interpreter the harness runs under."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


class DutProcess:
    """One running command of the DUT; its output goes to `log` (a file, never a pipe that a
    chatty process could fill and block on)."""

    def __init__(
        self, argv: list[str], cwd: Path, log: Path, stdin_data: bytes | None = None
    ) -> None:
        self.argv = argv
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._out = log.open("ab")
        self.started = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dut_environment(),
                stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                stdout=self._out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError:
            self._out.close()
            raise
        if stdin_data is not None and self.proc.stdin is not None:
            try:
                self.proc.stdin.write(stdin_data)
                self.proc.stdin.close()
            except BrokenPipeError:
                pass

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self) -> int | None:
        return self.proc.poll()

    def wait(self, timeout_s: float) -> int | None:
        """The exit status, or None if it is still running after `timeout_s`."""
        try:
            return self.proc.wait(timeout=max(timeout_s, 0))
        except subprocess.TimeoutExpired:
            return None

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def stop(self) -> int | None:
        """Stop it and everything it started: SIGTERM to the group, then SIGKILL."""
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            if self.wait(STOP_GRACE_S) is None:
                self._signal_group(signal.SIGKILL)
                self.wait(STOP_GRACE_S)
        else:
            self._signal_group(signal.SIGKILL)  # children it left behind
        self._out.close()
        return self.proc.returncode

    def output(self, limit: int = 4000) -> str:
        """The last `limit` characters it printed."""
        if not self._out.closed:
            self._out.flush()
        try:
            data = self.log.read_bytes()
        except OSError:
            return ""
        text = data[-limit:].decode("utf-8", "replace")
        return ("…" if len(data) > limit else "") + text


def run_to_end(
    argv: list[str], cwd: Path, log: Path, timeout_s: float, stdin_data: bytes | None = None
) -> tuple[int | None, str]:
    """Run a short command (e.g. the enqueue hook) to its end within `timeout_s`: (exit status or
    None if it had to be stopped, its output)."""
    process = DutProcess(argv, cwd, log, stdin_data)
    status = process.wait(timeout_s)
    process.stop()
    return status, process.output()
