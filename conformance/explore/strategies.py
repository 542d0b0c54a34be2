"""Hypothesis strategies of exploration for a client under test: session scripts over the
client's tree. A script is drawn as a plan of *acts* (each command's concrete choice: the command,
its targets, the document it fetches), chosen against the model as it changes, so that every
target is one the model predicts an outcome for; the plan is then built into the script by
applying each act to a fresh model. Building is deterministic, so a plan with acts, messages or
sessions taken out is still a script the model predicts (what exploration's own shrinking does
after Hypothesis's, `simpler`).

Choices are ordered simplest first, so that Hypothesis shrinks towards one session, few
messages, few commands, END alone, and the plainest command that still fails."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import strategies as st

from conformance.explore.model import (
    CODES,
    GRAMMAR,
    NEW,
    NONE_MOID,
    Config,
    Ending,
    Expected,
    Model,
    Path,
    Script,
    Session,
    Uri,
    World,
    depth,
    lit,
    lit_value,
)

Draw = Callable[[st.SearchStrategy[Any]], Any]

NAMES = ["Name", "Mode", "Level", "Settings", "Extra"]
LEAVES: list[Any] = ["a", "b", 1, 7, True, ""]
# deliberately not in the profile: names no command has (A18), some of them a command's name in
# other letters' case
UNKNOWN_NAMES = ["get", "FETCH", "Delete", "HGET", "SUB", "include"]
MOIDS = ["urn:oma:mo:oma-mms:1.0", "urn:oma:mo:oma-email:1.0"]
PAGE = "<html><body><h1>explore</h1></body></html>"
BAD_CONTENT: dict[str, dict[str, Any]] = {
    "notjson": {"body": lit('{"any": ')},
    "array": {"body": lit('[{"Name": "x"}]')},
    "http404": {"status": 404, "body": lit('{"any": {"Name": "x"}}')},
}


@dataclass(frozen=True)
class Act:
    """One command's concrete choice: its kind and arguments (JSON values as JSON text)."""

    kind: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class SessionPlan:
    messages: tuple[tuple[Act, ...], ...] = ()
    final: tuple[Act, ...] = ()  # sent with END
    ending: str = "end"  # "end" | "with" (END with the final acts) | "refuse" (A1)
    answer: int = 0  # which refused answer
    owed: bool = False  # carries the Generic Alert the session before refused (seed 5.2)


@dataclass(frozen=True)
class ScriptPlan:
    sessions: tuple[SessionPlan, ...]
    config: tuple[str, str] | None = None  # (MOID, InitiatedBy) of a configuration request


@dataclass
class Drawn:
    """A plan and the script it builds into."""

    plan: ScriptPlan
    script: Script

    def size(self) -> tuple[int, int]:
        return self.script.size()


@dataclass
class Context:
    """A script being built."""

    world: World
    model: Model
    script: Script
    exec_in_session: bool = False
    final: bool = False  # building the commands sent with END (they get no status)
    acts: list[Act] = field(default_factory=list)


# -- building: acts applied to the model --------------------------------------------------------
def _usable(ctx: Context, path: Path | None) -> bool:
    """Whether an act may name `path`: a new instance only once a GET of the script made it
    (and its message is over)."""
    if path is None:
        return True
    if len(path) >= 2 and path[1].startswith(NEW):
        mo = ctx.model.tree.get(path[0])
        if not isinstance(mo, dict) or path[1] not in mo:
            return False
    return ctx.model.usable(path)


