"""What-if on an assumption: rerun the DUT of a run under a profile that changes assumptions,
and say which verdicts flip.

A profile file derived from the bundled one names only what changes (`extends: dm20-draft`). An
assumption's text is prose; what changes behaviour is data: a section of the profile (A3 made
strict is `accept: {separators: [","]}`), or `relaxed: [A2]`, under which the judge applies no
rule of `core/rules.py` that rests on A2 (`rules.in_force`).

Before any rerun, the cases of the run whose verdict rests on a changed assumption are listed
with the reason: the case names it among its assumptions, verifies it, verifies a catalog
sentence the catalog rests on it, or saw a finding filed under it in this run. The rerun is
`dm20-conformance run` in a subprocess, with the run's DUT file, the same cases and the changed
profile, into a new run folder; then the reports are compared, per requirement (and assumption)
and per case."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.core.rules import resting_on
from conformance.dut import bundled_dut
from conformance.editor.evidence import Run, RunError, depending_cases, load_run
from conformance.profiles import Profile

__all__ = [
    "Change",
    "Comparison",
    "Flip",
    "compare",
    "depending_cases",
    "profile_change",
    "rerun",
    "rerun_argv",
]

RESULT = "whatif.json"


@dataclass(frozen=True)
class Change:
    """How a profile differs from the one a run used."""

    texts: dict[str, tuple[str | None, str | None]]  # assumption or rule -> (before, after)
    relaxed: tuple[str, ...]  # newly relaxed
    other: tuple[str, ...]  # other data that changed: "accept.separators: [...] -> [...]"

    @property
    def ids(self) -> tuple[str, ...]:
        """The assumptions and rules the change touches, in profile order."""
        return tuple(dict.fromkeys([*self.texts, *self.relaxed]))


def _plain(profile: Profile) -> dict[str, Any]:
    """The profile's data other than its names, assumptions and rules, as plain values."""
    return {
        "media_types": dict(profile.media),
        "headers": dict(profile.headers),
        "accept": dict(profile.accept),
        "keys": dict(profile.keys),
        "first_message_only": list(profile.first_message_only),
        "commands": {c.name: asdict(c) for c in profile.commands},
        "status_codes": dict(profile.status),
        "http_ok": profile.http_ok,
        "client_uri": dict(profile.client_uri),
        "alerts": dict(profile.alerts),
        "default_query": dict(profile.default_query),
        "limits": dict(profile.limits),
    }


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flat(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def profile_change(base: Profile, changed: Profile) -> Change:
    """What `changed` changes against `base`."""
    texts: dict[str, tuple[str | None, str | None]] = {}
    for table in ("assumptions", "rules"):
        before, after = dict(getattr(base, table)), dict(getattr(changed, table))
        for basis in dict.fromkeys([*before, *after]):
            if before.get(basis) != after.get(basis):
                texts[basis] = (before.get(basis), after.get(basis))
    relaxed = tuple(b for b in changed.relaxed if b not in base.relaxed)
    old, new = _flat(_plain(base)), _flat(_plain(changed))
    other = tuple(
        f"{key}: {json.dumps(old.get(key), ensure_ascii=False)} -> "
        f"{json.dumps(new.get(key), ensure_ascii=False)}"
        for key in dict.fromkeys([*old, *new])
        if old.get(key) != new.get(key)
    )
    return Change(texts, relaxed, other)


def rules_relaxed(change: Change) -> list[str]:
    """The keys of the judge's rules a change switches off."""
    return [rule.key for rule in resting_on(change.relaxed)]


def selection(run: Run) -> str:
    """A pytest -k expression that selects the cases the run ran."""
    ids = sorted({str(case["case"]) for case in run.cases.values()})
    return " or ".join(ids)


def rerun_argv(
    run: Run,
    profile: Path,
    reports: Path,
    *,
    timeout: float | None = None,
    keyword: str | None = None,
) -> list[str]:
    """The `dm20-conformance run` command line that reruns the run's DUT under `profile`."""
    duts = run.implementations
    argv = [sys.executable, "-m", "conformance.cli", "run", "--profile", str(profile.resolve())]
    argv += ["--reports", str(reports.resolve())]
    roles = sorted({str(d["role"]) for d in duts})
    if len(duts) == 1:
        argv += ["--dut", str(duts[0]["file"]), "--role", roles[0]]
    elif all(Path(d["file"]) == bundled_dut(d["role"]) for d in duts):
        argv += ["--role", "both" if len(roles) > 1 else roles[0]]
    else:
        raise RunError(
            f"{run.folder}: {len(duts)} implementations that are not the bundled samples; "
            "whatif reruns one DUT file: rerun each with its own run folder"
        )
    if timeout:
        argv += ["--timeout", str(timeout)]
    expression = keyword or selection(run)
    if expression:
        argv += ["-k", expression]
    return argv


@dataclass
class Rerun:
    folder: Path | None
    code: int
    output: str


def rerun(argv: list[str], cwd: Path | None = None, timeout_s: float = 3600) -> Rerun:
    """Run the command; the new run folder is the one it says it writes to."""
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout_s, check=False, cwd=cwd
    )
    output = done.stdout + done.stderr
    found = re.search(r"dm20-conformance: writing reports to (.+)", done.stdout)
    folder = Path(found.group(1).strip()) if found else None
    return Rerun(folder, done.returncode, output)


