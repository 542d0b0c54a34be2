"""Where a report comes from, so that a certification body can trust a report it did not see
being made: the harness (version, and the source commit when it runs from a git clone, with
whether the tree was modified), the SHA-256 of every input (profile, catalog, each case file with
its origin and real path, the DUT files, the baseline), the implementations' names and versions,
when and where the run was made (start and end, host, operator, Python and the versions of the
packages it ran on) and the command line. Built once, at the end of a run (or of `report`), into
report.json's `provenance` block and the provenance block of report.html.

Nothing here fails a run: a missing git, an unreadable file or an unknown package is recorded as
such."""

from __future__ import annotations

import functools
import getpass
import hashlib
import os
import platform
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import yaml

import conformance
from conformance import __version__
from conformance.catalog import Catalog
from conformance.inputs import SAFE_LOADER
from conformance.profiles import Profile

DIST = "dm20-conformance"
OPERATOR_ENV = "DM20_RUN_BY"  # who ran the run, as the report names them (default: the login)
# Packages whose version decides what a run does, besides the harness's own dependencies.
ALSO_RECORDED = ("pytest-xdist", "hypothesis")
GIT_TIMEOUT_S = 10.0


def sha256_file(path: Path) -> str | None:
    """The SHA-256 of a file's bytes, or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 16), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def file_entry(path: Path | str) -> dict[str, Any]:
    """A file as provenance names it: its real path and the SHA-256 of its bytes."""
    resolved = Path(path).resolve()
    return {"path": str(resolved), "sha256": sha256_file(resolved)}


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.cache
def harness_source() -> dict[str, Any]:
    """The harness itself: its version and where its code came from. From a git clone: the
    commit and whether the working tree differs from it (`dirty`); else "installed". The clone
    must be the package's own folder: a virtualenv inside some other clone is "installed"."""
    folder = Path(conformance.__file__).resolve().parent.parent
    source: dict[str, Any] = {
        "name": DIST,
        "version": __version__,
        "folder": str(folder),
        "source": "installed",
        "commit": None,
        "dirty": None,
    }
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != folder:
        return source
    commit = _git(folder, "rev-parse", "HEAD")
    if commit is None:  # a clone with no commit yet
        return source
    status = _git(folder, "status", "--porcelain")
    source.update(source="git", commit=commit, dirty=None if status is None else bool(status))
    return source


def version_line() -> str:
    """What `dm20-conformance --version` prints."""
    source = harness_source()
    if source["source"] == "git":
        state = {True: ", modified", False: "", None: ", state unknown"}[source["dirty"]]
        where = f"git commit {source['commit']}{state}, {source['folder']}"
    else:
        where = f"installed, {source['folder']}"
    python = f"Python {platform.python_version()}"
    return f"{DIST} {__version__} ({where}; {python})"


def _requirement_names(dist: str) -> list[str]:
    try:
        wanted = metadata.requires(dist) or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for line in wanted:
        if "extra ==" in line:
            continue
        match = re.match(r"[A-Za-z0-9_.\-]+", line)
        if match:
            names.append(match.group(0))
    return names


def package_versions() -> dict[str, str]:
    """The versions of the harness's package and of the packages it runs on."""
    names = [DIST, *_requirement_names(DIST), *ALSO_RECORDED]
    versions: dict[str, str] = {}
    for name in dict.fromkeys(names):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name == DIST:
                versions[name] = f"{__version__} (not installed: run from its folder)"
    return versions