def _apply(ctx: Context, act: Act) -> Expected | None:
    """The command of `act` and the model's prediction of it (None when the act no longer
    makes sense: it names a new instance no longer made, an alert where none may be)."""
    model, script, args = ctx.model, ctx.script, act.args
    kind = act.kind
    if kind == "include":
        uris = [u for u in args[0] if _usable(ctx, u.path)]
        return model.include(uris) if uris else None
    if kind == "upload":
        action, uris, refused = args
        uris = [u for u in uris if _usable(ctx, u.path)]
        if not uris:
            return None
        name = model.fresh_name("up")
        if refused:
            script.content[name] = {"upload_status": 500}
        return model.upload(action, uris, name, refused)
    if kind == "delete":
        return model.delete(args[0]) if _usable(ctx, args[0]) else None
    if kind == "get_into":
        content, target, value_text, extra = args
        if not _usable(ctx, target):
            return None
        value = json.loads(value_text)
        doc = model.fresh_name("doc")
        if content == "one":
            script.content[doc] = {"any": lit_value(value)}
        elif content == "multi":
            script.content[doc] = {"any": lit_value(value), "other": lit_value(value)}
        elif content == "media":
            body = lit(json.dumps({"any": value}))
            script.content[doc] = {"raw": {"content_type": extra, "body": body}}
        else:
            script.content[doc] = {"raw": dict(BAD_CONTENT[extra])}
        return model.get_into(doc, content, value, target)
    if kind == "get_keys":
        entries = [(p, json.loads(v)) for p, v in args[0] if not p[1].startswith(NEW)]
        if not entries:
            return None
        doc = model.fresh_name("doc")
        script.content[doc] = {model.key(p): lit_value(v) for p, v in entries}
        return model.get_keys(doc, entries)
    if kind == "get_new":
        if ctx.final or ctx.world.writable is None:
            return None
        value = json.loads(args[0])
        doc = model.fresh_name("doc")
        separator = ctx.world.separator
        script.content[doc] = {lit(ctx.world.writable) + separator: lit_value(value)}
        return model.get_new(doc, value)
    if kind == "exec":
        path, alert, refuse = args
        if not _usable(ctx, path):
            return None
        if alert:
            if not ctx.final or ctx.exec_in_session or path != ctx.world.exec_path:
                return None
            expected = model.execute(path, "{server_url}/" + model.fresh_name("alert"))
            if expected.alert is not None:
                expected.alert.refuse = refuse
        else:
            expected = model.execute(path)
        if expected.codes & {model.ok, model.code("accepted")}:  # executed: an alert may come
            ctx.exec_in_session = True
        return expected
    if kind == "show":
        page = model.fresh_name("page")
        script.pages[page] = PAGE
        return model.show(page)
    if kind == "default":
        return model.default(args[0], "{server_url}/" + model.fresh_name("cfg"))
    if kind == "cont":
        return model.cont("{server_url}/" + model.fresh_name("cont"))
    if kind == "unknown":
        return model.unknown(list(args[0]))
    if kind == "malformed":
        command, basis, feature = args
        return model.malformed(list(command), basis, feature)
    raise ValueError(f"no act {kind!r}")


def refused_answers(world: World) -> list[dict[str, Any]]:
    """Answers the client must refuse, so it aborts and sends nothing more (A1): a command
    message with HTTP 500, one labelled text/plain, and application/dm20 that is no message."""
    profile = world.profile
    # FETCH: deliberately a name the profile does not have, for a client that takes no INCLUDE
    name = profile.for_action("include").name if world.supports("include") else "FETCH"
    body = {profile.keys.commands: [[name, NONE_MOID + "/0"]]}
    media, content_type, ok = profile.media.command, profile.headers.content_type, profile.http_ok
    return [
        {"status": 500, "headers": {content_type: media}, "body": body},
        {"status": ok, "headers": {content_type: profile.media.text}, "body": body},
        {"status": ok, "headers": {content_type: media}, "body": "no command message"},
    ]


def _build_session(ctx: Context, plan: SessionPlan) -> Session:
    model = ctx.model
    session = Session()
    ctx.exec_in_session = False
    for acts in plan.messages:
        message = [e for e in (_apply(ctx, a) for a in acts) if e is not None]
        model.end_message()
        if message:
            session.messages.append(message)
    if plan.ending == "with":
        ctx.final = True
        session.final = [e for e in (_apply(ctx, a) for a in plan.final) if e is not None]
        ctx.final = False
        model.end_message()
    elif plan.ending == "refuse":
        answers = refused_answers(ctx.world)
        session.ending = Ending("refuse", answers[plan.answer % len(answers)])
    return session


