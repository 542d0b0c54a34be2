"""The model exploration judges a client by: a copy of the client's tree (learned at the start
with `INCLUDE *`, or only the ixit facts when that cannot be learned) and, for every command a
generated session sends, the set of outcomes the draft and the profile allow: the status codes
(several where the profile allows several: EXEC 200 or 202, A5, A10; content of another media
type 200 or 500, A13), where a GET reports it stored (seed 6.2 GET's Param1), the document an
INCLUDE embeds or a PUT/POST uploads, the fetch, upload and browser requests a command makes, and
the Generic Alert of an EXEC with ServerURI. Each prediction carries the IDs an outcome outside
it breaks (its *basis*): the command's own sentence or assumption, and the sentences of the
earlier commands of the session whose effect it shows (a DELETE's node still there is seed 6.2
DELETE's divergence, found by a later INCLUDE).

Where an outcome the profile allows leaves the tree in one of several states (content of another
media type stored or refused), the node becomes unknown (`MAYBE`: there or not; `OPAQUE`: there,
content unknown) and later predictions that depend on it are made conservatively: a status set
that holds either way, a document left unchecked. Nothing is predicted that the profile leaves
open."""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from conformance.core.errors import ProtocolError
from conformance.core.tree import prune
from conformance.core.uri import parse_client_uri
from conformance.dut import DutFile
from conformance.engine.matching import exactly
from conformance.profiles import CommandSpec, Profile


class Mark:
    """A node whose state the model does not know (a sentinel; copies are itself)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __deepcopy__(self, memo: dict[int, Any]) -> Mark:
        return self


MAYBE = Mark("MAYBE")  # the node may or may not be there; if it is, its content is unknown
OPAQUE = Mark("OPAQUE")  # the node is there; its content (and its children) are unknown

NONE_MOID = "urn:oma:mo:dm20-explore-none:1.0"  # an MO no device has (404 wherever used)
NEW = "\x00"  # prefix of the instance key of a new instance, known by a saved placeholder

Path = tuple[str, ...]  # (MOID, instance, node, …)

# The bases: what an outcome outside a prediction breaks.
GET_FETCH = "DM20-6.2-004"
STATUS_URI = "DM20-6.2-005"
GET_STORE = "DM20-6.2-006"
UPLOAD = "DM20-6.2-007"
LEVELS = "DM20-6.2-008"
ALL_LEVELS = "DM20-6.2-009"
STAR = "DM20-6.2-010"
STAR_LEVELS = "DM20-6.2-011"
DELETE = "DM20-6.2-012"
EXEC = "DM20-6.2-013"
ALERT = "DM20-6.2-014"
INCLUDE = "DM20-6.2-015"
INCLUDE_SYNTAX = "DM20-6.2-016"
SHOW = "DM20-6.2-017"
SHOW_PAUSES = "DM20-6.2-018"
NO_TREE_ACCESS = "DM20-6.2-019"
CONFIG_SESSION = "DM20-6.2-020"
INITIATED_BY = "DM20-6.2-021"
CONT = "DM20-6.2-023"
FIRST_MESSAGE = "P1.1"  # the session opens with a POST of the first message
UNDELIVERED = "DM20-5.2-003"
CODES = "A5"
PERMANENT = "A9"
ALERT_RESULT = "A10"
MEDIA = "A13"
GET_KEYS = "A19"
UNKNOWN = "A18"
GRAMMAR = "A20"
DEFAULT_REPLACED = "A21"


def lit(text: str) -> str:
    """`text` as a case writes a literal: braces doubled, so no placeholder is read in it."""
    return text.replace("{", "{{").replace("}", "}}")


def lit_value(value: Any) -> Any:
    """A JSON value with every string (keys included) written as a literal."""
    if isinstance(value, dict):
        return {lit(k): lit_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lit_value(v) for v in value]
    return lit(value) if isinstance(value, str) else value


def document_value(document: dict[str, Any]) -> dict[str, Any]:
    """A document whose keys are written as a case writes them already (`Model.key`) with its
    values written as literals."""
    return {key: lit_value(value) for key, value in document.items()}


def has_marks(value: Any) -> bool:
    if isinstance(value, Mark):
        return True
    if isinstance(value, dict):
        return any(has_marks(v) for v in value.values())
    return False


def depth(value: Any) -> int:
    """Levels of children below a node (0 for a leaf or an empty interior node)."""
    if not isinstance(value, dict) or not value:
        return 0
    return 1 + max(depth(v) for v in value.values())


def overlaps(a: Path, b: Path) -> bool:
    """Whether one path is inside the other (or they are the same)."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def supported(spec: CommandSpec, features: Collection[str]) -> bool:
    """Whether a DUT that declares `features` takes the command `spec` (A6: a command gated by
    no feature, END, needs no declaration)."""
    return spec.feature is None or spec.feature in features


