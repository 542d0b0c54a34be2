"""The harness's state for one pytest session: the options, the profile and catalog, the DUT of
each role, the server under test (started once, stopped at the end), a work folder per case."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from conformance.catalog import Catalog, load_catalog
from conformance.dut import DutFile, load_dut
from conformance.plugin.cases import Case
from conformance.profiles import Profile, load_profile
from conformance.report.gate import load_baseline
from conformance.roles.server_under_test import ServerUnderTest
from conformance.samples import dut_file


class HarnessSession:
    """Everything the items of one run share."""

    def __init__(self, config: pytest.Config) -> None:
        option = config.getoption
        self.dut_path: str | None = option("dut")
        self.given: DutFile | None = load_dut(self.dut_path) if self.dut_path else None
        self.profile: Profile = load_profile(
            option("dm_profile") or (self.given.profile if self.given else "dm20-draft")
        )
        self.catalog: Catalog = load_catalog()
        self.timeout_s: float | None = option("dm_timeout")
        baseline = option("dm_baseline")
        self.baseline: dict[str, str] = load_baseline(Path(baseline)) if baseline else {}
        self.strict: bool = option("dm_strict")
        reports = option("dm_reports")
        worker = getattr(config, "workerinput", {}).get("workerid", "main")
        self._reports = Path(reports).resolve() / "work" / worker if reports else None
        self._scratch: Path | None = None  # a temporary work folder, removed at the end
        self._duts: dict[str, DutFile] = {}
        self.stop = threading.Event()  # set by a signal: finish the running case, then stop
        self._server: ServerUnderTest | None = None

    def dut_for(self, role: str) -> DutFile:
        """The DUT of `role`: the one given with --dut, or the bundled sample."""
        if self.given is not None and self.given.role == role:
            return self.given
        if role not in self._duts:
            self._duts[role] = load_dut(dut_file(role))
        return self._duts[role]

    def applies(self, role: str) -> bool:
        """Whether cases of `role` run at all (with --dut, only the DUT's role does)."""
        return self.given is None or self.given.role == role

    def timeout_for(self, dut: DutFile) -> float:
        return self.timeout_s or dut.timeout_s

    def not_applicable(self, case: Case) -> str | None:
        """Why `case` does not apply to its DUT, or None when it does."""
        return applicability(case, self.dut_for(case.role))

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

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)


def applicability(case: Case, dut: DutFile) -> str | None:
    """Why `case` does not apply to `dut` (a feature, ixit fact or hook it lacks), or None."""
    missing = [f for f in case.requires if not f.startswith("!") and not dut.declares(f)]
    if missing:
        return f"{dut.name} does not declare {', '.join(missing)} ({dut.path.name}: features)"
    present = [f[1:] for f in case.requires if f.startswith("!") and dut.declares(f[1:])]
    if present:
        listed = ", ".join(present)
        return f"{dut.name} declares {listed}; this case is for implementations without it"
    facts = sorted(case.ixit_needed() - set(dut.ixit))
    if facts:
        return f"{dut.name} gives no ixit {', '.join(facts)} ({dut.path.name}: ixit)"
    hooks = sorted(h for h in case.hooks_needed() if not dut.has(h))
    if hooks:
        return f"{dut.name} has no {case.role}.{' / '.join(hooks)} command ({dut.path.name})"
    return None
