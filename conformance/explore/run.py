"""One exploration run: the run folder (the seed, Hypothesis's example database, the work folders
of diverging examples, the written case), discovery, the search, the written case of the
smallest divergence and its replay against the implementation, and `explore.json`."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.catalog import Catalog
from conformance.engine.harness import Harness, Options
from conformance.engine.loader import load_case_file
from conformance.engine.outcomes import basis_line
from conformance.engine.records import CaseRecord
from conformance.explore.search import Budget, Found, Progress, Result, Search
from conformance.explore.writer import CASE_PREFIX, dump, write_case
from conformance.profiles import Profile
from conformance.report.results import new_run_dir

RESULT_FILE = "explore.json"


@dataclass
class Settings:
    """What `dm20-conformance explore` was asked."""

    dut: Path
    budget: Budget = field(default_factory=Budget)
    seed: int = 0
    timeout_s: float | None = None
    profile: str | None = None


@dataclass
class Divergence:
    """A divergence as the run reports it."""

    ids: list[str]
    run: int
    messages: int
    commands: int
    script: list[str]  # the commands, message by message, as a person reads them
    message: str  # the explanation of the case run that diverged
    case_file: str = ""
    replay: str = ""  # the written case's verdict against the implementation, and what it broke

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class Report:
    """What one exploration run did and found."""

    role: str
    dut: str
    seed: int
    folder: Path
    budget: str
    runs: int = 0
    examples: int = 0
    seconds: float = 0.0
    shrink_runs: int = 0
    exchanges: int = 0  # HTTP exchanges of the generated runs
    model: str = ""
    first: Divergence | None = None
    divergences: list[Divergence] = field(default_factory=list)
    trouble: str = ""
    others: list[Divergence] = field(default_factory=list)

    @property
    def divergence(self) -> Divergence | None:
        """The first divergence found, shrunk."""
        return self.divergences[0] if self.divergences else None

    @property
    def exit_status(self) -> int:
        if self.trouble:
            return 2
        return 1 if self.divergence is not None else 0

    def as_dict(self) -> dict[str, Any]:
        skip = ("first", "divergences", "others")
        data = {k: v for k, v in vars(self).items() if k not in skip}
        data["folder"] = str(self.folder)
        data["first"] = self.first.as_dict() if self.first else None
        data["divergence"] = self.divergence.as_dict() if self.divergence else None
        data["divergences"] = [d.as_dict() for d in self.divergences]
        data["others"] = [o.as_dict() for o in self.others]
        return data


def new_run_folder(root: Path) -> Path:
    """<root>/explore-<UTC timestamp>, unique."""
    return new_run_dir(root, "explore-")


def script_lines(data: dict[str, Any], profile: Profile) -> list[str]:
    """A generated case's sessions as lines a person reads: what was sent, message by message."""
    lines = []
    session = 0
    for step in data["steps"]:
        if step.get("open") == "session":
            session += 1
            lines.append(f"session {session}")
        elif step.get("send") == "commands":
            commands = "; ".join(" ".join(c) for c in step["commands"])
            lines.append(f"  -> {commands}")
        elif step.get("send") == "answer":
            lines.append(f"  -> answer HTTP {step.get('status', profile.http_ok)} (refused, A1)")
        elif step.get("close") == "session":
            lines.append(f"  -> {profile.for_action('end').name}")
        elif step.get("start") == "config_request":
            lines.append(f"configuration request for {step.get('moid')}")
        elif "enqueue" in step:
            lines.append("enqueue " + "; ".join(" ".join(c) for c in step["enqueue"]))
        elif step.get("run") == "session":
            answers = "; ".join(
                f"{' '.join(a['command'])} -> {a['code']}" for a in step.get("answers", ())
            )
            lines.append("session" + (f" (the device answers {answers})" if answers else ""))
    return lines


def explain_ids(ids: list[str], catalog: Catalog, profile: Profile) -> list[str]:
    return [basis_line(i, catalog, profile) for i in ids]