@dataclass(frozen=True)
class Uri:
    """A ClientURI the model reasons about: a path (None for `*`) and its Levels."""

    path: Path | None
    levels: int | None = None

    @property
    def star(self) -> bool:
        return self.path is None


@dataclass(frozen=True)
class DocPlan:
    """How to tell what a document that differs from the model's breaks: per entry (its key as
    the client writes it), the IDs a different value there breaks (the earlier commands that
    changed that node, else the sentences of how the document is made); the IDs an entry the
    model does not expect breaks."""

    entries: dict[str, tuple[str, ...]]  # the entry is there with another value
    missing: dict[str, tuple[str, ...]]  # the entry is not there
    extra: tuple[str, ...]  # an entry the model does not expect is there
    values: dict[str, Any] = field(default_factory=dict)  # the value the model expects of each

    def bases_of(self, received: Any) -> tuple[str, ...]:
        """What a received document that differs from the model breaks, entry by entry."""
        if not isinstance(received, dict):
            return ()
        found: list[str] = []
        for key, value in self.values.items():
            if key not in received:
                found += self.missing.get(key, ())
            elif not exactly(value, received[key]):
                found += self.entries.get(key, ())
        if set(received) - set(self.values):
            found += self.extra
        return dedupe(found)


@dataclass
class Upload:
    """An upload a PUT or POST must make: where, how, and the document when it is known."""

    path: str
    method: str
    body: Any = None  # the expected document as the case writes it; None: unchecked
    method_basis: tuple[str, ...] = ()
    body_basis: tuple[str, ...] = ()
    body_plan: DocPlan | None = None


@dataclass
class AlertExpected:
    """The Generic Alert session an EXEC with ServerURI makes the client open (A10, seed 6.2)."""

    url: str
    source: str  # the EXEC's ClientURI, as the case writes it
    refuse: bool = False  # the harness refuses the alert session: it must come in the next one


@dataclass
class Expected:
    """One command of a generated session and everything the model predicts of it."""

    command: list[str]  # as the case writes it (placeholders such as {content_url} allowed)
    codes: frozenset[int]  # the status codes allowed
    basis: tuple[str, ...]  # what a code outside `codes` breaks
    uri: Any = None  # the expected status URI (a matcher), or None: unchecked
    uri_basis: tuple[str, ...] = ()
    part: Any = None  # an INCLUDE that must succeed: its part (a matcher), else None
    part_basis: tuple[str, ...] = ()
    part_plan: DocPlan | None = None
    fetch: str | None = None  # a content path the command must fetch
    upload: Upload | None = None
    browse: str | None = None  # a page the browser must load before the status (SHOW)
    save: str | None = None  # the placeholder the status URI of a new instance is saved as
    alert: AlertExpected | None = None
    feature: str | None = None
    if_code: dict[int, tuple[str, ...]] = field(default_factory=dict)  # code -> what it breaks

    def include_may_succeed(self, profile: Profile) -> bool:
        """Whether this is an INCLUDE whose status may be a success (its data goes with it)."""
        include = profile.for_action("include").name
        return self.command[0] == include and profile.status.ok in self.codes

    @property
    def bases(self) -> tuple[str, ...]:
        found = list(self.basis) + list(self.uri_basis) + list(self.part_basis)
        if self.upload is not None:
            found += list(self.upload.method_basis) + list(self.upload.body_basis)
        if self.fetch is not None:
            found.append(GET_FETCH)
        if self.browse is not None:
            found += [SHOW, NO_TREE_ACCESS, SHOW_PAUSES]
        if self.alert is not None:
            found.append(ALERT)
        return dedupe(found)


