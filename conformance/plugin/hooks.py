"""The dm20 pytest plugin (entry point `pytest11`): options, and nothing else until it is asked.
It acts only when a run names a DUT (`--dut`), a report folder (`--dm-reports`) or vendor cases
(`--cases`), sets the ini option `dm20 = true`, or collects a file named `*.dm20.yaml`. Asked, it
collects the `*.yaml` case files below the shipped case folder, a `--cases` folder, or a path
given on the command line when they sit in a `client/` or `server/` folder. Then it collects the
cases, adds the markers and verdict words, builds the run's harness, stops cleanly on SIGINT or
SIGTERM, and records every verdict as it is reached. Any other pytest run in the same
environment runs exactly as without it."""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the engine is imported when the plugin is asked to act, not before
    from conformance.engine.harness import Harness
    from conformance.plugin.items import CaseFile


SUITE_SUFFIX = ".dm20.yaml"  # a case file collected wherever it is, without options


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
    group.addoption(
        "--dm-listen",
        metavar="HOST[:PORT]",
        help="where the reference server listens (default: 127.0.0.1, a free port per case); "
        "anything but loopback is reachable from the network: only by this choice",
    )
    group.addoption(
        "--dm-advertise",
        metavar="BASE_URL",
        help="the base of every URL handed to a client under test, when it reaches the harness "
        "by another name, a NAT or a forwarder (e.g. https://harness.lab:8443)",
    )
    group.addoption(
        "--dm-tls",
        action="store_true",
        help="the reference server speaks HTTPS: a certificate from a test CA made for the run "
        "({ca_file}), or the DUT file's client.tls certificate",
    )
    group.addoption(
        "--dm-operator",
        action="store_true",
        default=None,
        help="someone carries out the DUT file's manual steps even though standard input is not "
        "a terminal (prompts go to standard output)",
    )
    parser.addini("dm20", type="bool", default=False, help="collect and run dm20 case files")


def _asked(config: pytest.Config) -> bool:
    option = config.getoption
    return bool(option("dut") or option("dm_reports") or option("cases") or config.getini("dm20"))


def pytest_configure(config: pytest.Config) -> None:
    if _asked(config):
        activate(config)


