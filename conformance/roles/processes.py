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
import uuid
from pathlib import Path

STOP_GRACE_S = 2.0


TOKEN = "DM20_DUT_TOKEN"


def dut_environment(token: str) -> dict[str, str]:
    """The environment a DUT command runs in: the harness's, with the harness's Python first on
    PATH (so a DUT file's `python …` is the interpreter the harness runs under) and a token that
    every process it starts inherits, so the harness finds them all again."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    env[TOKEN] = token
    return env


def tagged(token: str) -> list[int]:
    """The processes whose environment carries `token` (Linux /proc; none elsewhere)."""
    needle = f"{TOKEN}={token}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


def kill_tagged(token: str) -> None:
    """SIGKILL every process that carries `token`."""
    for pid in tagged(token):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


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
        self.token = uuid.uuid4().hex
        try:
            self.proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dut_environment(self.token),
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
        """Stop it and everything it started: SIGTERM to its process group, a grace period, then
        SIGKILL to the group (children that ignore SIGTERM) and to every process that carries
        its token (children that left the group with setsid)."""
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            self.wait(STOP_GRACE_S)
        self._signal_group(signal.SIGKILL)
        kill_tagged(self.token)
        self.wait(STOP_GRACE_S)
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