def build(world: World, plan: ScriptPlan) -> Drawn | None:
    """The script of `plan` (None when nothing of it is left)."""
    model = Model(world)
    script = Script()
    ctx = Context(world, model, script)
    owed_by: Session | None = None
    for session_plan in plan.sessions:
        if session_plan.owed:
            alert = owed_by.alert if owed_by is not None else None
            if alert is not None and alert.refuse:
                script.sessions.append(Session(undelivered=alert.source))
            owed_by = None
            continue
        session = _build_session(ctx, session_plan)
        script.sessions.append(session)
        owed_by = session
    if not script.sessions:
        return None
    if plan.config is not None:
        moid, who = plan.config
        if world.config_request and model.defaults.get(moid):
            script.config = Config(moid, who, list(model.defaults[moid]))
    return Drawn(plan, script)


# -- drawing: acts chosen against the model as it changes ---------------------------------------
def _pick(draw: Draw, items: list[Any]) -> Any:
    return draw(st.sampled_from(items))


def _value(draw: Draw, levels: int, interior: bool = False) -> Any:
    """A small JSON node: a leaf, or an interior node of up to two children."""
    if not interior and (levels == 0 or draw(st.booleans()) is False):
        return _pick(draw, LEAVES)
    count = draw(st.integers(0 if levels == 0 else 1, 2 if levels else 0))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=count, max_size=count, unique=True))
    return {n: _value(draw, max(levels - 1, 0)) for n in names}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _uris(draw: Draw, ctx: Context) -> tuple[Uri, ...]:
    """One or two ClientURIs for INCLUDE, PUT or POST: nodes (lately touched ones first), `*`,
    missing nodes, the private instance; each with or without Levels."""
    model, world = ctx.model, ctx.world
    pools: list[tuple[str, list[Path]]] = [
        ("recent", [p for p in model.recent if model.usable(p) and model.exists(p) is not None]),
        ("node", model.nodes()),
        ("missing", model.missing()),
        ("private", [world.private] if world.private else []),
    ]
    # the nodes the session works on most, the refusals (missing, private) least
    weights = {"recent": 3, "node": 3, "star": 2, "missing": 1, "private": 1}
    kinds = [name for name, pool in pools if pool]
    kinds.insert(min(2, len(kinds)), "star")
    kinds = [name for name in kinds for _ in range(weights[name])]
    levels_of = st.sampled_from([None, 1, 0, 2, 3])
    uris: list[Uri] = []
    for _ in range(draw(st.integers(1, 2))):
        kind = _pick(draw, kinds)
        if kind == "star":
            if not uris:
                return (Uri(None, draw(levels_of)),)
            continue
        path = _pick(draw, dict(pools)[kind])
        if all(u.path != path for u in uris):
            uris.append(Uri(path, draw(levels_of)))
    return tuple(uris)


def _draw_include(draw: Draw, ctx: Context) -> Act:
    return Act("include", (_uris(draw, ctx),))


def _draw_upload(draw: Draw, ctx: Context, action: str) -> Act:
    refused = draw(st.sampled_from([False, False, False, True]))
    return Act("upload", (action, _uris(draw, ctx), refused))


def _draw_delete(draw: Draw, ctx: Context) -> Act:
    model, world = ctx.model, ctx.world
    writable = model.writable_nodes()
    pools = [
        ("interior", [p for p in writable if depth(model.node(p)) >= 2]),
        ("node", writable),
        ("missing", model.missing()),
        ("permanent", [world.permanent] if world.permanent else []),
        ("private", [world.private] if world.private else []),
    ]
    # nodes with interior children most: what DELETE must remove with them (seed 6.2)
    weights = {"interior": 3, "node": 2, "missing": 1, "permanent": 1, "private": 1}
    kind = _pick(draw, [name for name, pool in pools if pool for _ in range(weights[name])])
    return Act("delete", (_pick(draw, dict(pools)[kind]),))


def _store_targets(ctx: Context, plain: bool) -> list[tuple[str, list[Path]]]:
    """Where a GET with ClientURI may store: instances of the writable MO (new or not), nodes in
    them, a new node in one of them; unless `plain`, the private instance and a node whose
    parent is missing too."""
    model, world = ctx.model, ctx.world
    writable = model.writable_nodes()
    inside = [p for p in writable if isinstance(model.node(p), dict)]
    pools = [
        ("fresh", model.fresh_instances()),
        ("node", writable),
        ("child", [(*p, "Extra") for p in inside if model.exists((*p, "Extra")) is False]),
    ]
    if not plain:
        pools += [
            ("private", [world.private] if world.private else []),
            ("orphan", [(*p, "Name") for p in model.missing() if p[0] == world.writable]),
        ]
    return [(n, p) for n, p in pools if p]