@dataclass(frozen=True)
class World:
    """What exploration knows of the client before any session: its profile, its declared
    features, the ixit facts as tree paths, and the factory tree discovery learned (None when it
    could not be learned: then only the ixit facts are known)."""

    profile: Profile
    features: frozenset[str]
    writable: str | None
    permanent: Path | None
    exec_path: Path | None
    instance: Path | None
    private: Path | None
    tree: dict[str, Any] | None
    config_request: bool
    separator: str = "/"

    @classmethod
    def of(cls, dut: DutFile, profile: Profile, tree: dict[str, Any] | None) -> World:
        def path(fact: str) -> Path | None:
            value = dut.ixit.get(fact)
            if not isinstance(value, str):
                return None
            try:
                uri = parse_client_uri(value, profile)
            except ProtocolError:
                return None
            return None if uri.wildcard or uri.levels is not None else uri.nodes()

        writable = dut.ixit.get("writable_moid")
        private = path("private_uri")
        if tree is not None and private is not None:
            tree = {m: v for m, v in tree.items() if m != private[0]}
        return cls(
            profile=profile,
            features=frozenset(dut.features),
            writable=writable if isinstance(writable, str) else None,
            permanent=path("permanent_uri"),
            exec_path=path("exec_uri"),
            instance=path("instance_uri"),
            private=private,
            tree=tree,
            config_request=dut.has("config_request"),
            separator=str(profile.client_uri.separator),
        )

    def known(self) -> set[Path]:
        """The paths the ixit facts say exist."""
        return {p for p in (self.permanent, self.exec_path, self.instance) if p is not None}

    def protected(self, path: Path) -> bool:
        """Whether a command may not change `path`: it holds the executable node, or it is in,
        or holds, the permanent node (changing them would change what the facts say)."""
        if self.exec_path is not None and self.exec_path[: len(path)] == path:
            return True
        return self.permanent is not None and overlaps(self.permanent, path)

    def declares(self, feature: str) -> bool:
        return feature in self.features

    def supports(self, action: str) -> bool:
        """Whether the client takes the command that performs `action` (its feature declared)."""
        return supported(self.profile.for_action(action), self.features)


def tree_from_document(document: dict[str, Any], separator: str = "/") -> dict[str, Any]:
    """The tree a `*` document shows: {"MOID/instance": value} as MOID -> instance -> value."""
    tree: dict[str, Any] = {}
    for key, value in document.items():
        moid, sep, instance = key.partition(separator)
        if not sep or not instance or separator in instance:
            raise ValueError(f"{key!r} is not MOID{separator}instance")
        tree.setdefault(moid, {})[instance] = value
    return tree