def activate(config: pytest.Config) -> Harness:
    """Build the run's harness (once): markers, the recorder, the signal handlers."""
    from conformance.engine.harness import Harness, Options
    from conformance.inputs import InputError
    from conformance.plugin.items import HARNESS
    from conformance.plugin.recorder import Recorder

    if HARNESS in config.stash:
        return config.stash[HARNESS]
    option = config.getoption
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    reports = option("dm_reports")
    try:
        harness = Harness(
            Options(
                dut=Path(option("dut")) if option("dut") else None,
                profile=option("dm_profile"),
                timeout_s=option("dm_timeout"),
                reports=Path(reports).resolve() if reports else None,
                worker=worker,
                listen=option("dm_listen"),
                advertise=option("dm_advertise"),
                tls=bool(option("dm_tls")),
                operator=option("dm_operator"),
                terminal=PytestTerminal(config),
            )
        )
        if harness.network.fixed_port and getattr(config.option, "numprocesses", None):
            raise ValueError(
                f"--dm-listen with a fixed port ({harness.network.port}) serves one case at a "
                "time: it cannot be shared by parallel workers (-n)"
            )
        recorder = Recorder(config, harness)
    except (InputError, ValueError) as exc:  # a bad DUT file, profile or baseline: say where
        raise pytest.UsageError(f"dm20: {exc}") from None
    config.stash[HARNESS] = harness
    for marker in markers(harness):
        config.addinivalue_line("markers", marker)
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(recorder, "dm20-recorder")
        stopper = StopOnSignal(harness)
        config.pluginmanager.register(stopper, "dm20-stop-on-signal")
        previous: dict[int, Any] = {
            sig: signal.signal(sig, stopper) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        config.stash[PREVIOUS_HANDLERS] = previous
    return harness


class PytestTerminal:
    """The operator's terminal under pytest, which captures standard input and output while a
    case runs: each look and each prompt suspends the capture (the run's real output)."""

    def __init__(self, config: pytest.Config) -> None:
        self.capture = config.pluginmanager.getplugin("capturemanager")
        self.config = config

    def _uncaptured(self) -> Any:
        if self.capture is None:
            return contextlib.nullcontext()
        return self.capture.global_and_fixture_disabled()

    def interactive(self) -> bool:
        with self._uncaptured():
            return sys.stdin is not None and sys.stdin.isatty()

    def write(self, text: str) -> None:
        from conformance.engine.operator import copy_to_tty, emit

        with self._uncaptured():
            if self.config.pluginmanager.getplugin("terminalreporter") is None:
                emit(text, sys.stdout)  # -p no:terminal
                return
            writer = self.config.get_terminal_writer()
            if writer.width_of_current_line:  # after the progress letters of earlier cases
                writer.line()
            writer.line(text)
            writer.flush()
            copy_to_tty(text, sys.stdout)


def markers(harness: Harness) -> list[str]:
    """The markers of the suite: roles, the profile's commands, requirement levels."""
    found = [
        "client: the implementation under test is a DM client",
        "server: the implementation under test is a DM server",
    ]
    found += [f"{c.name}: cases that use the {c.name} command" for c in harness.profile.commands]
    levels = dict.fromkeys(r.level for r in harness.catalog)
    found += [
        f"{level.replace(' ', '_')}: cases verifying {level} requirements" for level in levels
    ]
    return found


class StopOnSignal:
    """SIGINT or SIGTERM: the running case ends at its next wait (INCONCLUSIVE, "the run was
    stopped"), no further case starts, and every report is written. A second signal stops at
    once (KeyboardInterrupt), as Ctrl-C does without the harness."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.session: pytest.Session | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_collection(self, session: pytest.Session) -> None:
        self.session = session

    def __call__(self, signum: int, frame: Any) -> None:
        if self.harness.stop.is_set():
            raise KeyboardInterrupt(f"signal {signum}, again")
        self.harness.stop.set()
        if self.session is not None:
            self.session.shouldstop = f"stopped by signal {signum}"


PREVIOUS_HANDLERS = pytest.StashKey[dict[int, Any]]()


def pytest_unconfigure(config: pytest.Config) -> None:
    harness = _harness(config)
    if harness is not None:
        harness.close()
    for sig, handler in config.stash.get(PREVIOUS_HANDLERS, {}).items():
        signal.signal(sig, handler)


def _harness(config: pytest.Config) -> Harness | None:
    """The run's harness, if the plugin was asked to act."""
    items = sys.modules.get("conformance.plugin.items")
    return None if items is None else config.stash.get(items.HARNESS, None)


def case_roots(config: pytest.Config) -> list[Path]:
    from conformance.engine.loader import packaged_cases_dir

    return [packaged_cases_dir().resolve(), *(Path(d).resolve() for d in config.getoption("cases"))]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> CaseFile | None:
    name = file_path.name
    if not name.endswith(".yaml") or name.startswith("_"):
        return None
    resolved = file_path.resolve()
    config = parent.config
    asked = _harness(config) is not None
    if not (asked or name.endswith(SUITE_SUFFIX)):
        return None
    from conformance.engine.loader import role_of
    from conformance.plugin.items import CaseFile

    under_roots = any(resolved.is_relative_to(root) for root in case_roots(config))
    named = role_of(resolved) is not None and any(
        resolved.is_relative_to(Path(arg.split("::")[0]).resolve()) for arg in config.args
    )
    if name.endswith(SUITE_SUFFIX) or (asked and (under_roots or named)):
        activate(parent.config)
        return CaseFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Cases of the other role than the DUT's are deselected; a case ID used twice is an error
    unless a vendor case says it `overrides` the official one."""
    harness = _harness(config)
    if harness is None:
        return
    from conformance.plugin.items import CaseItem, dedupe_items

    problems = dedupe_items(items)
    if problems:
        raise pytest.UsageError("dm20: " + "\n".join(str(p) for p in problems))
    keep, drop = [], []
    for item in items:
        if isinstance(item, CaseItem) and not harness.applies(item.case.role):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


WORDS = {  # verdict -> (letter, word)
    "FAIL": ("F", "FAIL"),
    "INCONCLUSIVE": ("I", "INCONCLUSIVE"),
    "ERROR": ("E", "ERROR"),
    "INFORMATIONAL": ("i", "INFORMATIONAL"),
    "NOT APPLICABLE": ("n", "NOT APPLICABLE"),
}
RECORD_PROPERTY = "dm20_record"  # the user property of a report that carries its case's record


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """Conformance words instead of pytest's where the verdict says more."""
    if report.when not in ("call", "setup"):
        return None
    for name, value in report.user_properties:
        verdict = value.get("verdict") if isinstance(value, dict) else None
        if name == RECORD_PROPERTY and verdict in WORDS:
            letter, word = WORDS[verdict]
            return report.outcome, letter, word
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = (yield).get_result()
    record_for = getattr(item, "record_for", None)
    if record_for is not None and _harness(item.config) is not None:
        record = record_for(report)
        if record is not None:
            report.user_properties.append((RECORD_PROPERTY, record.to_json()))