class Exploration:
    """One run of `explore` against one DUT."""

    def __init__(
        self, settings: Settings, folder: Path, say: Callable[[str], None] = print
    ) -> None:
        self.settings = settings
        self.folder = folder
        self.say = say
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.harness = Harness(
            Options(
                dut=settings.dut,
                profile=settings.profile,
                timeout_s=settings.timeout_s,
                reports=folder,
                worker="explore",
            )
        )
        assert self.harness.given is not None
        self.dut = self.harness.given
        self.role = self.dut.role

    def _explorer(self) -> Any:
        if self.role == "client":
            from conformance.explore.client_explorer import ClientExplorer

            return ClientExplorer(self.harness, self.folder, self.say)
        from conformance.explore.server_explorer import ServerExplorer

        return ServerExplorer(self.harness, self.folder, self.say)

    def go(self, progress: Progress | None = None) -> Report:
        settings = self.settings
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "seed").write_text(f"{settings.seed}\n", encoding="utf-8")
        report = Report(
            self.role,
            str(self.dut.path),
            settings.seed,
            self.folder,
            settings.budget.describe(),
        )
        try:
            explorer = self._explorer()
            report.model = explorer.describe_model(explorer.discover())
            self.say(f"model: {report.model}")
            search: Search[Any] = Search(
                explorer.strategy(),
                explorer.run,
                explorer.key,
                lambda s: s.size(),
                settings.budget,
                settings.seed,
                self.folder / "hypothesis",
                progress,
                explorer.simpler,
                explorer.units,
            )
            result = search.go()
            report.exchanges = explorer.exchanges
            self._report(report, result, explorer)
        finally:
            self.harness.close()
        (self.folder / RESULT_FILE).write_text(
            json.dumps(report.as_dict(), indent=1), encoding="utf-8"
        )
        return report

    def _divergence(self, found: Found[Any]) -> Divergence:
        outcome = found.outcome
        messages, commands = found.size
        return Divergence(
            list(outcome.ids),
            found.run,
            messages,
            commands,
            script_lines(outcome.data, self.harness.profile),
            outcome.record.message,
        )

    def _report(self, report: Report, result: Result[Any], explorer: Any) -> None:
        report.runs, report.examples = result.runs, result.examples or result.runs
        report.seconds, report.shrink_runs = round(result.seconds, 2), result.shrink_runs
        if result.trouble is not None:
            outcome = result.trouble.outcome
            path = self.folder / "errors" / f"run-{result.trouble.run:05d}.yaml"
            if outcome.data:
                write_case(path, outcome.data, "A generated case exploration could not judge.")
            else:  # exploration itself failed: what it said
                path = path.with_suffix(".txt")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(outcome.record.message, encoding="utf-8")
            report.trouble = f"{outcome.trouble} (see {path})"
        if result.first is not None:
            report.first = self._divergence(result.first)
        report.others = [self._divergence(o) for o in result.others]
        for number, divergent in enumerate(result.divergences, 1):
            found = divergent.smallest
            divergence = self._divergence(found)
            case_id = f"{CASE_PREFIX[self.role]}-{self.settings.seed}-{number:03d}"
            data = explorer.written(found.script, found.outcome, case_id, self.settings.seed, found)
            path = self.folder / "cases" / self.role / f"{case_id}.yaml"
            header = (
                f"Written by dm20-conformance explore --seed {self.settings.seed} against "
                f"{self.dut.name} {self.dut.version}.\nRun it: dm20-conformance run --dut "
                f"{self.dut.path} --cases {self.folder / 'cases'} -k {case_id}"
            )
            write_case(path, data, header)
            divergence.case_file = str(path)
            divergence.replay = self._replay(path)
            report.divergences.append(divergence)

    def _replay(self, path: Path) -> str:
        """Run the written case once more against the implementation: it must fail the same way."""
        [case] = load_case_file(path, self.harness.catalog, self.harness.profile)
        shutil.rmtree(self.harness.workdir("replay"))  # no state of an earlier run
        record: CaseRecord = self.harness.run_case(case, {}, "replay")
        failed = ", ".join(record.failed)
        return f"{record.verdict.value}" + (f" ({failed})" if failed else "")


__all__ = ["Exploration", "Report", "Settings", "dump", "explain_ids", "new_run_folder"]