def _draw_get(draw: Draw, ctx: Context) -> Act:
    model = ctx.model
    kinds = ["one", "keys", "new", "media", "bad", "multi"]
    if ctx.final:  # a new instance is known by its status only
        kinds.remove("new")
    if ctx.world.writable is None:
        get = ctx.world.profile.for_action("get")
        return Act("malformed", ((get.name, "ftp://example.invalid/doc"), GRAMMAR, get.feature))
    weights = {"one": 3, "keys": 1, "new": 2, "media": 1, "bad": 1, "multi": 1}
    kind = _pick(draw, [k for k in kinds for _ in range(weights[k])])
    if kind == "keys":
        instances = [  # content is served from the start: no placeholder saved later in it
            p
            for p in model.fresh_instances() + model.writable_nodes()
            if len(p) == 2 and not p[1].startswith(NEW)
        ]
        count = min(draw(st.integers(1, 2)), len(instances))
        chosen = draw(
            st.lists(st.sampled_from(instances), min_size=count, max_size=count, unique=True)
        )
        return Act("get_keys", (tuple((p, _json(_value(draw, 2, interior=True))) for p in chosen),))
    if kind == "new":
        return Act("get_new", (_json(_value(draw, 2, interior=True)),))
    pools = _store_targets(ctx, plain=kind != "one")
    # a node that is there most: what replacing it means is what GET must get right
    weights_ = {"node": 3, "fresh": 2, "child": 1, "private": 1, "orphan": 1}
    where = _pick(draw, [name for name, _ in pools for _ in range(weights_[name])])
    target = _pick(draw, dict(pools)[where])
    value = _json(_value(draw, 2, interior=len(target) == 2))
    extra = ""
    if kind == "media":
        extra = _pick(draw, ["text/plain", "application/json"])
    elif kind == "bad":
        extra = _pick(draw, list(BAD_CONTENT))
    return Act("get_into", (kind, target, value, extra))


def _draw_exec(draw: Draw, ctx: Context) -> Act:
    model, world = ctx.model, ctx.world
    missing = [(*p, "Reboot") for p in model.missing() if p[0] == world.writable][:1]
    pools = [  # nodes that exist and cannot be executed three times as often as the others
        ("permanent", [world.permanent] if world.permanent else []),
        ("exec", [world.exec_path] if world.exec_path else []),
        ("stored", model.stored_leaves()),
        ("missing", missing or model.missing()),
        ("private", [world.private] if world.private else []),
    ]
    weights = {"permanent": 3, "exec": 1, "stored": 3, "missing": 1, "private": 1}
    kind = _pick(draw, [name for name, pool in pools if pool for _ in range(weights[name])])
    return Act("exec", (_pick(draw, dict(pools)[kind]), False, False))


def _draw_unknown(draw: Draw, ctx: Context) -> Act:
    name = _pick(draw, UNKNOWN_NAMES)
    params = [ctx.model.key(p) for p in ctx.model.nodes()[:1]]
    return Act("unknown", ((name, *params[: draw(st.integers(0, len(params)))]),))


def _draw_malformed(draw: Draw, ctx: Context) -> Act:
    """A command of a declared feature with the wrong number of parameters (A5) or a parameter
    that does not fit its grammar (A20)."""
    world, model = ctx.world, ctx.model
    nodes = model.nodes()
    node = model.key(nodes[0]) if nodes else lit(NONE_MOID + "/0")
    moid = lit(world.writable or NONE_MOID)
    templates: list[tuple[str, tuple[str, ...], str]] = [  # (action, parameters, basis)
        ("delete", (), CODES),
        ("delete", (node, node), CODES),
        ("include", (), CODES),
        ("exec", (), CODES),
        ("cont", (), CODES),
        ("delete", (moid,), GRAMMAR),
        ("delete", ("nourn/0",), GRAMMAR),
        ("delete", (f"{moid}/0/../1",), GRAMMAR),
        ("include", (f"{node}?Levels=x",), GRAMMAR),
        ("include", (f"{node}?Depth=1",), GRAMMAR),
        ("get", ("ftp://example.invalid/doc",), GRAMMAR),
        ("cont", ("not a url",), GRAMMAR),
        ("show", ("{web_url}/a page",), GRAMMAR),
        ("default", ("notaurn", "{server_url}/cfg"), GRAMMAR),
    ]
    usable = [t for t in templates if world.supports(t[0])]
    if not usable:
        return _draw_unknown(draw, ctx)
    action, params, basis = _pick(draw, usable)
    spec = world.profile.for_action(action)
    return Act("malformed", ((spec.name, *params), basis, spec.feature))


