"""The results of a run, one JSON line per case, written as each case ends (so an interrupted run
keeps every verdict it reached), and read back for summaries and reports. Several workers or
several runs write several files; `read_results` merges them."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from conformance.engine.records import SEVERITY, CaseRecord

RESULTS_DIR = "results"


def new_run_dir(root: Path, prefix: str = "") -> Path:
    """<root>/<prefix><UTC timestamp>/, made now: unique even for runs started in the same
    second (a suffix -1, -2, …)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for suffix in ["", *(f"-{n}" for n in range(1, 1000))]:
        path = root / f"{prefix}{stamp}{suffix}"
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot make a new run folder under {root}")


class ResultLog:
    """Appends one record per case to `<reports>/results/<name>.jsonl`, flushed at once."""

    def __init__(self, reports: Path, name: str = "main") -> None:
        self.path = reports / RESULTS_DIR / f"{name}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, record: CaseRecord) -> None:
        line = json.dumps(record.to_json(), ensure_ascii=False, default=str)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()


def read_results(reports: Path) -> list[CaseRecord]:
    """Every case record below `reports`, merged; a line cut short by a crash is skipped."""
    records = []
    for path in sorted((reports / RESULTS_DIR).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(CaseRecord.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError):
                continue
    return records


def count_verdicts(records: Iterable[CaseRecord]) -> Counter[str]:
    return Counter(r.verdict.value for r in records)


def summary_line(counts: Counter[str]) -> str:
    """`12 PASS, 1 FAIL, 3 NOT APPLICABLE` in severity order (worst first)."""
    parts = [f"{counts[v.value]} {v.value}" for v in SEVERITY if counts.get(v.value)]
    return ", ".join(parts) or "no cases ran"


def by_requirement(records: Iterable[CaseRecord]) -> dict[str, list[CaseRecord]]:
    """The case records of each requirement ID they verify."""
    out: dict[str, list[CaseRecord]] = {}
    for record in records:
        for requirement in record.requirements:
            out.setdefault(requirement, []).append(record)
    return out
