"""The dm20 pytest plugin's hooks (entry point `pytest11`): collect YAML case files, add the
options, markers and verdict words, own the run's harness session, and record every verdict as
it is reached. Small enough to read top to bottom; the work is done in the modules beside it."""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conformance import __version__
from conformance.inputs import InputError
from conformance.plugin.cases import case_files, packaged_cases_dir
from conformance.plugin.items import HARNESS, CaseFile, CaseItem
from conformance.plugin.session import HarnessSession
from conformance.profiles import load_profile
from conformance.report.allure_support import write_run_files
from conformance.report.conformance_report import build, implementation
from conformance.report.conformance_report import write as write_report
from conformance.report.gate import Gate, evaluate
from conformance.report.results import ResultLog, count_verdicts, summary_line
from conformance.verdicts import Verdict


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dm20", "DM 2.0 conformance")
    group.addoption(
        "--dut",
        help="DUT file of the implementation under test "
        "(default: the bundled sample of each case's role)",
    )
    group.addoption("--dm-profile", help="wire profile name or file (default: the DUT file's)")
    group.addoption(
        "--dm-timeout",
        type=float,
        help="seconds for every wait (default: the DUT file's timeout_s)",
    )
    group.addoption(
        "--cases",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of vendor cases to collect too (repeatable)",
    )
    group.addoption(
        "--dm-baseline",
        metavar="FILE",
        help="known deviations (YAML): their failures do not fail the run; stale ones are listed",
    )
    group.addoption(
        "--dm-strict",
        action="store_true",
        help="fail the run on failures of SHOULD/MAY requirements too",
    )
    group.addoption(
        "--dm-reports", metavar="DIR", help="folder for per-case work files and results"
    )


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the reference servers' access log
    profile = load_profile()
    markers = [
        "client: the implementation under test is a DM client",
        "server: the implementation under test is a DM server",
    ]
    markers += [f"{c.name}: cases that use the {c.name} command" for c in profile.commands]
    markers += [
        f"{level}: cases verifying {level.replace('_', ' ')} requirements"
        for level in ("MUST", "MUST_NOT", "SHOULD", "MAY", "will")
    ]
    for marker in markers:
        config.addinivalue_line("markers", marker)
    try:
        config.stash[HARNESS] = HarnessSession(config)
    except (InputError, ValueError) as exc:  # a bad DUT file, profile or baseline: say where
        raise pytest.UsageError(f"dm20: {exc}") from None
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(Recorder(config), "dm20-recorder")
        stopper = StopOnSignal(config.stash[HARNESS])
        config.pluginmanager.register(stopper, "dm20-stop-on-signal")
        config.stash[PREVIOUS_HANDLERS] = {
            sig: signal.signal(sig, stopper) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        alluredir = config.getoption("allure_report_dir", None)
        if alluredir:
            harness = config.stash[HARNESS]
            duts = [harness.dut_for(role) for role in ("client", "server") if harness.applies(role)]
            write_run_files(Path(alluredir), duts, harness.profile, __version__)


class StopOnSignal:
    """SIGINT or SIGTERM: the running case ends at its next wait (INCONCLUSIVE, "the run was
    stopped"), no further case starts, and every report is written. A second signal stops at
    once (KeyboardInterrupt), as Ctrl-C does without the harness."""

    def __init__(self, harness: HarnessSession) -> None:
        self.harness = harness
        self.session: pytest.Session | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def __call__(self, signum: int, frame: Any) -> None:
        if self.harness.stop.is_set():
            raise KeyboardInterrupt(f"signal {signum}, again")
        self.harness.stop.set()
        if self.session is not None:
            self.session.shouldstop = f"stopped by signal {signum}"


PREVIOUS_HANDLERS = pytest.StashKey[dict[int, Any]]()


def pytest_unconfigure(config: pytest.Config) -> None:
    if HARNESS in config.stash:
        config.stash[HARNESS].close()
    for sig, handler in config.stash.get(PREVIOUS_HANDLERS, {}).items():
        signal.signal(sig, handler)


def _case_roots(config: pytest.Config) -> list[Path]:
    return [packaged_cases_dir().resolve(), *(Path(d).resolve() for d in config.getoption("cases"))]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> CaseFile | None:
    if file_path.suffix != ".yaml":
        return None
    resolved = file_path.resolve()
    roots = _case_roots(parent.config)
    if any(resolved.is_relative_to(root) for root in roots) or "testcases" in resolved.parts:
        if resolved.name.startswith("_"):
            return None
        return CaseFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With --dut, the cases of the other role do not run (deselected, not failed)."""
    harness = config.stash[HARNESS]
    keep, drop = [], []
    for item in items:
        if isinstance(item, CaseItem) and not harness.applies(item.case.role):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def verdict_of(report: pytest.TestReport, item: pytest.Item | None = None) -> Verdict:
    """The conformance verdict a pytest report stands for."""
    for name, value in report.user_properties:
        if name == "verdict":
            return Verdict(value)
    if report.skipped:
        return Verdict.NOT_APPLICABLE
    return Verdict.ERROR if report.failed else Verdict.PASS


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report: pytest.TestReport = (yield).get_result()
    if not isinstance(item, CaseItem):
        return
    if report.when == "setup" and report.skipped:
        report.user_properties.append(("verdict", Verdict.NOT_APPLICABLE.value))
    elif report.when == "setup" and report.failed:
        report.user_properties.append(("verdict", Verdict.ERROR.value))
    elif report.when == "call":
        if item.outcome is not None:
            verdict = item.outcome.verdict
        elif report.failed:
            verdict = Verdict.ERROR
        else:
            verdict = item.result.verdict if item.result else Verdict.PASS
        report.user_properties.append(("verdict", verdict.value))
        if item.result is not None:
            report.user_properties.append(
                ("observations", [str(f) for f in item.result.observations])
            )
            report.user_properties.append(("infos", [str(f) for f in item.result.infos]))


MESSAGE_LIMIT = 20_000  # characters of a failure kept in a result record


def _record(report: pytest.TestReport) -> dict[str, Any]:
    """The result line of one case, from what its report carries (works across xdist workers)."""
    props = dict(report.user_properties)
    message = ""
    if report.skipped and isinstance(report.longrepr, tuple):
        message = report.longrepr[2].removeprefix("Skipped: ")
    elif report.failed:
        message = report.longreprtext
        if len(message) > MESSAGE_LIMIT:  # keep the start (the step) and the end (the error)
            half = MESSAGE_LIMIT // 2
            cut = len(message) - 2 * half
            message = f"{message[:half]}\n… ({cut} characters left out) …\n{message[-half:]}"
    return {
        "nodeid": report.nodeid,
        "case": props.get("case"),
        "title": props.get("title"),
        "role": props.get("role"),
        "requirements": props.get("requirements", "").split(),
        "assumptions": props.get("assumptions", "").split(),
        "verdict": props["verdict"],
        "message": message,
        "observations": props.get("observations", []),
        "infos": props.get("infos", []),
        "seconds": round(report.duration, 3),
    }


class Recorder:
    """Writes each case's verdict as soon as it is known (nothing is lost if the run stops) and
    prints the verdict counts at the end. It runs where reports arrive: in the main process,
    also when xdist workers run the cases."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.records: list[dict[str, Any]] = []
        reports = config.getoption("dm_reports")
        self.reports = Path(reports).resolve() if reports else None
        self.log = ResultLog(self.reports) if self.reports else None
        self.started = datetime.now(UTC)
        self.gate = Gate()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown" or not any(n == "verdict" for n, _ in report.user_properties):
            return
        record = _record(report)
        self.records.append(record)
        if self.log is not None:
            self.log.write(record)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The gate decides the exit status; the conformance report is written from every
        verdict reached (also after an interruption)."""
        harness = self.config.stash[HARNESS]
        self.gate = evaluate(self.records, harness.catalog, harness.baseline, harness.strict)
        if (
            session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
            and self.records
        ):
            session.exitstatus = (
                pytest.ExitCode.OK if self.gate.passed else pytest.ExitCode.TESTS_FAILED
            )
        if self.reports is None:
            return
        duts = [harness.dut_for(role) for role in ("client", "server") if harness.applies(role)]
        files = case_files(_case_roots(self.config))
        used = [implementation(d) for d in duts]
        started = self.started.isoformat(timespec="seconds")
        data = build(self.records, used, harness.profile, harness.catalog, files, started)
        data["gate"] = self.gate.as_dict()
        write_report(self.reports, data)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.records:
            terminalreporter.write_sep("=", "conformance verdicts")
            terminalreporter.write_line(summary_line(count_verdicts(self.records)))
            gate = self.gate
            terminalreporter.write_line(
                f"gate {'PASSED' if gate.passed else 'FAILED'}: {gate.summary()}"
            )
            for title, names in (
                ("new failures", gate.new),
                ("stale baseline entries", gate.stale),
                ("advisory (SHOULD/MAY, not --dm-strict)", gate.advisory),
            ):
                if names:
                    terminalreporter.write_line(f"  {title}: {', '.join(names)}")


WORDS = {
    Verdict.FAIL: ("F", "FAIL"),
    Verdict.INCONCLUSIVE: ("I", "INCONCLUSIVE"),
    Verdict.ERROR: ("E", "ERROR"),
    Verdict.INFORMATIONAL: ("i", "INFORMATIONAL"),
    Verdict.NOT_APPLICABLE: ("n", "NOT APPLICABLE"),
}


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    """Conformance words instead of pytest's where the verdict says more."""
    if report.when not in ("call", "setup") or not any(
        n == "verdict" for n, _ in report.user_properties
    ):
        return None
    verdict = verdict_of(report)
    if verdict in WORDS:
        letter, word = WORDS[verdict]
        return report.outcome, letter, word
    return None
