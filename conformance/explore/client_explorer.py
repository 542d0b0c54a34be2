"""Exploring a client under test: learn its factory tree (one session of `INCLUDE *`), then let
Hypothesis generate session scripts over it; each runs as an engine case (the reference server,
the client's own processes, loopback HTTP) whose expectations are the model's predictions, and
the core judges every message as in every case. A run that is not PASS or INFORMATIONAL is a
divergence, filed under what it broke: the judge's rules under their own IDs, a prediction that
failed under the basis the model gave that prediction."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.core import rules
from conformance.core.errors import ProtocolError
from conformance.core.judge import read_client_message
from conformance.engine.harness import Harness
from conformance.engine.loader import load_case_file
from conformance.engine.records import CaseRecord, Verdict
from conformance.explore.model import (
    CONFIG_SESSION,
    DEFAULT_REPLACED,
    INITIATED_BY,
    World,
    supported,
    tree_from_document,
)
from conformance.explore.search import Exchanges, Outcome, canonical
from conformance.explore.strategies import Drawn, client_scripts, simpler
from conformance.explore.writer import Rendered, StepPlan, generated_by, render, write_case
from conformance.roles.exchange import HttpExchange

DISCOVERY_LEVELS = 64  # Levels of the discovery INCLUDE: deeper than any tree (JSON depth limit)
STEP_NAME = re.compile(r"\((?:[a-z_ ]+): (.+)\)$")


def step_name(label: str) -> str | None:
    """The name a step label carries: `step 4 (expect request: s1 m2)` -> `s1 m2`."""
    found = STEP_NAME.search(label)
    return found.group(1) if found else None


def _config_bases(text: str, plan: StepPlan) -> tuple[str, ...]:
    """Which sentence a configuration session at the wrong URL breaks: an earlier DEFAULT's
    ServerURL is A21, the right one without InitiatedBy is seed 6.2 DEFAULT's query."""
    got = re.search(r"got '([^']*)'", text)
    if got is None:
        return plan.places.get("url", plan.scope)
    url = got.group(1)
    suffixes = [u.removeprefix("{server_url}") for u in plan.config_urls]
    path = url.split("?", 1)[0]
    if len(suffixes) > 1 and any(path.endswith(s) for s in suffixes[:-1]):
        return (DEFAULT_REPLACED,)
    if path.endswith(suffixes[-1]) and "InitiatedBy=" not in url:
        return (INITIATED_BY,)
    return (CONFIG_SESSION,)


Received = Callable[[StepPlan, str], Any]
STATUS_MESSAGE = "status message"
AUX_MISSING = re.compile(r"^no (fetch|upload|browse) request")
CODE = re.compile(r"(?:got |code: )(\d+)")


def received_documents(exchanges: list[HttpExchange], profile: Any) -> Received:
    """Where to find the documents a run received: the INCLUDE parts of the n-th status message
    (the n-th message of the case answered with statuses; END messages and the sessions the
    harness closes at once get none), and the body of the upload to a content path."""
    messages = []
    uploads: dict[str, Any] = {}
    for exchange in exchanges:
        path = urlsplit(exchange.url).path
        if exchange.method == "POST" and path.startswith("/dm"):
            message, _ = read_client_message(
                exchange.request_headers, exchange.request_body, profile
            )
            if message is not None and message.statuses:
                messages.append(message)
        elif exchange.method in ("PUT", "POST") and path.startswith("/content/"):
            name = path.removeprefix("/content/")
            if name not in uploads:
                try:
                    uploads[name] = json.loads(exchange.request_body)
                except ValueError:
                    uploads[name] = None

    def lookup(step: StepPlan, place: str) -> Any:
        if place == STATUS_MESSAGE:  # whether the status message the step precedes came
            return step.message is not None and step.message < len(messages)
        if place == "body" and step.upload is not None:
            return uploads.get(step.upload)
        found = re.fullmatch(r"includes\[(\d+)\]", place)
        if found and step.message is not None and step.message < len(messages):
            parts = messages[step.message].includes
            index = int(found.group(1))
            return parts[index] if index < len(parts) else None
        return None

    return lookup


