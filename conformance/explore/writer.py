"""Generated scripts as YAML cases: every session as the case format writes it (`open: session`,
`send: commands` + `expect: request` with the statuses the model allows, `$in` where it allows
several), with the fetch, upload and browser requests the commands must make, and a plan that
says, for every place a step checks, which requirement or assumption an outcome outside the
prediction breaks. Exploration runs the cases it renders; the case of a divergence is written to
the run folder, ready for `--cases`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.dut import DutFile
from conformance.explore.model import (
    ALERT,
    ALERT_RESULT,
    CONFIG_SESSION,
    DEFAULT_REPLACED,
    FIRST_MESSAGE,
    GET_FETCH,
    INITIATED_BY,
    NO_TREE_ACCESS,
    SHOW,
    SHOW_PAUSES,
    STATUS_URI,
    UNDELIVERED,
    DocPlan,
    Expected,
    Script,
    Session,
    World,
    dedupe,
    lit,
)
from conformance.profiles import Profile

CASE_PREFIX = {"client": "DM20-C-X", "server": "DM20-S-X"}


@dataclass
class StepPlan:
    """What one generated step checks: the IDs it verifies, and for each place a mismatch can be
    reported at (`statuses[1].uri`, `includes[0]`, `url`, …), what a mismatch there breaks."""

    scope: tuple[str, ...]
    places: dict[str, tuple[str, ...]] = field(default_factory=dict)
    config_urls: tuple[str, ...] = ()  # a configuration session: every ServerURL DEFAULT gave
    docs: dict[str, DocPlan] = field(default_factory=dict)  # place -> how to read a document
    message: int | None = None  # the status message it belongs to: which one of the case
    codes: dict[str, dict[int, tuple[str, ...]]] = field(default_factory=dict)  # place -> code
    upload: str | None = None  # an upload step: the content path

    def add(self, place: str, bases: tuple[str, ...]) -> None:
        self.places[place] = dedupe([*self.places.get(place, ()), *bases])


@dataclass
class Rendered:
    """A script as case data, and the plan of each named step."""

    data: dict[str, Any]
    plan: dict[str, StepPlan]

    @property
    def requirements(self) -> list[str]:
        return list(self.data["requirements"])


def status_name(profile: Profile, code: int) -> str | int:
    names = {int(v): k for k, v in profile.status.items()}
    return names.get(code, code)


def codes_value(profile: Profile, codes: frozenset[int]) -> Any:
    """A status code as a case writes it: its profile name, or `{$in: [...]}` of several."""
    ordered = sorted(codes)
    if len(ordered) == 1:
        return status_name(profile, ordered[0])
    return {"$in": [status_name(profile, c) for c in ordered]}


class _Renderer:
    def __init__(self, script: Script, world: World) -> None:
        self.script = script
        self.world = world
        self.profile = world.profile
        self.steps: list[dict[str, Any]] = []
        self.plan: dict[str, StepPlan] = {}
        self.messages = 0  # status messages so far

    def step(self, data: dict[str, Any], plan: StepPlan | None = None) -> None:
        if plan is not None:
            data["verifies"] = list(plan.scope)
            self.plan[data["name"]] = plan
        self.steps.append(data)

    def aux(self, name: str, command: Expected, message: int | None) -> None:
        """The fetch, upload and browser requests a command must make; `message`: the status
        message that must follow them (None: the message has END)."""
        if command.fetch is not None:
            self.step(
                {"expect": "fetch", "path": command.fetch, "name": f"{name} fetch"},
                StepPlan((GET_FETCH,), message=message),
            )
        upload = command.upload
        if upload is not None:
            plan = StepPlan(upload.method_basis, message=message)
            plan.add("method", upload.method_basis)
            self.step(
                {
                    "expect": "upload",
                    "path": upload.path,
                    "method": upload.method,
                    "name": f"{name} upload",
                },
                plan,
            )
            if upload.body is not None:
                plan = StepPlan(upload.body_basis, upload=upload.path, message=message)
                plan.add("body", upload.body_basis)
                if upload.body_plan is not None:
                    plan.docs["body"] = upload.body_plan
                self.step(
                    {
                        "expect": "upload",
                        "path": upload.path,
                        "body": upload.body,
                        "name": f"{name} document",
                    },
                    plan,
                )
        if command.browse is not None:
            self.step(
                {"expect": "browse", "path": command.browse, "name": f"{name} browser"},
                StepPlan((SHOW,), message=message),
            )
            plan = StepPlan((NO_TREE_ACCESS,), message=message)
            plan.add("headers", (NO_TREE_ACCESS,))
            media = self.profile.media
            dm_types = "|".join(re.escape(m) for m in (media.command, media.tnds, media.status))
            no_dm_types = {"$regex": f"(?i)^(?!.*({dm_types})\\b)"}
            self.step(
                {
                    "expect": "browse",
                    "path": command.browse,
                    "headers_absent": [self.profile.headers.device_id],
                    "headers": {
                        self.profile.headers.accept: {"$in": [{"$absent": True}, no_dm_types]}
                    },
                    "name": f"{name} no tree access",
                },
                plan,
            )

    def message(self, name: str, commands: list[Expected]) -> None:
        """A message answered with statuses: send, the requests it makes, its status message."""
        self.step({"send": "commands", "commands": [c.command for c in commands]})
        for index, command in enumerate(commands, 1):
            self.aux(f"{name} c{index}", command, self.messages)
        plan = StepPlan(())
        statuses: list[dict[str, Any]] = []
        saves: dict[str, str] = {}
        for index, command in enumerate(commands):
            entry: dict[str, Any] = {"code": codes_value(self.profile, command.codes)}
            plan.add(f"statuses[{index}]", command.basis)
            if command.if_code:
                plan.codes[f"statuses[{index}]"] = command.if_code
            if command.uri is not None:
                entry["uri"] = command.uri
                plan.add(f"statuses[{index}].uri", command.uri_basis)
            if command.save is not None:
                saves[command.save] = f"statuses[{index}].uri[0]"
                plan.add(f"save {command.save}", (STATUS_URI,))
            statuses.append(entry)
        data: dict[str, Any] = {"expect": "request", "name": name, "statuses": statuses}
        include = self.profile.for_action("include").name
        includes = [c for c in commands if c.command[0] == include]
        if includes and all(
            c.part is not None or not c.include_may_succeed(self.profile) for c in includes
        ):
            parts = [c for c in includes if c.part is not None]
            data["includes"] = [c.part for c in parts]
            for index, command in enumerate(parts):
                plan.add(f"includes[{index}]", command.part_basis)
                if command.part_plan is not None:
                    plan.docs[f"includes[{index}]"] = command.part_plan
            plan.add("includes", dedupe(b for c in parts for b in c.part_basis))
        if any(c.browse for c in commands):
            plan.add("this message came before", (SHOW_PAUSES,))
        if saves:
            data["save"] = saves
        plan.scope = dedupe(b for bases in plan.places.values() for b in bases)
        plan.message = self.messages
        self.messages += 1
        self.step(data, plan)

    def session(self, number: int, session: Session) -> None:
        name = f"s{number}"
        plan = StepPlan((FIRST_MESSAGE,))
        opening: dict[str, Any] = {"open": "session", "name": f"{name} open"}
        if session.undelivered is not None:
            opening["alerts"] = {"$contains": {"type": "generic", "source": session.undelivered}}
            plan.add("alerts", (UNDELIVERED,))
            plan.scope = (FIRST_MESSAGE, UNDELIVERED)
        self.step(opening, plan)
        for index, message in enumerate(session.messages, 1):
            self.message(f"{name} m{index}", message)
        ending = session.ending
        if ending.kind == "refuse":
            self.step({"send": "answer", **ending.answer})
            self.step({"expect": "end"})
            return
        if not session.final:
            self.step({"close": "session"})
            return
        end = self.profile.for_action("end").name
        self.step({"send": "commands", "commands": [*(c.command for c in session.final), [end]]})
        for index, command in enumerate(session.final, 1):
            self.aux(f"{name} end c{index}", command, None)
        alert = session.alert
        if alert is None:
            self.step({"expect": "end"})
            return
        plan = StepPlan((ALERT, ALERT_RESULT))
        plan.add("url", (ALERT,))
        plan.add("alerts", (ALERT, ALERT_RESULT))
        result = "{profile.keys.result}"
        self.step(
            {
                "expect": "request",
                "first": True,
                "name": f"{name} generic alert",
                "url": alert.url,
                "alerts": {
                    "$contains": {
                        "type": "generic",
                        "source": alert.source,
                        "data": {result: {"$type": "integer"}},
                    }
                },
            },
            plan,
        )
        if alert.refuse:
            self.step({"send": "answer", "status": 500})
            self.step({"expect": "end"})
        else:
            self.step({"close": "session"})

    def config(self) -> None:
        config = self.script.config
        if config is None:
            return
        query = self.profile.default_query
        url = f"{config.urls[-1]}?{query.name}={config.initiated_by}"
        bases = (CONFIG_SESSION, INITIATED_BY) + (
            (DEFAULT_REPLACED,) if len(config.urls) > 1 else ()
        )
        plan = StepPlan(bases, config_urls=tuple(config.urls))
        plan.add("url", bases)
        self.step(
            {
                "start": "config_request",
                "moid": lit(config.moid),
                "initiated_by": config.initiated_by,
            }
        )
        self.step({"expect": "request", "first": True, "name": "configuration", "url": url}, plan)
        self.step({"close": "session"})


def render(
    script: Script,
    world: World,
    case_id: str,
    title: str,
    description: str = "",
    requirements: list[str] | None = None,
    focus: dict[str, list[str]] | None = None,
) -> Rendered:
    """The case of `script`. `requirements` (default: every ID the steps verify) and `focus`
    (a step name -> the IDs that step verifies instead) make the written case of a divergence
    name what it broke."""
    renderer = _Renderer(script, world)
    for number, session in enumerate(script.sessions, 1):
        renderer.session(number, session)
    renderer.config()
    for step in renderer.steps:
        if focus and step.get("name") in focus:
            step["verifies"] = list(focus[step["name"]])
    verified = dedupe(b for s in renderer.steps for b in s.get("verifies", ()))
    data: dict[str, Any] = {
        "id": case_id,
        "title": title,
        "role": "client",
        "requirements": list(requirements or verified or (FIRST_MESSAGE,)),
    }
    if description:
        data["description"] = description
    assumptions = sorted(
        {b for b in verified if re.fullmatch(r"A[0-9]+", b)}, key=lambda a: int(a[1:])
    )
    if assumptions:
        data["assumptions"] = assumptions
    features = script.features()
    default = world.profile.for_action("default").feature
    if script.config is not None and default is not None and default not in features:
        features.append(default)
    if features:
        data["requires"] = sorted(features)
    if script.content:
        data["content"] = dict(script.content)
    if script.pages:
        data["pages"] = dict(script.pages)
    data["steps"] = renderer.steps
    return Rendered(data, renderer.plan)


class _Dumper(yaml.SafeDumper):
    """YAML a person reads: a value written twice is written twice, not as an alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def generated_by(dut: DutFile, seed: int, shrunk_to: str, run: int) -> str:
    """How a written case's description begins: where it came from and what it was shrunk to."""
    return (
        f"Generated by dm20-conformance explore (seed {seed}) against {dut.name} {dut.version}, "
        f"shrunk to {shrunk_to} (run {run})"
    )


def dump(data: dict[str, Any] | list[dict[str, Any]], header: str = "") -> str:
    """Case data as YAML, with a comment at the top."""
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return lines + text


def write_case(path: Path, data: dict[str, Any], header: str = "") -> Path:
    """Write one case file (its folder made); the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump(data, header), encoding="utf-8")
    return path
