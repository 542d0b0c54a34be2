"""The spec editor's subcommands (the CLI registers them with `add_parser`):

    dm20-conformance draft [RUN_DIR …] [--out DIR]       the draft annotated with behaviour
    dm20-conformance defects [--format markdown] [--out FILE] [--kind KIND …]
    dm20-conformance whatif --profile FILE RUN_DIR [--timeout S] [-k EXPR] [--no-rerun]

README.md, "For spec editors", says what each gives."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from conformance.catalog import load_catalog
from conformance.editor import draft_page, whatif
from conformance.editor.defects import (
    KINDS,
    PLURAL,
    DefectError,
    counts,
    dependent_cases,
    load_defects,
    markdown,
    section_of,
)
from conformance.editor.evidence import RunError, divergences, load_run, load_runs
from conformance.editor.seed import load_seeds
from conformance.engine.loader import load_all, packaged_cases_dir
from conformance.profiles import load_profile


def _fail(text: str) -> int:
    print(f"dm20-conformance: {text}", file=sys.stderr)
    return 2


def cmd_draft(args: argparse.Namespace) -> int:
    """Exit status 0, or 2 when a run folder or the data cannot be read."""
    try:
        runs = load_runs([Path(r) for r in args.runs])
        defects = load_defects()
        profile = load_profile(args.profile)
    except (RunError, DefectError, ValueError) as exc:
        return _fail(str(exc))
    out = Path(args.out) if args.out else (runs[0].folder if runs else Path("."))
    page = draft_page.write(out, draft_page.render(runs, profile=profile, defects=defects))
    found = divergences(runs, load_catalog())
    print(f"the draft annotated with {len(runs)} run(s): {page}")
    print(
        f"{len(found)} sentence(s) where implementations disagree"
        + (f": {', '.join(d.basis for d in found[:8])}" if found else "")
        + (" …" if len(found) > 8 else "")
    )
    summary = ", ".join(f"{n} {PLURAL[k]}" for k, n in counts(defects).items())
    print(f"{len(defects)} draft defects: {summary}")
    return 0


def _defects_text(chosen: list[Any], cases: list[Any]) -> str:
    seeds = load_seeds()
    catalog = load_catalog()
    lines = []
    for defect in chosen:
        section = next((s for q in defect.quotes if (s := section_of(q, seeds))), "")
        lines.append(f"{defect.id}  {defect.kind:<13} §{section or '-':<4} {defect.title}")
        for quote in defect.quotes:
            lines.append(f"    “{quote.text}”")
        if defect.requirements:
            lines.append(f"    sentences: {', '.join(defect.requirements)}")
        if defect.assumptions:
            lines.append(f"    decided by: {', '.join(defect.assumptions)}")
        resting = dependent_cases(defect.ids, cases, catalog)
        if resting:
            shown = ", ".join(list(resting)[:8]) + (" …" if len(resting) > 8 else "")
            lines.append(f"    cases resting on it ({len(resting)}): {shown}")
    return "\n".join(lines) + "\n"


def cmd_defects(args: argparse.Namespace) -> int:
    """Exit status 0, or 2 when the defect list cannot be read (a case file that cannot be read
    is a warning: the cases resting on a defect are listed without it)."""
    try:
        defects = load_defects()
    except DefectError as exc:
        return _fail(str(exc))
    cases, problems = load_all([packaged_cases_dir(), *(Path(d) for d in args.cases)])
    for problem in problems:  # such a case is left out of "cases resting on it"
        print(f"warning: {problem}", file=sys.stderr)
    chosen = [d for d in defects if not args.kind or d.kind in args.kind]
    if args.format == "markdown":
        text = markdown(chosen, cases=cases)
    elif args.format == "json":
        catalog = load_catalog()
        text = json.dumps(
            [
                {
                    "id": d.id,
                    "kind": d.kind,
                    "title": d.title,
                    "quotes": [{"seed": q.seed, "text": q.text} for q in d.quotes],
                    "requirements": list(d.requirements),
                    "assumptions": list(d.assumptions),
                    "note": d.note,
                    "suggestion": d.suggestion,
                    "cases": dependent_cases(d.ids, cases, catalog),
                }
                for d in chosen
            ],
            indent=2,
            ensure_ascii=False,
        )
    else:
        text = _defects_text(chosen, cases)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"{len(chosen)} defects written to {args.out}", file=sys.stderr)
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    summary = ", ".join(f"{n} {PLURAL[k]}" for k, n in counts(chosen).items())
    print(f"{len(chosen)} draft defects: {summary}", file=sys.stderr)
    return 0


def cmd_whatif(args: argparse.Namespace) -> int:
    """Exit status 0 when the comparison was made (flips are information, not failure), 1 when
    the rerun left no report, 2 when the inputs cannot be read."""
    try:
        run = load_run(Path(args.run), "before")
        base = load_profile(args.base or run.profile)
        changed = load_profile(str(Path(args.profile).resolve()))
    except (RunError, ValueError) as exc:
        return _fail(str(exc))
    change = whatif.profile_change(base, changed)
    depending = whatif.depending_cases(run.cases.values(), change.ids, load_catalog())
    for line in whatif.report_text(
        run, Path(args.profile), change, whatif.rules_relaxed(change), depending, base, changed
    ):
        print(line)
    if args.no_rerun:
        return 0
    reports = Path(args.reports) if args.reports else run.folder.parent
    try:
        argv = whatif.rerun_argv(
            run, Path(args.profile), reports, timeout=args.timeout, keyword=args.keyword
        )
    except RunError as exc:
        return _fail(str(exc))
    print("rerun: dm20-conformance " + shlex.join(argv[3:]), flush=True)
    done = whatif.rerun(argv)
    if done.folder is None or not (done.folder / "report.json").is_file():
        print(done.output[-3000:], file=sys.stderr)
        return _fail(f"the rerun (exit status {done.code}) left no report")
    (done.folder / "whatif-run.log").write_text(done.output, encoding="utf-8")
    after = whatif.load_rerun(done.folder)
    summary = [line for line in done.output.splitlines() if line.startswith("dm20-conformance:")]
    counted = summary[-1].split(": ", 1)[-1].split(" -> ")[0] if summary else ""
    print(f"  -> {done.folder}" + (f": {counted}" if counted else ""))
    result = whatif.compare(run, after, depending)
    for line in whatif.comparison_text(result):
        print(line)
    path = whatif.write_result(done.folder, whatif.as_json(run, after, change, depending, result))
    print(f"what-if written to {path}")
    return 0


def add_parser(commands: Any) -> None:
    """Add `draft`, `defects` and `whatif` to the CLI's subcommands (the object
    `add_subparsers` returned)."""
    draft = commands.add_parser(
        "draft",
        help="the draft's text annotated with the verdicts of one or more runs (HTML)",
        description="Write draft.html: the seed chapters in document order, each catalog "
        "sentence with a verdict chip per run, the sentences where implementations disagree "
        "first, every draft defect and the assumptions that fill its silences. Exit status: 0 "
        "the page was written; 2 a run folder or the profile cannot be read, or a usage error.",
    )
    draft.add_argument("runs", nargs="*", metavar="RUN_DIR", help="reports/<timestamp> folders")
    draft.add_argument(
        "--out", metavar="DIR", help="where to write draft.html (default: the first run folder)"
    )
    draft.add_argument("--profile", default="dm20-draft", help="profile whose assumptions to show")
    draft.set_defaults(func=cmd_draft)

    defects = commands.add_parser(
        "defects",
        help="the draft's contradictions, ambiguities, typos and deferred items",
        description="List every defect of the draft text with its quotes, the sentences and "
        "assumptions it concerns and the cases resting on it; --format markdown gives the text "
        "of a change request. Exit status: 0 the list was written; 2 the defect list cannot be "
        "read, or a usage error.",
    )
    defects.add_argument(
        "--format",
        choices=["text", "markdown", "json"],
        default="text",
        help="text for a person, markdown for a change request, json for tools (default: text)",
    )
    defects.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    defects.add_argument(
        "--kind", action="append", choices=KINDS, help="only this kind (repeatable)"
    )
    defects.add_argument(
        "--cases", action="append", default=[], metavar="DIR", help="vendor case folder"
    )
    defects.set_defaults(func=cmd_defects)

    what = commands.add_parser(
        "whatif",
        help="rerun a run's DUT under a profile that changes assumptions; print what flips",
        description="List the cases of RUN_DIR whose verdict rests on the assumptions the "
        "profile changes or relaxes, rerun the same DUT and cases under it into a new run "
        "folder, and print per requirement and per case which verdicts flip. Exit status: 0 the "
        "comparison was printed (flips or none); 2 the run, the profile or the rerun cannot be "
        "used, or a usage error.",
    )
    what.add_argument("run", metavar="RUN_DIR", help="a reports/<timestamp> folder")
    what.add_argument(
        "--profile",
        required=True,
        metavar="FILE",
        help="the changed profile (e.g. `extends: dm20-draft` and `relaxed: [A2]`)",
    )
    what.add_argument(
        "--base", metavar="PROFILE", help="the run's profile (default: the one its report names)"
    )
    what.add_argument(
        "--reports", metavar="DIR", help="where the rerun writes (default: beside RUN_DIR)"
    )
    what.add_argument("--timeout", type=float, metavar="S", help="seconds for every wait")
    what.add_argument(
        "-k", dest="keyword", help="rerun only these cases (default: every case the run ran)"
    )
    what.add_argument(
        "--no-rerun", action="store_true", help="only list the cases resting on the change"
    )
    what.set_defaults(func=cmd_whatif)