# by the action of the command drawn (the profile's `action`), then the kinds every client gets
ANY_CLIENT = ("unknown", "malformed")
DRAWERS: dict[str, Callable[[Draw, Context], Act]] = {
    "include": _draw_include,
    "delete": _draw_delete,
    "get": _draw_get,
    "put": lambda draw, ctx: _draw_upload(draw, ctx, "put"),
    "post": lambda draw, ctx: _draw_upload(draw, ctx, "post"),
    "exec": _draw_exec,
    "show": lambda draw, ctx: Act("show"),
    "default": lambda draw, ctx: Act("default", (_pick(draw, MOIDS),)),
    "cont": lambda draw, ctx: Act("cont"),
    "unknown": _draw_unknown,
    "malformed": _draw_malformed,
}


def command_kinds(world: World) -> list[str]:
    """The kinds of command exploration sends this client: the commands of its declared
    features (A6), then unknown and malformed commands, which every client must answer."""
    kinds = [k for k in DRAWERS if k in ANY_CLIENT or world.supports(k)]
    if world.writable is None:
        kinds = [k for k in kinds if k != "delete"]
    return kinds


MUTATING = {"delete": 0, "get_into": 1}  # acts that change the tree: where their target is


def _observe(draw: Draw, ctx: Context, act: Act) -> Act | None:
    """Maybe an INCLUDE (else a PUT) that shows what `act` changed: its node, the node above it,
    or `*` (a changed tree is seen only by a command that shows it)."""
    if act.kind not in MUTATING or not draw(st.booleans()):
        return None
    target: Path = act.args[MUTATING[act.kind]]
    if not ctx.model.usable(target):
        return None
    where = _pick(draw, ["parent", "star", "node"])
    if where == "parent" and len(target) > 2:
        uri = Uri(target[:-1])
    elif where == "star":
        uri = Uri(None)
    else:
        uri = Uri(target)
    if ctx.world.supports("include"):
        return Act("include", ((uri,),))
    for action in ("put", "post"):
        if ctx.world.supports(action):
            return Act("upload", (action, (uri,), False))
    return None


def _draw_acts(draw: Draw, ctx: Context, kinds: list[str], count: int) -> tuple[Act, ...]:
    """`count` acts, each applied to the model before the next is chosen (and, after one that
    changes the tree, maybe one that shows the change)."""
    acts = []
    for _ in range(count):
        act = DRAWERS[_pick(draw, kinds)](draw, ctx)
        if _apply(ctx, act) is None:
            continue
        acts.append(act)
        seen = _observe(draw, ctx, act)
        if seen is not None and _apply(ctx, seen) is not None:
            acts.append(seen)
    ctx.model.end_message()
    return tuple(acts)


def _draw_session(draw: Draw, ctx: Context, kinds: list[str]) -> SessionPlan:
    ctx.exec_in_session = False
    messages = tuple(  # END alone is the simplest session, and seldom drawn
        _draw_acts(draw, ctx, kinds, draw(st.integers(1, 3)))
        for _ in range(draw(st.sampled_from([1, 2, 3, 1, 2, 0])))
    )
    ending = _pick(draw, ["end", "with", "refuse"])
    if ending == "refuse":
        return SessionPlan(messages, ending="refuse", answer=draw(st.integers(0, 2)))
    if ending == "end":
        return SessionPlan(messages)
    ctx.final = True
    final = _draw_acts(draw, ctx, kinds, draw(st.integers(1, 2)))
    world = ctx.world
    alert_possible = world.supports("exec") and world.exec_path and not ctx.exec_in_session
    if alert_possible and draw(st.sampled_from([False, True, True, True])):
        refuse = draw(st.sampled_from([False, True, True]))
        act = Act("exec", (world.exec_path, True, refuse))
        if _apply(ctx, act) is not None:
            final = (*final, act)
    ctx.final = False
    return SessionPlan(messages, final, "with")