class Model:
    """The client's tree as one generated session changes it, and the outcomes it allows."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.profile = world.profile
        self.closed = world.tree is not None
        self.tree: dict[str, Any] = copy.deepcopy(world.tree) if world.tree is not None else {}
        if not self.closed:
            for known in sorted(world.known()):
                self.tree.setdefault(known[0], {}).setdefault(known[1], OPAQUE)
            if world.writable:
                self.tree.setdefault(world.writable, {})
        self.history: list[tuple[Path | None, tuple[str, ...]]] = []
        self.defaults: dict[str, list[str]] = {}
        self.recent: list[Path] = []  # paths commands touched lately, for INCLUDEs to look at
        self.stored: list[Path] = []  # nodes GETs stored in this session
        self.new_instances = 0
        self.pending: set[str] = set()  # new instances of this message: saved after it, usable then
        self._names = itertools.count(1)
        self.ok = self.profile.status.ok

    # -- names ----------------------------------------------------------------------------------
    def fresh_name(self, prefix: str) -> str:
        """A name no other document, page or URL of the session has."""
        return f"{prefix}{next(self._names)}"

    def end_message(self) -> None:
        """The message is sent: the new instances it made are known by their placeholders."""
        self.pending.clear()

    def usable(self, path: Path) -> bool:
        """Whether a command may name `path` (a new instance only once its message is over)."""
        return len(path) < 2 or path[1] not in self.pending

    def code(self, name: str) -> int:
        return int(self.profile.status[name])

    # -- reading the tree -----------------------------------------------------------------------
    def private(self, path: Path) -> bool:
        return self.world.private is not None and path[0] == self.world.private[0]

    def exists(self, path: Path) -> bool | None:
        """True, False, or None when the model does not know."""
        if path in self.world.known():
            return True
        node: Any = self.tree
        for index, name in enumerate(path):
            if node is MAYBE or node is OPAQUE:
                return None
            if not isinstance(node, dict):
                return False
            if name not in node:
                open_world = not self.closed and index <= 1 and path[0] != NONE_MOID
                return None if open_world and not name.startswith(NEW) else False
            node = node[name]
        return None if node is MAYBE else True

    def node(self, path: Path) -> Any:
        """The value at `path` (a Mark where unknown); the path must exist in the model."""
        node: Any = self.tree
        for name in path:
            if not isinstance(node, dict):
                return MAYBE
            node = node.get(name, MAYBE)
        return node

    def entries(self, uri: Uri) -> dict[str, Any] | None:
        """The tnds20 entries the client must give for `uri`, keyed as the case writes them
        (None when the model does not know them)."""
        if uri.path is None:
            if not self.closed:
                return None
            out: dict[str, Any] = {}
            for moid, mo in self.tree.items():
                if self.private((moid,)) or moid == NONE_MOID:
                    continue
                if not isinstance(mo, dict):
                    return None
                for instance, value in mo.items():
                    if instance in self.pending:
                        return None
                    out[self.key((moid, instance))] = prune(value, uri.levels)
            return None if has_marks(out) else out
        value = self.node(uri.path)
        if has_marks(value):
            return None
        return {self.key(uri.path): prune(value, uri.levels)}

    # -- writing as a case writes -----------------------------------------------------------------
    def key(self, path: Path) -> str:
        """A path as a tnds20 key in a case: literal, a new instance by its placeholder."""
        moid, instance, *rest = path
        sep = self.world.separator
        head = (
            "{" + instance[len(NEW) :] + "}"
            if instance.startswith(NEW)
            else lit(moid) + sep + lit(instance)
        )
        return head + "".join(sep + lit(r) for r in rest)

    def uri_text(self, uri: Uri) -> str:
        spec = self.profile.client_uri
        base = lit(str(spec.wildcard)) if uri.path is None else self.key(uri.path)
        return base if uri.levels is None else f"{base}?{spec.levels_query}={uri.levels}"

    # -- history --------------------------------------------------------------------------------
    def history_of(self, path: Path | None) -> tuple[str, ...]:
        """The bases of the earlier commands of the session that changed `path` (any path for
        `*`), the latest first."""
        found: list[str] = []
        for where, bases in reversed(self.history):
            if path is None or where is None or overlaps(where, path):
                found += bases
        return dedupe(found)

    def _touch(self, path: Path, bases: tuple[str, ...]) -> None:
        self.history.append((path, bases))
        self.recent = [path, *[p for p in self.recent if p != path]][:6]

    def _set(self, path: Path, value: Any, bases: tuple[str, ...]) -> None:
        if not isinstance(value, Mark):
            self.stored.append(path)
        parent: Any = self.tree
        for name in path[:-1]:
            parent = parent.get(name) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent[path[-1]] = copy.deepcopy(value)
        self._touch(path, bases)

    def _remove(self, path: Path, bases: tuple[str, ...]) -> None:
        parent: Any = self.tree
        for name in path[:-1]:
            parent = parent.get(name) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
        self._touch(path, bases)

    # -- the pools commands draw their targets from ---------------------------------------------
    def nodes(self) -> list[Path]:
        """Every node the model knows is there, in the MOs the server may access."""
        found: list[Path] = []

        def walk(path: Path, value: Any) -> None:
            found.append(path)
            if isinstance(value, dict):
                for name, child in value.items():
                    if child is not MAYBE:
                        walk((*path, name), child)

        for moid, mo in self.tree.items():
            if self.private((moid,)) or not isinstance(mo, dict):
                continue
            for instance, value in mo.items():
                if value is not MAYBE:
                    walk((moid, instance), value)
        found += [p for p in sorted(self.world.known()) if p not in found]
        return [p for p in found if not self.private(p) and self.usable(p)]

    def writable_nodes(self) -> list[Path]:
        """Nodes of the writable MO a command may replace or delete."""
        moid = self.world.writable
        return [
            p
            for p in self.nodes()
            if p[0] == moid and not self.world.protected(p) and self.exists(p) is True
        ]

    def fresh_instances(self) -> list[Path]:
        """Instances of the writable MO that are not there (a GET makes them)."""
        moid = self.world.writable
        if moid is None:
            return []
        names = ["7", "8", "9"] if self.closed else ["dm20x7", "dm20x8", "dm20x9"]
        out: list[Path] = []
        for name in names:
            path: Path = (moid, name)
            while self.closed and self.exists(path) is not False:
                path = (moid, "x" + path[1])
            if self.exists(path) is not True:  # with the tree unknown, it is likely not there
                out.append(path)
        return out

    def stored_leaves(self) -> list[Path]:
        """Leaves the session stored (no EXEC may execute them: data the server sent)."""
        return [
            p
            for p in dict.fromkeys(self.stored)
            if self.usable(p)
            and self.exists(p) is True
            and not isinstance(self.node(p), dict | Mark)
            and not self.world.protected(p)
            and (self.world.exec_path is None or p[-1] != self.world.exec_path[-1])
        ]

    def missing(self) -> list[Path]:
        """Nodes the model knows are not there."""
        out: list[Path] = [(NONE_MOID, "0")]
        moid = self.world.writable
        if moid is not None and self.closed:
            out.append((moid, "98"))
        out += [(*p, "NoSuchNode") for p in self.writable_nodes() if isinstance(self.node(p), dict)]
        return [p for p in out if self.exists(p) is False]

    # -- predictions ----------------------------------------------------------------------------
    def _targets(
        self, uris: list[Uri]
    ) -> tuple[set[int], set[int], dict[str, Any] | None, tuple[str, ...], tuple[str, ...]]:
        """What the client finds for a list of ClientURIs: the codes of certain failures, of
        possible ones, the document of all of them (None: unknown); why the model expects the
        failures (a node the session deleted: seed 6.2 DELETE; never there, no access right:
        A5) and why it expects the nodes to be there (the commands that made them)."""
        certain: set[int] = set()
        possible: set[int] = set()
        document: dict[str, Any] | None = {}
        failing: list[str] = []
        there_because: list[str] = []
        for uri in uris:
            history = self.history_of(uri.path)
            if uri.path is not None and self.private(uri.path):
                certain.add(self.code("forbidden"))
                failing.append(CODES)
                continue
            there = True if uri.path is None else self.exists(uri.path)
            if there is False:
                certain.add(self.code("not_found"))
                failing += history or (CODES,)
                continue
            there_because += history
            if there is None:
                possible.add(self.code("not_found"))
                failing.append(CODES)
            entries = self.entries(uri) if there else None
            if document is not None and entries is not None:
                document.update(entries)
            else:
                document = None
        return certain, possible, document, dedupe(failing), dedupe(there_because)

    def _status_bases(
        self, codes: set[int], own: list[str], failing: tuple[str, ...], there: tuple[str, ...]
    ) -> tuple[str, ...]:
        """What a status outside `codes` breaks: where the command can only fail, why it must
        fail; where it can only succeed, the command's own sentences and what made its nodes."""
        if self.ok not in codes:
            return failing
        if codes == {self.ok}:
            return dedupe([*own, *there])
        return dedupe([*own, *there, *failing])

    def content_bases(self, uris: list[Uri]) -> tuple[str, ...]:
        """The sentences that say which document a list of ClientURIs gives."""
        found: list[str] = []
        for uri in uris:
            if uri.path is None:
                found += [STAR] + ([STAR_LEVELS, LEVELS] if uri.levels is not None else [])
            elif uri.levels is not None:
                found.append(LEVELS)
            elif depth(self.node(uri.path)) >= 2:
                found.append(ALL_LEVELS)
        return dedupe(found)

    def doc_plan(self, uris: list[Uri], own: tuple[str, ...], plain: str) -> DocPlan | None:
        """The DocPlan of the document of `uris` (None where a new instance is in it: its key is
        known by its placeholder only). `own`: what the command itself rests on; `plain`: what the
        document of a plain ClientURI rests on (seed 6.2 INCLUDE, PUT/POST)."""
        sep = self.world.separator
        entries: dict[str, tuple[str, ...]] = {}
        missing: dict[str, tuple[str, ...]] = {}
        values: dict[str, Any] = {}
        extra: list[str] = list(own)
        for uri in uris:
            paths: list[Path]
            if uri.path is None:
                extra.append(STAR)
                paths = [
                    (moid, instance)
                    for moid, mo in self.tree.items()
                    if isinstance(mo, dict) and not self.private((moid,))
                    for instance in mo
                ]
            else:
                paths = [uri.path]
            for path in paths:
                if any(p.startswith(NEW) for p in path):
                    return None
                history = self.history_of(path)
                if uri.levels is not None:
                    read = [STAR_LEVELS, LEVELS] if uri.star else [LEVELS]
                elif depth(self.node(path)) >= 2:
                    read = [ALL_LEVELS]
                else:
                    read = [STAR] if uri.star else []
                key = sep.join(path)
                values[key] = prune(self.node(path), uri.levels)
                entries[key] = history or dedupe([*own, *(read or [plain])])
                missing[key] = history or dedupe([*own, *([STAR] if uri.star else [plain])])
        if has_marks(values):
            return None
        return DocPlan(entries, missing, dedupe(extra), values)

    def include(self, uris: list[Uri]) -> Expected:
        certain, possible, document, failing, there = self._targets(uris)
        syntax = [INCLUDE_SYNTAX] if any(u.star or u.levels is not None for u in uris) else []
        codes = certain | possible if certain else {self.ok} | possible
        part = None
        part_basis: tuple[str, ...] = ()
        part_plan = None
        if codes == {self.ok}:
            part = {"$any": True} if document is None else {"$exact": document_value(document)}
            part_basis = dedupe(
                [INCLUDE, *syntax, *self.content_bases(uris)]
                + [b for u in uris for b in self.history_of(u.path)]
            )
            part_plan = self.doc_plan(uris, tuple(syntax), INCLUDE)
        for uri in uris:
            if uri.path is not None:
                self.recent = [uri.path, *[p for p in self.recent if p != uri.path]][:6]
        refused = {self.code("bad_request"): (INCLUDE_SYNTAX, *self.content_bases(uris))}
        spec = self.profile.for_action("include")
        return Expected(
            [spec.name, *(self.uri_text(u) for u in uris)],
            frozenset(codes),
            self._status_bases(codes, [INCLUDE, *syntax], failing, there),
            part=part,
            part_basis=part_basis,
            part_plan=part_plan,
            feature=spec.feature,
            if_code=refused if syntax else {},
        )

    def upload(self, action: str, uris: list[Uri], path: str, refused: bool) -> Expected:
        """PUT or POST (`action`: put or post) of `uris` to the content URL `path`; `refused`:
        the upload is answered with HTTP 500 (the command fails, A5)."""
        spec = self.profile.for_action(action)
        certain, possible, document, failing, there = self._targets(uris)
        codes = certain | possible if certain else {self.ok} | possible
        upload = None
        if codes == {self.ok}:
            body_basis = dedupe(
                [UPLOAD, *self.content_bases(uris)]
                + [b for u in uris for b in self.history_of(u.path)]
            )
            upload = Upload(
                path,
                spec.action.upper(),  # the HTTP method of the upload, as the core derives it
                None if document is None else {"$exact": document_value(document)},
                (UPLOAD,),
                body_basis,
                self.doc_plan(uris, (UPLOAD,) if len(uris) > 1 else (), UPLOAD),
            )
        bases = self._status_bases(codes, [UPLOAD], failing, there)
        if upload is not None and refused:
            codes = {self.code("failed")}
            bases = (CODES,)
        shaped = any(u.star or u.levels is not None for u in uris)  # a 400 refuses * or Levels
        return Expected(
            [spec.name, "{content_url}/" + path, *(self.uri_text(u) for u in uris)],
            frozenset(codes),
            bases,
            upload=upload,
            feature=spec.feature,
            if_code={self.code("bad_request"): self.content_bases(uris)} if shaped else {},
        )

    def delete(self, path: Path) -> Expected:
        spec = self.profile.for_action("delete")
        command = [spec.name, self.key(path)]
        history = self.history_of(path)
        if self.private(path):
            return Expected(
                command, frozenset({self.code("forbidden")}), (CODES,), feature=spec.feature
            )
        if self.world.permanent is not None and overlaps(path, self.world.permanent):
            # only the permanent node itself is sent: what a node inside it gets is the device's
            return Expected(
                command, frozenset({self.code("not_allowed")}), (PERMANENT,), feature=spec.feature
            )
        there = self.exists(path)
        codes = {
            True: {self.ok},
            False: {self.code("not_found")},
            None: {self.ok, self.code("not_found")},
        }[there]
        if there is not False:
            self._remove(path, (DELETE,))
            parent = path[:-1]
            if len(parent) >= 2:
                self.recent = [parent, *self.recent][:6]
        if there is False:  # never there (A5), or a command of the session removed it
            bases = history or (CODES,)
        else:
            bases = dedupe([DELETE, *history, *([CODES] if there is None else [])])
        return Expected(command, frozenset(codes), bases, feature=spec.feature)

    def get_into(self, doc: str, kind: str, value: Any, target: Path) -> Expected:
        """GET `{content_url}/doc` with ClientURI `target`; `kind` is what the content is:
        `one` (a tnds20 document of one entry), `media` (one entry served as another media type,
        A13), `multi` (a tnds20 document of two entries, A19), `bad` (no tnds20 document)."""
        spec = self.profile.for_action("get")
        command = [spec.name, "{content_url}/" + doc, self.key(target)]
        history = self.history_of(target)
        refusable = kind != "one"  # content the client may refuse before it looks at the target
        failed = {self.code("failed")} if refusable else set()
        if self.private(target):
            codes = {self.code("forbidden")} | failed
            return Expected(command, frozenset(codes), (CODES,), feature=spec.feature)
        parent = self.exists(target[:-1]) if len(target) > 2 else True
        if parent is not True:
            codes = {self.code("not_found")} | failed
            if parent is None:  # the parent may be there: the GET may do what it does there
                codes |= {self.ok, self.code("failed")}
                self._set(target, MAYBE, (MEDIA if refusable else GET_STORE,))
            return Expected(
                command,
                frozenset(codes),
                self.history_of(target[:-1]) or (CODES,),
                feature=spec.feature,
            )
        if kind == "bad":
            return Expected(
                command,
                frozenset({self.code("failed")}),
                (MEDIA,),
                fetch=doc,
                feature=spec.feature,
            )
        if kind == "one":
            self._set(target, value, (GET_STORE,))
            return Expected(
                command,
                frozenset({self.ok}),
                dedupe([GET_STORE, *history]),
                uri=[self.key(target)],
                uri_basis=(STATUS_URI,),
                fetch=doc,
                feature=spec.feature,
            )
        # stored or refused, both conformant: the node is unknown from here on
        there = self.exists(target)
        self._set(target, OPAQUE if there else MAYBE, (MEDIA if kind == "media" else GET_KEYS,))
        basis = MEDIA if kind == "media" else GET_KEYS
        return Expected(
            command,
            frozenset({self.ok, self.code("failed")}),
            dedupe([basis, *history]),
            fetch=doc,
            feature=spec.feature,
        )

    def get_keys(self, doc: str, entries: list[tuple[Path, Any]]) -> Expected:
        """GET `{content_url}/doc` without ClientURI of a document keyed by instances (A19)."""
        keys = [self.key(path) for path, _ in entries]
        for path, value in entries:
            self._set(path, value, (GET_KEYS,))
        orders = [list(p) for p in itertools.permutations(keys)]
        spec = self.profile.for_action("get")
        return Expected(
            [spec.name, "{content_url}/" + doc],
            frozenset({self.ok}),
            (GET_KEYS,),
            uri=orders[0] if len(orders) == 1 else {"$in": orders},
            uri_basis=(STATUS_URI,),
            fetch=doc,
            feature=spec.feature,
        )

    def get_new(self, doc: str, value: Any) -> Expected:
        """GET without ClientURI of a document whose key is `MOID/`: a new instance, its ID the
        client's choice (A19), saved from the status as a placeholder."""
        moid = self.world.writable or ""
        self.new_instances += 1
        name = f"new_{self.new_instances}"
        sep = re.escape(self.world.separator)
        pattern = f"^{re.escape(moid)}{sep}[^{sep}?]+$"
        self._set((moid, NEW + name), value, (GET_KEYS,))
        self.pending.add(NEW + name)
        spec = self.profile.for_action("get")
        return Expected(
            [spec.name, "{content_url}/" + doc],
            frozenset({self.ok}),
            (GET_KEYS,),
            uri=[{"$regex": lit(pattern)}],
            uri_basis=(STATUS_URI,),
            fetch=doc,
            save=name,
            feature=spec.feature,
        )

    def execute(self, path: Path, alert_url: str | None = None) -> Expected:
        spec = self.profile.for_action("exec")
        command = [spec.name, self.key(path), *([alert_url] if alert_url else [])]
        if self.private(path):
            forbidden = frozenset({self.code("forbidden")})
            return Expected(command, forbidden, (CODES,), feature=spec.feature)
        if path == self.world.exec_path:
            alert = AlertExpected(alert_url, self.key(path)) if alert_url else None
            codes = {self.ok, self.code("accepted")}
            return Expected(command, frozenset(codes), (EXEC,), alert=alert, feature=spec.feature)
        if self.exists(path) is False:
            return Expected(
                command,
                frozenset({self.code("not_found")}),
                self.history_of(path) or (CODES,),
                feature=spec.feature,
            )
        # the permanent instance (as DM20-C-EXEC-003 has it) and a leaf the session stored
        return Expected(
            command,
            frozenset({self.code("not_allowed")}),
            dedupe([EXEC, *self.history_of(path)]),
            feature=spec.feature,
        )

    def show(self, page: str) -> Expected:
        spec = self.profile.for_action("show")
        return Expected(
            [spec.name, "{web_url}/" + page],
            frozenset({self.ok}),
            (SHOW,),
            browse=page,
            feature=spec.feature,
        )

    def default(self, moid: str, url: str) -> Expected:
        self.defaults.setdefault(moid, []).append(url)
        spec = self.profile.for_action("default")
        return Expected(
            [spec.name, lit(moid), url],
            frozenset({self.ok}),
            (CONFIG_SESSION,),
            feature=spec.feature,
        )

    def cont(self, url: str) -> Expected:
        spec = self.profile.for_action("cont")
        return Expected([spec.name, url], frozenset({self.ok}), (CONT,), feature=spec.feature)

    def unknown(self, command: list[str]) -> Expected:
        return Expected(command, frozenset({self.code("unknown_command")}), (UNKNOWN,))

    def malformed(self, command: list[str], basis: str, feature: str | None) -> Expected:
        return Expected(command, frozenset({self.code("bad_request")}), (basis,), feature=feature)