@dataclass(frozen=True)
class Flip:
    """One verdict or state that changed between the run and the rerun."""

    id: str
    before: str
    after: str
    why: tuple[str, ...] = ()  # for a case: why it rests on the change (empty: it does not)


@dataclass
class Comparison:
    requirements: list[Flip] = field(default_factory=list)
    assumptions: list[Flip] = field(default_factory=list)
    cases: list[Flip] = field(default_factory=list)
    broken: list[Flip] = field(default_factory=list)  # same verdict, other IDs broken
    only_before: list[str] = field(default_factory=list)
    only_after: list[str] = field(default_factory=list)

    @property
    def unexplained(self) -> list[Flip]:
        """Case flips that no changed assumption explains (other profile data, or a DUT that
        does not behave the same twice)."""
        return [f for f in self.cases if not f.why]


def states(cases: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The state of every ID the cases checked, as the conformance report rolls it up: FAIL
    when a case broke it, PASS when a case kept it and none broke it."""
    out: dict[str, str] = {}
    for case in cases:
        for basis in case.get("passed", []):
            out.setdefault(basis, "PASS")
        for basis in case.get("failed", []):
            out[basis] = "FAIL"
    return out


def compare(before: Run, after: Run, depending: Mapping[str, list[str]]) -> Comparison:
    """The flips between a run and its rerun, over the cases both ran (a rerun of a -k
    selection is compared on that selection)."""
    out = Comparison()
    common = [name for name in before.cases if name in after.cases]
    old = states(before.cases[n] for n in common)
    new = states(after.cases[n] for n in common)
    for basis in sorted(set(old) | set(new), key=_id_key):
        was, now = old.get(basis, "not exercised"), new.get(basis, "not exercised")
        if was != now:
            flips = out.requirements if basis.startswith("DM20-") else out.assumptions
            flips.append(Flip(basis, was, now))
    for name, case in before.cases.items():
        other = after.cases.get(name)
        if other is None:
            out.only_before.append(name)
            continue
        why = tuple(depending.get(name, ()))
        if case["verdict"] != other["verdict"]:
            out.cases.append(Flip(name, case["verdict"], other["verdict"], why))
        elif set(case.get("failed", [])) != set(other.get("failed", [])):
            gone = [b for b in case.get("failed", []) if b not in other.get("failed", [])]
            new_ = [b for b in other.get("failed", []) if b not in case.get("failed", [])]
            text = "; ".join(
                part
                for part in (
                    f"no longer broken: {', '.join(gone)}" if gone else "",
                    f"newly broken: {', '.join(new_)}" if new_ else "",
                )
                if part
            )
            out.broken.append(Flip(name, case["verdict"], text, why))
    out.only_after = [name for name in after.cases if name not in before.cases]
    return out


def _id_key(basis: str) -> tuple[int, str, tuple[int, ...]]:
    numbers = tuple(int(n) for n in re.findall(r"\d+", basis))
    return (0 if basis.startswith("DM20-") else 1), basis[:1], numbers


def report_text(
    run: Run,
    profile_path: Path,
    change: Change,
    relaxed_rules: list[str],
    depending: Mapping[str, list[str]],
    base: Profile,
    changed: Profile,
) -> list[str]:
    """What the change is and which cases rest on it, as lines."""
    lines = [
        f"what-if: run {run.folder} (profile {base.name}) under {profile_path}"
        + (f" (extends {changed.extends})" if changed.extends else ""),
    ]
    for basis in change.relaxed:
        keys = [r.key for r in resting_on([basis])]
        lines.append(
            f"  relaxed {basis}: the judge no longer applies "
            + (", ".join(keys) if keys else "any rule (none of core/rules.py rests on it)")
        )
    for basis, (old, new) in change.texts.items():
        lines.append(f"  {basis} was: {old or '(absent)'}")
        lines.append(f"  {basis} now: {new or '(removed)'}")
    for line in change.other:
        lines.append(f"  changed {line}")
    if not (change.ids or change.other):
        lines.append("  the profile changes nothing the run used")
    width = max((len(n) for n in depending), default=0)
    lines.append(
        f"cases whose verdict rests on {', '.join(change.ids) or 'the change'} "
        f"({len(depending)} of {len(run.cases)} in the run):"
    )
    for name, reasons in depending.items():
        verdict = run.cases[name]["verdict"]
        lines.append(f"  {name:<{width}}  {verdict:<13} {'; '.join(reasons)}")
    if change.other:
        lines.append("  (other profile data changed too: any case may flip, the rerun shows which)")
    return lines


def comparison_text(result: Comparison) -> list[str]:
    flips = len(result.requirements) + len(result.assumptions)
    lines = [f"verdict flips per requirement and assumption ({flips}):"]
    for flip in result.requirements + result.assumptions:
        lines.append(f"  {flip.id:<14} {flip.before} -> {flip.after}")
    lines.append(f"verdict flips per case ({len(result.cases)}):")
    for flip in result.cases:
        why = "; ".join(flip.why) if flip.why else "rests on no changed assumption"
        lines.append(f"  {flip.id}: {flip.before} -> {flip.after} ({why})")
    if result.broken:
        lines.append(f"same verdict, other IDs broken ({len(result.broken)}):")
        for flip in result.broken:
            lines.append(f"  {flip.id}: {flip.before}, {flip.after}")
    for names, what in (
        (result.only_before, "not rerun (outside the -k selection, or no longer collected)"),
        (result.only_after, "only in the rerun"),
    ):
        if names:
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            lines.append(f"{len(names)} case(s) {what}: {shown}")
    if result.unexplained:
        lines.append(
            "flips no changed assumption explains: " + ", ".join(f.id for f in result.unexplained)
        )
    return lines


def as_json(
    run: Run,
    new_run: Run | None,
    change: Change,
    depending: Mapping[str, list[str]],
    result: Comparison | None,
) -> dict[str, Any]:
    return {
        "run": str(run.folder),
        "rerun": str(new_run.folder) if new_run else None,
        "change": {
            "texts": {k: {"before": a, "after": b} for k, (a, b) in change.texts.items()},
            "relaxed": list(change.relaxed),
            "rules_off": rules_relaxed(change),
            "other": list(change.other),
        },
        "depending": dict(depending),
        "flips": asdict(result) if result else None,
    }


def load_rerun(folder: Path) -> Run:
    return load_run(folder, "after")


def write_result(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / RESULT
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path
