"""The server under test, for a whole run: started once through the DUT file's `start` command on
a free loopback port, or reached at its fixed `url` (a deployed server: no `start`, maybe HTTPS
on another host), waited for until the port answers, driven through its `enqueue` hook, and
stopped at the end whatever happened. Over HTTPS its certificate is verified against the DUT
file's `server.tls.ca_file` (else the system's CAs), with `tls.cert`/`tls.key` as the simulated
device's certificate for mutual TLS."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from conformance.dut import DutFile
from conformance.roles.http import ClientTls, client_context
from conformance.roles.processes import DutProcess, run_to_end


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_answers(host: str, port: int, timeout_s: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


class ServerUnderTest:
    """The DUT server of a run. `error` says why it is not usable, if it is not."""

    def __init__(self, dut: DutFile, workdir: Path, timeout_s: float) -> None:
        self.dut = dut
        self.workdir = workdir
        self.timeout_s = timeout_s
        self.process: DutProcess | None = None
        self.error: str | None = None
        self.port: int | None = None
        self.url = ""
        files = dut.tls
        self.tls = ClientTls(files.ca_file, files.cert, files.key) if files else None

    def trusting(self) -> str:
        """What its certificate is verified against, in words."""
        tls = self.tls or ClientTls()
        where = f", server.tls.ca_file of {self.dut.path.name}" if tls.ca_file else ""
        return tls.trusting() + where

    def start(self) -> None:
        """Start it (when the DUT file says how) and wait until it answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        template = self.dut.url or ""
        try:
            client_context(self.tls)
        except ValueError as exc:
            self.error = str(exc)
            self.tls = None
            return
        if not self.dut.has("start"):
            self.url = template
            if "{port}" in template:
                self.error = "server.url has {port} but there is no server.start to choose one"
            return
        self.port = free_port()
        while port_answers("127.0.0.1", self.port):  # another program took it meanwhile
            self.port = free_port()
        state = self.workdir / "state"
        state.mkdir(exist_ok=True)
        self.url = template.replace("{port}", str(self.port))
        argv = self.dut.argv("start", {"port": self.port, "state_dir": state})
        try:
            self.process = DutProcess(argv, self.dut.folder, self.workdir / "server.log")
        except OSError as exc:
            self.error = f"cannot start {argv[0]!r}: {exc}"
            return
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if port_answers("127.0.0.1", self.port):
                return
            if self.process.poll() is not None:
                self.error = (
                    f"the server exited with status {self.process.poll()} before it answered"
                )
                return
            time.sleep(0.05)
        self.error = f"the server did not answer on port {self.port} within {self.timeout_s} s"

    def output(self) -> str:
        return self.process.output() if self.process else ""

    def exited(self) -> int | None:
        """The exit status of the server the harness started, if it is no longer running."""
        return self.process.poll() if self.process is not None else None

    def enqueue(self, device_id: str, commands: list[list[str]], log: Path) -> str | None:
        """Queue commands for a device; the problem, or None when the hook succeeded."""
        values = {"port": self.port or "", "state_dir": self.workdir / "state"}
        payload = json.dumps({"device_id": device_id, "commands": commands}).encode()
        try:
            status, output = run_to_end(
                self.dut.argv("enqueue", values), self.dut.folder, log, self.timeout_s, payload
            )
        except OSError as exc:
            return f"cannot run the enqueue hook: {exc}"
        if status != 0:
            why = "did not finish in time" if status is None else f"exited with status {status}"
            return f"the enqueue hook {why}: {output.strip()[-500:]}"
        return None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