def operator() -> str:
    """Who ran it: DM20_RUN_BY when set (`run --run-by`), else the login name."""
    named = os.environ.get(OPERATOR_ENV, "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def environment() -> dict[str, Any]:
    """Where it ran."""
    return {
        "host": platform.node() or "unknown",
        "operator": operator(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "packages": package_versions(),
    }


def _shipped_profile(name: str) -> Path | None:
    resource = resources.files("conformance.profiles") / f"{name}.yaml"
    if not resource.is_file():
        return None
    with resources.as_file(resource) as path:
        return Path(path)


def profile_files(profile: Profile) -> list[Path]:
    """The file of a profile and the files it `extends`, top first (the loader's rules: a name
    is a shipped profile, a path is relative to the folder of the profile that names it)."""
    found: list[Path] = []
    text, folder = profile.source, Path.cwd()
    while text and len(found) < 20:
        if text.endswith((".yaml", ".yml")) or "/" in text:
            path: Path | None = (folder / text) if not Path(text).is_absolute() else Path(text)
        else:
            path = _shipped_profile(text)
        if path is None or not path.is_file() or path.resolve() in found:
            break
        found.append(path.resolve())
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            break
        base = data.get("extends") if isinstance(data, dict) else None
        text, folder = (base, path.parent) if isinstance(base, str) else ("", folder)
    return found


@dataclass(frozen=True)
class CaseSource:
    """A folder of case files and whose they are."""

    root: Path
    origin: str  # "official" | "vendor"


def _case_ids(path: Path) -> list[tuple[str, int | None, bool]]:
    """(id, line, overrides) of each case in a case file; nothing when it does not parse."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    entries = node.value if isinstance(node, yaml.SequenceNode) else [node]
    out = []
    for entry in entries:
        if not isinstance(entry, yaml.MappingNode):
            continue
        fields = {k.value: v for k, v in entry.value if isinstance(k, yaml.ScalarNode)}
        ident = fields.get("id")
        if not isinstance(ident, yaml.ScalarNode):
            continue
        flag = fields.get("overrides")
        overrides = isinstance(flag, yaml.ScalarNode) and flag.value.lower() == "true"
        out.append((str(ident.value), ident.start_mark.line + 1, overrides))
    return out


def _files_below(root: Path) -> list[Path]:
    found = sorted(root.rglob("*.yaml")) if root.is_dir() else [root]
    return [p.resolve() for p in found if not p.name.startswith("_")]


def case_listing(sources: Sequence[CaseSource]) -> dict[str, Any]:
    """Every case file of the run: origin, real path, SHA-256, the case IDs it holds; official
    and vendor files listed apart, each vendor case that replaces an official one named with the
    official case it replaces. A file given as official and as vendor is official."""
    seen: set[Path] = set()
    files: list[dict[str, Any]] = []
    for source in sources:
        root = source.root.resolve()
        for path in _files_below(root):
            if path in seen:
                continue
            seen.add(path)
            ids = _case_ids(path)
            files.append(
                {
                    "path": str(path),
                    "origin": source.origin,
                    "root": str(root),
                    "relative": str(path.relative_to(root)) if path != root else path.name,
                    "sha256": sha256_file(path),
                    "cases": [i for i, _, _ in ids],
                    "_ids": ids,
                }
            )
    official_at = {
        ident: f"{f['path']}:{line}"
        for f in files
        if f["origin"] == "official"
        for ident, line, _ in f["_ids"]
    }
    for entry in files:
        entry["overrides"] = [
            {"case": ident, "line": line, "official": official_at[ident]}
            for ident, line, flag in entry.pop("_ids")
            if flag and entry["origin"] == "vendor" and ident in official_at
        ]
    official = [f for f in files if f["origin"] == "official"]
    vendor = [f for f in files if f["origin"] == "vendor"]
    return {
        "suite": {
            "name": DIST,
            "version": __version__,
            "files": len(official),
            "cases": sum(len(f["cases"]) for f in official),
            "sha256": combined_hash(official),
        },
        "vendor": {
            "files": len(vendor),
            "cases": sum(len(f["cases"]) for f in vendor),
            "sha256": combined_hash(vendor) if vendor else None,
            "roots": sorted({f["root"] for f in vendor}),
        },
        "files": files,
    }


def combined_hash(files: Iterable[dict[str, Any]]) -> str:
    """One SHA-256 over a set of case files: each file's path below its root and its SHA-256,
    in a stable order (so the suite's hash does not depend on where it is installed)."""
    digest = hashlib.sha256()
    for entry in sorted(files, key=lambda f: f["relative"]):
        digest.update(f"{entry['sha256']}  {entry['relative']}\n".encode())
    return digest.hexdigest()


def overridden(listing: dict[str, Any]) -> dict[str, str]:
    """Case ID -> the official case (file:line) a vendor case replaces."""
    return {
        entry["case"]: entry["official"]
        for f in listing.get("files", [])
        for entry in f.get("overrides", [])
    }


_invoked_as: list[str] = []


def set_command(argv: Sequence[str]) -> None:
    """The command line as the program that was run received it (the CLI calls this: a run
    started from Python, such as a test calling `main`, then still records its own command)."""
    _invoked_as[:] = list(argv)


def command_line(argv: Sequence[str]) -> str:
    """The command as a person would type it again: the program's name without its folder
    (`python -m pytest` for pytest's __main__)."""
    if not argv:
        return ""
    head = Path(argv[0])
    program = f"python -m {head.parent.name}" if head.name == "__main__.py" else head.name
    return " ".join([program, shlex.join(argv[1:])]).strip()


def collect(
    *,
    implementations: Sequence[dict[str, Any]],
    profile: Profile,
    catalog: Catalog,
    case_sources: Sequence[CaseSource],
    baseline: Path | None,
    started: str,
    finished: str,
    command: Sequence[str] | None = None,
    pytest_args: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The provenance block of a report."""
    argv = list(command if command is not None else (_invoked_as or sys.argv))
    return {
        "harness": dict(harness_source()),
        "implementations": [
            {
                "name": dut["name"],
                "version": dut["version"],
                "role": dut["role"],
                **file_entry(dut["file"]),
            }
            for dut in implementations
        ],
        "profile": {
            "name": profile.name,
            "source": profile.source,
            "extends": profile.extends,
            "files": [file_entry(p) for p in profile_files(profile)],
        },
        "catalog": {"name": catalog.name, **file_entry(catalog.source)},
        "baseline": file_entry(baseline) if baseline else None,
        "cases": case_listing(case_sources),
        "run": {
            "started": started,
            "finished": finished,
            **environment(),
            "command": command_line(argv),
            "argv": argv,
            "pytest_args": list(pytest_args) if pytest_args is not None else None,
            "cwd": os.getcwd(),
        },
    }