def attribute(
    record: CaseRecord, plan: dict[str, StepPlan], received: Received | None = None
) -> tuple[tuple[str, ...], dict[str, list[str]]]:
    """What a run broke, each ID once: the judge's rules under their own basis; a failed
    prediction under the basis of the place it failed at (a status, a URI, an INCLUDE part, an
    upload, a URL), found from the step's name and where the mismatch was reported; a document
    that differs, under what each differing entry rests on (the command that changed that node,
    else how the document is made). Also, per step, the IDs its failures name (the written
    case's steps verify those)."""
    ids: list[str] = []
    focus: dict[str, list[str]] = {}
    for finding in record.findings:
        if not finding.failed:
            continue
        name = step_name(finding.step)
        step = plan.get(name) if name else None
        if finding.rule != "case" or step is None or finding.basis not in step.scope:
            ids.append(finding.basis)
            if finding.rule == "case" and name:
                focus.setdefault(name, []).append(finding.basis)
            continue
        text = finding.message
        if step.config_urls and text.startswith("url"):
            bases = _config_bases(text, step)
        elif AUX_MISSING.match(text) and received is not None and step.message is not None:
            # no fetch, upload or browser request: when the status message that must follow
            # never came either, the client left the session (seed 6.3), the request with it
            came = received(step, STATUS_MESSAGE)
            bases = step.scope if came else (rules.SESSION_CONTINUES.basis,)
        else:
            places = sorted((p for p in step.places if text.startswith(p)), key=len)
            place = places[-1] if places else None
            bases = step.places[place] if place else step.scope
            doc = step.docs.get(place) if place else None
            if doc is not None and received is not None:
                bases = doc.bases_of(received(step, place or "")) or bases
            code = CODE.search(text)
            by_code = step.codes.get(place or "", {})
            if code and int(code.group(1)) in by_code:  # the code says what the client refused
                bases = by_code[int(code.group(1))]
        ids += bases
        focus.setdefault(str(name), []).extend(bases)
    unique = tuple(dict.fromkeys(ids))
    return unique, {k: list(dict.fromkeys(v)) for k, v in focus.items()}


