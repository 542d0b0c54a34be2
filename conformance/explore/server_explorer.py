"""Exploring a server under test: Hypothesis generates rounds of `enqueue` batches (every command
of the table the server declares, aimed at the simulated device's tree, the harness's content and
web URLs and the server's own URL for CONT, DEFAULT and EXEC's ServerURI) and device answers (a
status of each command's row dictated for some commands), each round followed by a session of
the simulated device. The model of a conforming server: every queued command reaches the device,
in the order queued, however the server groups them into messages (A15), then END ends the
session (seed 5.2); whatever status the device reports, the server goes on; every answer is a
command message the core's judge accepts (HTTP 200, Content-Type, the command table, A2, A18,
A20). A run that is not PASS or INFORMATIONAL is a divergence, filed under the IDs its record
names."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from conformance.engine.harness import Harness
from conformance.engine.loader import load_case_file
from conformance.engine.records import CaseRecord, Verdict
from conformance.explore.search import Exchanges, Outcome, canonical
from conformance.explore.writer import generated_by, write_case
from conformance.profiles import Profile

Draw = Callable[[st.SearchStrategy[Any]], Any]
SESSION_ENDS = "DM20-5.2-004"
STATUS_REPORTS = "DM20-5.2-005"
MOIDS = ["urn:oma:mo:oma-mms:1.0", "urn:oma:mo:oma-email:1.0"]
PAGE = "<html><body><h1>explore</h1></body></html>"
TARGETS = [
    "{device.instance_uri}",
    "{device.other_instance_uri}",
    "{device.leaf_uri}",
    "{device.instance_uri}/Settings",
    "{device.writable_moid}/7",
    "{device.permanent_uri}",
    "{device.private_uri}",
    "{device.writable_moid}/98",
]


@dataclass(frozen=True)
class Queued:
    """One command to queue, the content or page it names, and the status the device reports
    for it when the round dictates one (a status name of its row; None: the device's own)."""

    command: tuple[str, ...]
    content: tuple[str, Any] | None = None  # (name, document) served at {content_url}/name
    page: str | None = None  # served at {web_url}/page
    answer: str | None = None


@dataclass(frozen=True)
class Round:
    """Batches queued through the enqueue hook, then one session of the device."""

    batches: tuple[tuple[Queued, ...], ...]


@dataclass(frozen=True)
class ServerPlan:
    rounds: tuple[Round, ...]

    def size(self) -> tuple[int, int]:
        batches = sum(len(r.batches) for r in self.rounds)
        return batches, sum(len(b) for r in self.rounds for b in r.batches)

    def features(self, profile: Profile) -> list[str]:
        """The features the queued commands need (A6)."""
        specs = (profile.command(q.command[0]) for r in self.rounds for b in r.batches for q in b)
        return sorted({s.feature for s in specs if s is not None and s.feature})


def _queued(draw: Draw, action: str, profile: Profile, name: str) -> Queued:
    """A command that performs `action` (the profile's action) the server is asked to send."""
    spec = profile.for_action(action)
    target = draw(st.sampled_from(TARGETS))
    levels = draw(st.sampled_from(["", "?Levels=1", "?Levels=0"]))
    content = None
    page = None
    command: tuple[str, ...]
    if action == "get":
        with_uri = draw(st.booleans())
        if with_uri:
            command = (spec.name, "{content_url}/" + name, "{device.writable_moid}/7")
            content = (name, {"any": {"Name": "explored"}})
        else:
            command = (spec.name, "{content_url}/" + name)
            content = (name, {"{device.writable_moid}/8": {"Name": "explored"}})
    elif action in ("put", "post"):
        extra = draw(st.sampled_from([(), ("{device.permanent_uri}",)]))
        uri = draw(st.sampled_from([target + levels, "*" + levels]))
        command = (spec.name, "{content_url}/" + name, uri, *extra)
    elif action == "delete":
        command = (spec.name, target)
    elif action == "exec":
        command = (spec.name, "{device.exec_uri}", *draw(st.sampled_from([(), ("{server_url}",)])))
    elif action == "include":
        command = (spec.name, draw(st.sampled_from([target, "*"])) + levels)
    elif action == "show":
        command = (spec.name, "{web_url}/" + name)
        page = name
    elif action == "default":
        command = (spec.name, draw(st.sampled_from(MOIDS)), "{server_url}")
    elif action == "cont":
        command = (spec.name, "{server_url}")
    else:
        raise ValueError(action)
    answers: list[str | None] = [None]
    if action != "include":  # an INCLUDE's status goes with its data
        skip = {"ok"} if action == "get" else set()  # a GET's 200 carries where it stored (A17)
        answers += [s for s in spec.statuses if s not in skip]
    answer = draw(st.sampled_from(answers))
    return Queued(command, content, page, answer)


def server_plans(profile: Profile, features: tuple[str, ...]) -> st.SearchStrategy[ServerPlan]:
    """Rounds of up to three batches of up to three commands the server declares."""
    actions = [
        c.action
        for c in profile.commands
        if c.feature and c.feature in features and c.action != "end"
    ]

    @st.composite
    def draw_plan(draw: Draw) -> ServerPlan:
        counter = iter(range(1, 1000))
        rounds = []
        for _ in range(draw(st.sampled_from([1, 1, 2]))):
            batches = []
            for _ in range(draw(st.integers(0, 3))):
                count = draw(st.integers(1, 3))
                batches.append(
                    tuple(
                        _queued(draw, draw(st.sampled_from(actions)), profile, f"x{next(counter)}")
                        for _ in range(count)
                    )
                )
            rounds.append(Round(tuple(batches)))
        return ServerPlan(tuple(rounds))

    if not actions:
        return st.just(ServerPlan((Round(()),)))
    return draw_plan()


def simpler_plans(plan: ServerPlan) -> Iterator[ServerPlan]:
    """Plans one step smaller: a round, a batch, a command, a dictated status less."""
    rounds = list(plan.rounds)
    if len(rounds) > 1:
        for index in range(len(rounds)):
            yield ServerPlan(tuple(rounds[:index] + rounds[index + 1 :]))
    for r, round_ in enumerate(rounds):
        batches = list(round_.batches)

        def with_batches(new: list[tuple[Queued, ...]], r: int = r) -> ServerPlan:
            return ServerPlan(tuple([*rounds[:r], Round(tuple(new)), *rounds[r + 1 :]]))

        for b in range(len(batches)):
            yield with_batches(batches[:b] + batches[b + 1 :])
        for b, batch in enumerate(batches):
            for q in range(len(batch)):
                shorter = batch[:q] + batch[q + 1 :]
                yield with_batches(batches[:b] + ([shorter] if shorter else []) + batches[b + 1 :])
        for b, batch in enumerate(batches):
            for q, queued in enumerate(batch):
                if queued.answer is not None:
                    plain = (*batch[:q], replace(queued, answer=None), *batch[q + 1 :])
                    yield with_batches([*batches[:b], plain, *batches[b + 1 :]])


def render_plan(
    plan: ServerPlan, profile: Profile, case_id: str, title: str, description: str = ""
) -> dict[str, Any]:
    """A plan as a server-role case."""
    end = profile.for_action("end").name
    steps: list[dict[str, Any]] = []
    content: dict[str, Any] = {}
    pages: dict[str, str] = {}
    for number, round_ in enumerate(plan.rounds, 1):
        sent: list[list[str]] = []
        answers = []
        for batch in round_.batches:
            commands = [list(q.command) for q in batch]
            steps.append({"enqueue": commands})
            sent += commands
            for queued in batch:
                if queued.content is not None:
                    content[queued.content[0]] = queued.content[1]
                if queued.page is not None:
                    pages[queued.page] = PAGE
                if queued.answer is not None:
                    answers.append({"command": list(queued.command), "code": queued.answer})
        run: dict[str, Any] = {
            "run": "session",
            "name": f"r{number}",
            "contains": [*sent, [end]],
            "verifies": [SESSION_ENDS, STATUS_REPORTS],
        }
        if answers:
            run["answers"] = answers
        steps.append(run)
    data: dict[str, Any] = {
        "id": case_id,
        "title": title,
        "role": "server",
        "requirements": [STATUS_REPORTS, SESSION_ENDS],
    }
    if description:
        data["description"] = description
    data["assumptions"] = ["A2", "A5", "A15"]
    features = plan.features(profile)
    if features:
        data["requires"] = features
    if content:
        data["content"] = content
    if pages:
        data["pages"] = pages
    data["steps"] = steps
    return data


@dataclass
class ServerWorld:
    """What exploration knows of a server: its declared features."""

    features: tuple[str, ...]


class ServerExplorer:
    """Exploration of one server: each generated plan run as a server-role case."""

    units = ("batches", "commands")  # what a plan's size counts

    def __init__(self, harness: Harness, keep: Any, say: Callable[[str], None] = print) -> None:
        self.harness = harness
        self.dut = harness.dut_for("server")
        self.profile = harness.profile
        self.say = say
        self.exchanges = 0  # HTTP exchanges of the generated runs

    def discover(self) -> ServerWorld:
        return ServerWorld(self.dut.features)

    def describe_model(self, world: ServerWorld) -> str:
        hook = "with" if self.dut.has("enqueue") else "WITHOUT (only empty sessions)"
        return (
            f"every queued command reaches the device in order, then END; features "
            f"{', '.join(world.features)}; {hook} an enqueue hook"
        )

    def strategy(self) -> st.SearchStrategy[ServerPlan]:
        features = self.dut.features if self.dut.has("enqueue") else ()
        return server_plans(self.profile, features)

    def simpler(self, plan: ServerPlan) -> Iterator[ServerPlan]:
        return simpler_plans(plan)

    def key(self, plan: ServerPlan) -> str:
        return canonical(render_plan(plan, self.profile, "DM20-S-X-0", "exploration example"))

    def run_data(self, data: dict[str, Any], name: str) -> CaseRecord:
        folder = self.harness.workdir(name)
        shutil.rmtree(folder)  # a run folder used again: no state of an earlier run
        folder.mkdir(parents=True)
        path = write_case(folder / "case.yaml", data)
        [case] = load_case_file(path, self.harness.catalog, self.profile)
        listener = Exchanges()
        record = self.harness.run_case(case, {}, name, [listener])
        self.exchanges += len(listener.seen)
        if record.verdict.passing:
            shutil.rmtree(folder, ignore_errors=True)
        return record

    def run(self, plan: ServerPlan, number: int) -> Outcome:
        data = render_plan(plan, self.profile, "DM20-S-X-0", f"exploration example {number}")
        record = self.run_data(data, f"example-{number:05d}")
        if record.verdict in (Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE):
            return Outcome(record, trouble=record.message or record.verdict.value, data=data)
        if record.verdict.passing:
            return Outcome(record, data=data)
        return Outcome(record, tuple(record.failed), data=data)

    def written(
        self, plan: ServerPlan, outcome: Outcome, case_id: str, seed: int, found: Any
    ) -> dict[str, Any]:
        ids = list(outcome.ids)
        batches, commands = found.size
        shrunk_to = f"{batches} queued batches and {commands} commands"
        description = (
            f"{generated_by(self.dut, seed, shrunk_to, found.run)}; it breaks {', '.join(ids)}."
        )
        data = render_plan(
            plan,
            self.profile,
            case_id,
            f"Exploration (seed {seed}): queued commands that break {', '.join(ids)}",
            description,
        )
        data["requirements"] = ids
        return data
