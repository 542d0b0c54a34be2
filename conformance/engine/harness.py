"""The harness of one run, without pytest: its options, the profile and catalog, the DUT of each
role, the server under test (started on first use, stopped at the end), a work folder per case,
whether a case applies to its DUT, and `run_case`, which runs one case (one parameter set)
through the runner of its role and returns its record."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.catalog import Catalog, load_catalog
from conformance.dut import DutFile, bundled_dut, load_dut
from conformance.engine.applicability import applicability, not_applicable
from conformance.engine.client_role import ClientRoleRun
from conformance.engine.events import Listener, Listeners
from conformance.engine.model import Case
from conformance.engine.operator import Operator, StdTerminal, Terminal
from conformance.engine.records import CaseRecord
from conformance.engine.runner import Settings
from conformance.engine.server_role import ServerRoleRun
from conformance.profiles import Profile, load_profile
from conformance.roles.network import (
    Network,
    certificate_hosts,
    network_for,
    run_ca,
    vendor_tls,
)
from conformance.roles.server_under_test import ServerUnderTest


@dataclass
class Options:
    """How a run is set up (the plugin fills it from pytest's options, a test directly)."""

    dut: Path | None = None
    profile: str | None = None
    timeout_s: float | None = None
    reports: Path | None = None
    worker: str = "main"
    listen: str | None = None  # HOST[:PORT] the reference server binds (--dm-listen)
    advertise: str | None = None  # base URL handed to the device (--dm-advertise)
    tls: bool = False  # the reference server speaks HTTPS (--dm-tls)
    operator: bool | None = None  # someone carries out manual steps (--dm-operator); None: a TTY?
    terminal: Terminal | None = None  # where prompts go (default: standard input and output)


@dataclass
class Harness:
    """Everything the cases of one run share."""

    options: Options = field(default_factory=Options)

    def __post_init__(self) -> None:
        options = self.options
        self.given: DutFile | None = load_dut(options.dut) if options.dut else None
        self.profile: Profile = load_profile(
            options.profile or (self.given.profile if self.given else "dm20-draft")
        )
        self.catalog: Catalog = load_catalog()
        self._reports = options.reports / "work" / options.worker if options.reports else None
        self._scratch: Path | None = None  # a temporary work folder, removed at the end
        self._duts: dict[str, DutFile] = {}
        self.stop = threading.Event()  # set by a signal: finish the running case, then stop
        self._server: ServerUnderTest | None = None
        parallel = options.worker.startswith("gw")  # a worker of pytest-xdist (-n)
        self.network: Network = network_for(options.listen, options.advertise, options.tls)
        if self.network.fixed_port and parallel:
            raise ValueError(
                f"--dm-listen with a fixed port ({self.network.port}) serves one case at a time: "
                "it cannot be shared by parallel workers (-n)"
            )
        self._tls_pending = False  # the run's test CA is made when the first client case runs
        if options.tls:
            self._set_up_tls()
        self.operator = Operator(
            options.terminal or StdTerminal(), options.operator, parallel=parallel
        )

    def dut_for(self, role: str) -> DutFile:
        """The DUT of `role`: the one given, or the bundled sample."""
        if self.given is not None and self.given.role == role:
            return self.given
        if role not in self._duts:
            self._duts[role] = load_dut(bundled_dut(role))
        return self._duts[role]

    def applies(self, role: str) -> bool:
        """Whether cases of `role` run at all (with a DUT given, only the DUT's role does)."""
        return self.given is None or self.given.role == role

    def timeout_for(self, dut: DutFile) -> float:
        return self.options.timeout_s or dut.timeout_s

    def not_applicable(self, case: Case) -> str | None:
        """Why `case` does not apply to its DUT (or needs an operator no one is there to be),
        or None when it does."""
        dut = self.dut_for(case.role)
        reason = applicability(case, dut)
        if reason or case.role != "client":
            return reason
        manual = sorted(h for h in case.hooks_needed() | {"session"} if dut.is_manual(h))
        absent = self.operator.absent() if manual else None
        if absent:
            steps = " and ".join(f"client.{h}" for h in manual)
            return f"{steps} of {dut.path.name} is a manual step, and {absent}"
        return None

    def _set_up_tls(self) -> None:
        """The reference server's TLS (--dm-tls): the DUT file's certificate (client.tls, checked
        now) or one from a test CA made for the run when the first client case runs."""
        files = self.dut_for("client").tls
        if files is not None and files.cert is not None and files.key is not None:
            self.network.tls = vendor_tls(files.cert, files.key, files.ca_file)
        else:
            self._tls_pending = True

    def client_network(self) -> Network:
        """Where the reference server listens; with --dm-tls and no certificate of the DUT
        file's, the run's test CA is made on first use and its certificate written to the work
        folder (`{ca_file}`)."""
        if self._tls_pending:
            self.network.tls = run_ca(self.work / "tls", certificate_hosts(self.network))
            self._tls_pending = False
        return self.network

    @property
    def work(self) -> Path:
        """Where cases keep their state and logs: the run's reports, else a temporary folder."""
        if self._reports is not None:
            return self._reports
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="dm20-"))
        return self._scratch

    def workdir(self, name: str) -> Path:
        """A fresh folder for one case's state and logs."""
        path = self.work / re.sub(r"[^A-Za-z0-9_.=-]+", "_", name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def server_under_test(self) -> ServerUnderTest:
        """The run's DUT server, started on first use."""
        if self._server is None:
            dut = self.dut_for("server")
            self._server = ServerUnderTest(
                dut, self.work / "server-under-test", self.timeout_for(dut)
            )
            self._server.start()
        return self._server

    def run_case(
        self,
        case: Case,
        params: dict[str, Any],
        name: str,
        listeners: Iterable[Listener] = (),
    ) -> CaseRecord:
        """Run one case with one parameter set; its record (NOT APPLICABLE, with the reason,
        when the DUT lacks what the case needs)."""
        reason = self.not_applicable(case)
        if reason:
            return not_applicable(case, name, reason)
        dut = self.dut_for(case.role)
        settings = Settings(
            dut,
            self.profile,
            self.catalog,
            self.workdir(name),
            self.timeout_for(dut),
            self.stop,
            Listeners(listeners),
            network=self.client_network() if case.role == "client" else Network(),
            operator=self.operator,
            case_name=name,
        )
        if case.role == "client":
            run: ClientRoleRun | ServerRoleRun = ClientRoleRun(case, params, settings)
        else:
            run = ServerRoleRun(case, params, settings, self.server_under_test())
        record = run.run()
        record.name = name
        return record

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
