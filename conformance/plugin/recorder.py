"""Writes each case's record as soon as its verdict is known (an interrupted run keeps every
verdict it reached), decides the gate at the end of the run, writes the conformance report and
prints the verdict counts and what was broken. It runs where reports arrive: in the main process,
also when xdist workers run the cases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conformance import __version__
from conformance.engine.harness import Harness
from conformance.engine.loader import case_files, packaged_cases_dir
from conformance.engine.records import CaseRecord
from conformance.plugin.hooks import RECORD_PROPERTY
from conformance.report.allure_support import write_run_files
from conformance.report.conformance_report import build, implementation
from conformance.report.conformance_report import write as write_report
from conformance.report.gate import Gate, Waiver, evaluate, gate_lines, load_baseline
from conformance.report.provenance import CaseSource
from conformance.report.provenance import collect as collect_provenance
from conformance.report.results import ResultLog, count_verdicts, summary_line

MESSAGE_LIMIT = 20_000  # characters of a failure kept in a record


def _trimmed(message: str) -> str:
    """Keep the start (the step) and the end (the exchanges) of a very long failure."""
    if len(message) <= MESSAGE_LIMIT:
        return message
    half = MESSAGE_LIMIT // 2
    cut = len(message) - 2 * half
    return f"{message[:half]}\n… ({cut} characters left out) …\n{message[-half:]}"


class Recorder:
    """The run's records, the gate, the reports."""

    def __init__(self, config: pytest.Config, harness: Harness) -> None:
        self.config = config
        self.harness = harness
        self.records: list[CaseRecord] = []
        reports = config.getoption("dm_reports")
        self.reports = Path(reports).resolve() if reports else None
        self.log = ResultLog(self.reports) if self.reports else None
        self.started = datetime.now(UTC)
        baseline = config.getoption("dm_baseline")
        self.baseline: list[Waiver] = load_baseline(Path(baseline)) if baseline else []
        self.strict: bool = config.getoption("dm_strict")
        self.gate = Gate()
        alluredir = config.getoption("allure_report_dir", None)
        if alluredir:
            duts = [harness.dut_for(r) for r in ("client", "server") if harness.applies(r)]
            write_run_files(Path(alluredir), duts, harness.profile, __version__)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == RECORD_PROPERTY and isinstance(value, dict):
                record = CaseRecord.from_json(value)
                record.message = _trimmed(record.message)
                self.records.append(record)
                if self.log is not None:
                    self.log.write(record)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The gate decides the exit status; the conformance report is written from every
        verdict reached (also after an interruption)."""
        harness = self.harness
        self.gate = evaluate(self.records, harness.catalog, self.baseline, self.strict)
        if (
            session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
            and self.records
        ):
            session.exitstatus = (
                pytest.ExitCode.OK if self.gate.passed else pytest.ExitCode.TESTS_FAILED
            )
        if self.reports is None:
            return
        duts = [harness.dut_for(r) for r in ("client", "server") if harness.applies(r)]
        vendor = [Path(d) for d in self.config.getoption("cases")]
        roots = [packaged_cases_dir(), *vendor]
        started = self.started.isoformat(timespec="seconds")
        implementations = [implementation(d) for d in duts]
        data = build(
            self.records,
            implementations,
            harness.profile,
            harness.catalog,
            case_files(roots),
            started,
            self.gate.as_dict(),
            self.provenance(implementations, vendor, started),
        )
        write_report(self.reports, data)

    def provenance(
        self, implementations: list[dict[str, Any]], vendor: list[Path], started: str
    ) -> dict[str, Any]:
        """Where the report comes from (report/provenance.py), with every case file the run
        could collect: the shipped ones, the vendor folders', and any other a case ran from."""
        sources = [
            CaseSource(packaged_cases_dir(), "official"),
            *(CaseSource(root, "vendor") for root in vendor),
        ]
        sources += [
            CaseSource(Path(f), r.origin.value)
            for f, r in {r.file: r for r in self.records if r.file}.items()
        ]
        baseline = self.config.getoption("dm_baseline")
        try:
            return collect_provenance(
                implementations=implementations,
                profile=self.harness.profile,
                catalog=self.harness.catalog,
                case_sources=sources,
                baseline=Path(baseline) if baseline else None,
                started=started,
                finished=datetime.now(UTC).isoformat(timespec="seconds"),
                pytest_args=[str(a) for a in self.config.invocation_params.args],
            )
        except Exception as exc:  # what went wrong is recorded; the run's reports are written
            return {"error": f"provenance could not be collected: {type(exc).__name__}: {exc}"}

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.records:
            return
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", "conformance verdicts")
        write(summary_line(count_verdicts(self.records)))
        broken: dict[str, list[str]] = {}
        for record in self.records:
            for basis in record.failed:
                broken.setdefault(basis, []).append(record.name)
        for basis, names in broken.items():
            entry = self.harness.catalog.get(basis)
            text = entry.detail or entry.text if entry else self.harness.profile.basis(basis) or ""
            write(f"  broken: {basis} in {len(names)} case(s): \u201c{text[:90]}\u201d")
        for line in gate_lines(self.gate.as_dict(), "--dm-strict"):
            write(line)