class ClientExplorer:
    """Exploration of one client: discovery, then each generated script run as a case."""

    units = ("messages", "commands")  # what a script's size counts

    def __init__(self, harness: Harness, keep: Path, say: Callable[[str], None] = print) -> None:
        self.harness = harness
        self.dut = harness.dut_for("client")
        self.profile = harness.profile
        self.keep = keep  # where the cases of diverging runs are kept
        self.say = say
        self.world: World | None = None
        self.exchanges = 0  # HTTP exchanges of the generated runs

    # -- running one case -----------------------------------------------------------------------
    def run_data(
        self, data: dict[str, Any], name: str, keep: bool = False
    ) -> tuple[CaseRecord, list[HttpExchange]]:
        """Run case data as an engine case (written to its work folder, loaded as any case file
        is); its record and every exchange."""
        folder = self.harness.workdir(name)
        shutil.rmtree(folder)  # a run folder used again: no state of an earlier run
        folder.mkdir(parents=True)
        path = write_case(folder / "case.yaml", data)
        [case] = load_case_file(path, self.harness.catalog, self.profile)
        listener = Exchanges()
        record = self.harness.run_case(case, {}, name, [listener])
        if record.verdict.passing and not keep:
            shutil.rmtree(folder, ignore_errors=True)
        return record, listener.seen

    # -- discovery ------------------------------------------------------------------------------
    def discover(self) -> World:
        """The client's factory tree, as one INCLUDE of `*` shows it (and `*?Levels=64`, in case
        the client gives the whole tree only when asked for its levels). Without INCLUDE, or when
        the client's answer cannot be read, the model knows only the ixit facts."""
        tree = None
        include = self.profile.for_action("include")
        if supported(include, self.dut.features):
            star = str(self.profile.client_uri.wildcard)
            query = self.profile.client_uri.levels_query
            data = {
                "id": "DM20-C-X-DISCOVERY",
                "title": "exploration: the client's tree, as INCLUDE * shows it",
                "role": "client",
                "requirements": ["DM20-6.2-015"],
                "requires": [include.feature] if include.feature else [],
                "steps": [
                    {"open": "session"},
                    {
                        "send": "commands",
                        "commands": [
                            [include.name, f"{star}?{query}={DISCOVERY_LEVELS}"],
                            [include.name, star],
                        ],
                    },
                    {"expect": "request"},
                    {"close": "session"},
                ],
            }
            record, exchanges = self.run_data(data, "discovery", keep=True)
            tree = self._tree(exchanges)
            if tree is None:
                self.say(
                    "discovery: the client's tree could not be read from its INCLUDE answer "
                    f"({record.verdict.value}); exploring with the ixit facts only"
                )
        self.world = World.of(self.dut, self.profile, tree)
        return self.world

    def _tree(self, exchanges: list[HttpExchange]) -> dict[str, Any] | None:
        posts = [e for e in exchanges if e.method == "POST" and "/dm" in e.url]
        if len(posts) < 2:
            return None
        answer = posts[1]
        message, _ = read_client_message(answer.request_headers, answer.request_body, self.profile)
        if message is None or len(message.statuses) != 2:
            return None
        ok = self.profile.status.ok
        succeeded = [s.sc == ok for s in message.statuses]
        if not any(succeeded) or len(message.includes) != sum(succeeded):
            return None
        try:
            return tree_from_document(message.includes[0], str(self.profile.client_uri.separator))
        except (ValueError, ProtocolError):
            return None

    # -- exploring ------------------------------------------------------------------------------
    def strategy(self) -> Any:
        assert self.world is not None
        return client_scripts(self.world)

    def simpler(self, drawn: Drawn) -> Any:
        assert self.world is not None
        return simpler(self.world, drawn)

    def render(self, drawn: Drawn, **fields: Any) -> Rendered:
        assert self.world is not None
        fields.setdefault("case_id", "DM20-C-X-0")
        fields.setdefault("title", "exploration example")
        return render(drawn.script, self.world, **fields)

    def key(self, drawn: Drawn) -> str:
        return canonical(self.render(drawn).data)

    def run(self, drawn: Drawn, number: int) -> Outcome:
        rendered = self.render(drawn, title=f"exploration example {number}")
        record, exchanges = self.run_data(rendered.data, f"example-{number:05d}")
        self.exchanges += len(exchanges)
        if record.verdict in (Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE):
            return Outcome(
                record, trouble=record.message or record.verdict.value, data=rendered.data
            )
        if record.verdict.passing:
            return Outcome(record, data=rendered.data)
        ids, focus = attribute(record, rendered.plan, received_documents(exchanges, self.profile))
        return Outcome(record, ids or tuple(record.failed), focus, data=rendered.data)

    def describe_model(self, world: World) -> str:
        features = ", ".join(sorted(world.features)) or "none"
        if world.tree is None:
            return f"the ixit facts only (no tree learned); features {features}"
        count = sum(len(mo) for mo in world.tree.values() if isinstance(mo, dict))
        return (
            f"the client's tree as INCLUDE * shows it ({len(world.tree)} MOs, {count} instances "
            f"the server may access); features {features}"
        )

    def written(
        self, drawn: Drawn, outcome: Outcome, case_id: str, seed: int, found: Any
    ) -> dict[str, Any]:
        """The case of a divergence: the shrunk script, naming what it broke."""
        ids = list(outcome.ids)
        messages, commands = found.size
        description = (
            generated_by(self.dut, seed, f"{messages} messages and {commands} commands", found.run)
            + ". The model of the profile allows other outcomes than the implementation's here; "
            f"it breaks {', '.join(ids)}."
        )
        rendered = self.render(
            drawn,
            case_id=case_id,
            title=f"Exploration (seed {seed}): a session that breaks {', '.join(ids)}",
            description=description,
            requirements=ids,
            focus=outcome.focus,
        )
        return rendered.data