def client_scripts(world: World) -> st.SearchStrategy[Drawn]:
    """Session scripts for a client: one or two sessions of up to three messages of up to three
    commands before the message with END, each command one the model predicts; then, when the
    client took a DEFAULT, maybe a configuration request (A12)."""
    kinds = command_kinds(world)

    @st.composite
    def draw_script(draw: Draw) -> Drawn:
        ctx = Context(world, Model(world), Script())
        sessions: list[SessionPlan] = []
        for _ in range(draw(st.sampled_from([1, 1, 1, 2]))):
            plan = _draw_session(draw, ctx, kinds)
            sessions.append(plan)
            alert = next((a for a in plan.final if a.kind == "exec" and a.args[1]), None)
            if alert is not None and alert.args[2]:  # the alert is owed to the next session
                sessions.append(SessionPlan(owed=True))
        config = None
        defaults = sorted(ctx.model.defaults)
        if world.config_request and world.supports("default") and defaults and draw(st.booleans()):
            who = _pick(draw, list(world.profile.default_query.choices))
            config = (_pick(draw, defaults), who)
        drawn = build(world, ScriptPlan(tuple(sessions), config))
        assert drawn is not None  # a drawn plan has at least one session
        return drawn

    return draw_script()


# -- exploration's own shrinking ------------------------------------------------------------------
def simpler(world: World, drawn: Drawn) -> Iterator[Drawn]:
    """Scripts one structural step smaller than `drawn`, biggest cuts first: no configuration
    request, a session less, a message less, END alone, a command less, a ClientURI less."""
    plan = drawn.plan
    candidates: list[ScriptPlan] = []
    if plan.config is not None:
        candidates.append(replace(plan, config=None))
    sessions = list(plan.sessions)
    if len(sessions) > 1:
        for index in range(len(sessions)):
            candidates.append(
                replace(plan, sessions=tuple(sessions[:index] + sessions[index + 1 :]))
            )
    for s, session in enumerate(sessions):

        def with_session(new: SessionPlan, s: int = s) -> ScriptPlan:
            return replace(plan, sessions=tuple([*sessions[:s], new, *sessions[s + 1 :]]))

        messages = list(session.messages)
        for m in range(len(messages)):
            candidates.append(
                with_session(replace(session, messages=tuple(messages[:m] + messages[m + 1 :])))
            )
        if session.ending != "end":
            candidates.append(with_session(replace(session, ending="end", final=())))
        for m, acts in enumerate(messages):
            for a in range(len(acts)):
                shorter = acts[:a] + acts[a + 1 :]
                rest = messages[:m] + ([shorter] if shorter else []) + messages[m + 1 :]
                candidates.append(with_session(replace(session, messages=tuple(rest))))
        for a in range(len(session.final)):
            final = session.final[:a] + session.final[a + 1 :]
            candidates.append(with_session(replace(session, final=final)))
        for m, acts in enumerate(messages):
            for a, act in enumerate(acts):
                for smaller in _smaller_acts(act):
                    new_acts = (*acts[:a], smaller, *acts[a + 1 :])
                    rest = [*messages[:m], new_acts, *messages[m + 1 :]]
                    candidates.append(with_session(replace(session, messages=tuple(rest))))
    for candidate in candidates:
        built = build(world, candidate)
        if built is not None:
            yield built


def _smaller_acts(act: Act) -> list[Act]:
    """The act with fewer ClientURIs, or without Levels."""
    out = []
    if act.kind in ("include", "upload"):
        index = 0 if act.kind == "include" else 1
        uris = act.args[index]
        options = [uris[:1], uris[1:]] if len(uris) > 1 else []
        options += [tuple(replace(u, levels=None) for u in uris)]
        for option in options:
            if option and option != uris:
                args = list(act.args)
                args[index] = option
                out.append(Act(act.kind, tuple(args)))
    return out
