"""What the harness gives Allure: labels on every case (epic = role, feature = seed section,
story = command, severity from the requirement level, the case ID as `as_id`, the requirement
IDs), each step of a case as an Allure step with its HTTP exchanges attached (a listener of the
engine's events), the DUT in environment.properties, and categories.json separating
"implementation does not conform" from "harness or environment error" and "implementation did
not respond"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import allure
import pytest
from allure_commons.types import AttachmentType, LabelType

from conformance.catalog import Catalog, load_catalog
from conformance.dut import DutFile
from conformance.engine.events import Listener
from conformance.engine.model import Case
from conformance.engine.records import CaseRecord
from conformance.profiles import Profile
from conformance.roles.exchange import HttpExchange, show_body

LABEL = "allure_label"  # allure-pytest's marker for static labels (read at collection)
SEVERITY = {
    "MUST": "critical",
    "MUST NOT": "critical",
    "will": "normal",
    "SHOULD": "normal",
    "MAY": "minor",
}
RANK = ["critical", "normal", "minor"]
ROLE_EPIC = {"client": "DM client under test", "server": "DM server under test"}

CATEGORIES = [
    {
        "name": "Implementation does not conform",
        "matchedStatuses": ["failed"],
        "messageRegex": r"(?s)^(\S+: )?FAIL\b.*",
    },
    {
        "name": "Timeout, implementation did not respond",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": r"(?s)^(\S+: )?INCONCLUSIVE\b.*",
    },
    {"name": "Harness or environment error", "matchedStatuses": ["broken", "failed"]},
    {"name": "Not applicable to the implementation", "matchedStatuses": ["skipped"]},
]


def case_marks(case: Case, catalog: Catalog) -> list[pytest.MarkDecorator]:
    """The static Allure labels of a case, as markers (so test plans can select by them)."""
    entries = [catalog[r] for r in case.verified() if r in catalog]
    sections = sorted({f"Section {e.section}" for e in entries})
    stories = sorted(case.commands_used()) or ["session"]
    severity = min(
        (SEVERITY.get(e.level, "normal") for e in entries), key=RANK.index, default="normal"
    )
    label = getattr(pytest.mark, LABEL)
    marks = [
        label(ROLE_EPIC[case.role], label_type=LabelType.EPIC),
        label(*sections, label_type=LabelType.FEATURE),
        label(*stories, label_type=LabelType.STORY),
        label(severity, label_type=LabelType.SEVERITY),
        label(case.id, label_type=LabelType.ID),
        label(*sorted({e.level for e in entries}), case.role, label_type=LabelType.TAG),
        label(*case.verified(), label_type="requirement"),
    ]
    if case.assumptions:
        marks.append(label(*case.assumptions, label_type="assumption"))
    # Where the case comes from: official (the suite) or vendor (--cases), and whether it
    # takes the place of an official case.
    marks.append(label(case.origin.value, label_type="origin"))
    if case.origin.value == "vendor":
        tags = ["vendor case", *(["overrides official"] if case.overrides else [])]
        marks.append(label(*tags, label_type=LabelType.TAG))
    return marks


def describe(case: Case, catalog: Catalog) -> str:
    """The case's Allure description: its title, and each requirement with its sentence."""
    lines = [case.title, "", case.description.strip(), ""] if case.description else [case.title, ""]
    for requirement in case.verified():
        entry = catalog.get(requirement)
        if entry:
            lines.append(
                f"- **{entry.id}** ({entry.level}, {entry.binds}): {entry.text}"
                + (f" — {entry.detail}" if entry.detail else "")
            )
    return "\n".join(lines)


def _request_text(exchange: HttpExchange) -> str:
    head = [f"{exchange.method} {exchange.url}"] + [
        f"{k}: {v}" for k, v in exchange.request_headers.items()
    ]
    return "\n".join(head) + "\n\n" + show_body(exchange.request_body, 100_000)


def _response_text(exchange: HttpExchange) -> str:
    if exchange.error:
        return f"no response: {exchange.error}"
    head = [f"HTTP {exchange.status}"] + [f"{k}: {v}" for k, v in exchange.response_headers.items()]
    return "\n".join(head) + "\n\n" + show_body(exchange.response_body, 100_000)


def attach_exchange(exchange: HttpExchange) -> None:
    """One exchange as an Allure step with the request and the response attached."""
    outcome = (exchange.error and "no response") or f"{exchange.status}"
    with allure.step(f"{exchange.method} {exchange.url} -> {outcome}"):
        allure.attach(_request_text(exchange), name="request", attachment_type=AttachmentType.TEXT)
        allure.attach(
            _response_text(exchange), name="response", attachment_type=AttachmentType.TEXT
        )


def write_run_files(folder: Path, duts: list[DutFile], profile: Profile, version: str) -> None:
    """environment.properties (the DUTs, the profile, the suite) and categories.json."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"suite.version={version}", f"profile={profile.name}"]
    for dut in duts:
        prefix = f"{dut.role}"
        lines += [
            f"{prefix}.name={dut.name}",
            f"{prefix}.version={dut.version}",
            f"{prefix}.profile={dut.profile}",
            f"{prefix}.features={','.join(dut.features)}",
            f"{prefix}.file={dut.path}",
        ]
    (folder / "environment.properties").write_text(
        "\n".join(_escape(x) for x in lines) + "\n", encoding="utf-8"
    )
    (folder / "categories.json").write_text(json.dumps(CATEGORIES, indent=2), encoding="utf-8")


def _escape(line: str) -> str:
    key, _, value = line.partition("=")
    return f"{key.replace(' ', '_')}={value}"


class AllureSteps(Listener):
    """Each step of a case as an Allure step, each HTTP exchange a step inside it with the
    request and the response attached; the case's title, description and parameters."""

    def __init__(self) -> None:
        self.open: list[Any] = []

    def case_started(self, case: Case, params: dict[str, Any]) -> None:
        suffix = f" [{', '.join(f'{k}={v}' for k, v in params.items())}]" if params else ""
        allure.dynamic.title(f"{case.id}: {case.title}{suffix}")
        for name, value in params.items():
            allure.dynamic.parameter(name, value)  # each variant is its own test in Allure
        allure.dynamic.description(describe(case, load_catalog()))

    def step_started(self, label: str) -> None:
        context = allure.step(label)
        context.__enter__()
        self.open.append(context)

    def exchange(self, exchange: HttpExchange) -> None:
        attach_exchange(exchange)

    def step_ended(self, label: str, problem: str | None) -> None:
        context = self.open.pop()
        error = AssertionError(problem) if problem else None
        context.__exit__(type(error) if error else None, error, None)

    def case_ended(self, record: CaseRecord) -> None:
        while self.open:
            self.open.pop().__exit__(None, None, None)