@dataclass
class Ending:
    """How a session ends: END alone or with the last commands, or an answer the client must
    refuse (A1)."""

    kind: str  # "end" | "refuse"
    answer: dict[str, Any] = field(default_factory=dict)  # the refused answer (send: answer)


@dataclass
class Session:
    """One generated session: the messages answered with statuses, the commands sent with END,
    how it ends, and what its first message must carry."""

    messages: list[list[Expected]] = field(default_factory=list)
    final: list[Expected] = field(default_factory=list)
    ending: Ending = field(default_factory=lambda: Ending("end"))
    undelivered: str | None = None  # the source of a Generic Alert the first message must carry

    def commands(self) -> Iterator[Expected]:
        for message in self.messages:
            yield from message
        yield from self.final

    @property
    def alert(self) -> AlertExpected | None:
        return next((c.alert for c in self.final if c.alert is not None), None)


@dataclass
class Config:
    """A configuration request after the sessions (DEFAULT, A12): the session must open at the
    ServerURL the last DEFAULT for `moid` gave, with InitiatedBy."""

    moid: str
    initiated_by: str
    urls: list[str]  # every ServerURL DEFAULT gave for the MOID, the one that counts last


@dataclass
class Script:
    """A generated case: its sessions, the configuration request after them, and the content,
    pages and upload answers its commands name."""

    sessions: list[Session] = field(default_factory=list)
    config: Config | None = None
    content: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)

    def commands(self) -> Iterator[Expected]:
        for session in self.sessions:
            yield from session.commands()

    def size(self) -> tuple[int, int]:
        """(messages, commands): how big the session script is."""
        messages = sum(len(s.messages) + 1 for s in self.sessions)
        return messages, sum(1 for _ in self.commands())

    def features(self) -> list[str]:
        return sorted({c.feature for c in self.commands() if c.feature})
