"""The search both explorers share: Hypothesis draws scripts, each new script runs against the
implementation once (a real session: results are kept by the script's case, so Hypothesis asking
again costs nothing), and a divergence is shrunk within a budget.

Budgets. Every example is a real session of processes and loopback HTTP (about a second), so:
- generation stops after `examples` new scripts ran, or after `seconds`;
- shrinking reruns the implementation, so it stops after `shrink_runs` new scripts ran or
  `shrink_seconds` passed since the first divergence. Hypothesis shrinks first, with half of the
  runs: from then on every script it has not run yet is rejected at once (that costs nothing).
  Then exploration's own structural pass (`simplify`: a session, a message, a command less, END
  alone) takes the rest, keeping each cut that still diverges. Shrinking keeps to the first
  divergence: a script that breaks none of the IDs it broke is another defect, reported beside
  it, not shrunk to. The smallest divergence found is the one reported.

Reproducible: Hypothesis draws from `seed` (the same seed, the same implementation: the same
scripts in the same order, so the same first divergence), and its example database lives in the
run folder, one per divergence sought (a second run in that folder replays the divergences
first).

Several divergences: with `divergences` above 1 the search goes on after a divergence is shrunk,
for one that names none of the IDs found before, until the generation budget is spent."""

from __future__ import annotations

import contextlib
import json
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Unsatisfiable

from conformance.engine.events import Listener
from conformance.engine.records import CaseRecord, Verdict
from conformance.roles.exchange import HttpExchange

S = TypeVar("S")
CHUNK = 10  # examples per Hypothesis run (a time budget is checked between runs too)


@dataclass
class Budget:
    """How long exploration may run (see the module's docstring)."""

    examples: int | None = 50
    seconds: float | None = None
    shrink_runs: int = 40
    shrink_seconds: float = 120.0
    divergences: int = 1  # divergences (of different IDs) to find before stopping

    def describe(self) -> str:
        parts = []
        if self.examples is not None:
            parts.append(f"{self.examples} examples")
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} s")
        shrink = f"shrinking at most {self.shrink_runs} runs / {self.shrink_seconds:g} s"
        each = " each" if self.divergences > 1 else ""
        until = f"; until {self.divergences} divergences" if self.divergences > 1 else ""
        return " or ".join(parts) + f"; {shrink}{each}{until}"


@dataclass
class Outcome:
    """One script run: its record, what it broke (empty: it conforms), which step names what,
    or why it could not be judged (the case errored, the implementation never answered)."""

    record: CaseRecord
    ids: tuple[str, ...] = ()
    focus: dict[str, list[str]] = field(default_factory=dict)
    trouble: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the case the script ran as

    @property
    def diverged(self) -> bool:
        return bool(self.ids)


@dataclass
class Found(Generic[S]):
    """A script that diverged, and when it was run."""

    script: S
    outcome: Outcome
    run: int  # the how-many-th run of the implementation it was
    size: tuple[int, int]


@dataclass
class Divergent(Generic[S]):
    """A divergence: the script that first showed it, and the smallest that still does."""

    first: Found[S]
    smallest: Found[S]


@dataclass
class Result(Generic[S]):
    """What a search did and found."""

    runs: int = 0
    examples: int = 0  # runs up to the first divergence
    seconds: float = 0.0
    shrink_runs: int = 0
    divergences: list[Divergent[S]] = field(default_factory=list)
    trouble: Found[S] | None = None
    others: list[Found[S]] = field(default_factory=list)  # divergences seen, not shrunk
    stopped: str = ""

    @property
    def first(self) -> Found[S] | None:
        return self.divergences[0].first if self.divergences else None

    @property
    def smallest(self) -> Found[S] | None:
        return self.divergences[0].smallest if self.divergences else None


class Exchanges(Listener):
    """Keeps every HTTP exchange of a case run."""

    def __init__(self) -> None:
        self.seen: list[HttpExchange] = []

    def exchange(self, exchange: HttpExchange) -> None:
        self.seen.append(exchange)


class Diverged(Exception):
    """Raised in the Hypothesis test for a script that diverged (Hypothesis shrinks it)."""


class Trouble(Exception):
    """Raised for a script that could not be judged."""


class Progress:
    """Where a search is, on stderr: a bar on a terminal, a line now and then elsewhere."""

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.width = width
        self.last_line = 0.0

    def show(self, done: float, text: str, force: bool = False) -> None:
        filled = int(self.width * max(0.0, min(done, 1.0)))
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {text}"
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150))
            self.stream.flush()
        elif force or time.monotonic() - self.last_line > 10:
            self.stream.write(line + "\n")
            self.stream.flush()
            self.last_line = time.monotonic()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class Search(Generic[S]):
    """Hypothesis over `strategy`; `run` runs one script, `key` names its case (two scripts with
    the same key are the same case), `size` is (messages, commands) for the progress line."""

    def __init__(
        self,
        strategy: st.SearchStrategy[S],
        run: Callable[[S, int], Outcome],
        key: Callable[[S], str],
        size: Callable[[S], tuple[int, int]],
        budget: Budget,
        seed_value: int,
        database: Path,
        progress: Progress | None = None,
        simplify: Callable[[S], Iterable[S]] | None = None,
        units: tuple[str, str] = ("messages", "commands"),
    ) -> None:
        self.strategy = strategy
        self.simplify = simplify
        self.units = units
        self.run_one = run
        self.key = key
        self.size = size
        self.budget = budget
        self.seed = seed_value
        self.database = database
        self.progress = progress or Progress()
        self.cache: dict[str, Outcome] = {}
        self.result: Result[S] = Result()
        self.hypothesis_share = 0.5 if simplify is not None else 1.0
        self.started = 0.0
        self.first_at = 0.0
        self.generated = 0  # runs of new scripts while searching (not shrinking)
        self.shrunk = 0  # runs while shrinking the divergence in hand
        self.current: Divergent[S] | None = None  # the divergence being shrunk
        self.known: set[str] = set()  # the IDs of the divergences already shrunk

    # -- budgets --------------------------------------------------------------------------------
    def _generation_spent(self) -> bool:
        budget = self.budget
        if budget.examples is not None and self.generated >= budget.examples:
            return True
        return budget.seconds is not None and time.monotonic() - self.started >= budget.seconds

    def _shrink_spent(self, share: float = 1.0) -> bool:
        return (
            self.shrunk >= self.budget.shrink_runs * share
            or time.monotonic() - self.first_at >= self.budget.shrink_seconds * share
        )

    def _fraction(self) -> float:
        budget = self.budget
        if self.current is not None:
            return self.shrunk / max(budget.shrink_runs, 1)
        parts = []
        if budget.examples is not None:
            parts.append(self.generated / max(budget.examples, 1))
        if budget.seconds is not None:
            parts.append((time.monotonic() - self.started) / max(budget.seconds, 1e-9))
        return max(parts or [0.0])

    def _say(self, force: bool = False) -> None:
        elapsed = time.monotonic() - self.started
        if self.current is not None:
            found = self.current.smallest
            big, small = found.size
            text = (
                f"shrinking {self.shrunk}/{self.budget.shrink_runs} runs; divergence "
                f"{', '.join(found.outcome.ids)} in {big} {self.units[0]}, {small} "
                f"{self.units[1]}"
            )
        else:
            total = f"/{self.budget.examples}" if self.budget.examples is not None else ""
            found_ = len(self.result.divergences)
            text = f"{self.generated}{total} examples, {elapsed:.0f} s, " + (
                f"{found_} divergence(s) found" if found_ else "no divergence"
            )
        self.progress.show(self._fraction(), text, force)

    # -- the test Hypothesis runs ---------------------------------------------------------------
    def _run(self, script: S) -> Outcome:
        """Run a script (counted as searching or as shrinking) and keep its outcome."""
        result = self.result
        result.runs += 1
        if self.current is None:
            self.generated += 1
        else:
            self.shrunk += 1
            result.shrink_runs += 1
        try:
            outcome = self.run_one(script, result.runs)
        except Exception as exc:  # a defect of exploration itself: reported, never flaky
            record = CaseRecord("", "", "", "", Verdict.ERROR, message=traceback.format_exc())
            outcome = Outcome(record, trouble=f"exploration failed: {type(exc).__name__}: {exc}")
        self.cache[self.key(script)] = outcome
        found = Found(script, outcome, result.runs, self.size(script))
        if outcome.trouble is not None and result.trouble is None:
            result.trouble = found
        if outcome.diverged:
            if self.current is None and not self._known(outcome):
                self.current = Divergent(found, found)
                self.first_at = time.monotonic()
                self.shrunk = 0
                if result.examples == 0:
                    result.examples = result.runs
                self._say(force=True)
            elif self.current is not None and self._same(outcome):
                if _smaller(found, self.current.smallest):
                    self.current.smallest = found
            elif not self._known(outcome) and all(
                set(o.outcome.ids) != set(outcome.ids) for o in result.others
            ):
                result.others.append(found)
        self._say()
        return outcome

    def _example(self, script: S) -> None:
        if self.current is None and self._generation_spent():
            reject()  # the budget is spent: Hypothesis ends this run
        outcome = self.cache.get(self.key(script))
        if outcome is None:
            if self.current is not None and self._shrink_spent(self.hypothesis_share):
                reject()
            outcome = self._run(script)
        if outcome.trouble is not None:
            raise Trouble(outcome.trouble)
        if outcome.diverged and self.current is not None and self._same(outcome):
            raise Diverged(", ".join(outcome.ids))

    def _known(self, outcome: Outcome) -> bool:
        """Whether a divergence names only IDs of divergences already shrunk."""
        return not set(outcome.ids) - self.known

    def _same(self, outcome: Outcome) -> bool:
        """Whether a divergence is the one being shrunk: it names an ID the first one named
        and no divergence before it did (shrinking must not slip to another defect)."""
        current = self.current
        if current is None:
            return False
        return bool(set(outcome.ids) & (set(current.first.outcome.ids) - self.known))

    def _structural(self) -> None:
        """Cut the smallest divergence down while the budget lasts: take the first simpler
        script that still diverges the same way, and start again from it."""
        current = self.current
        if self.simplify is None or current is None:
            return
        progress = True
        while progress and not self._shrink_spent():
            progress = False
            for candidate in self.simplify(current.smallest.script):
                if self._shrink_spent():
                    break
                outcome = self.cache.get(self.key(candidate)) or self._run(candidate)
                if outcome.diverged and self._same(outcome):
                    smallest = current.smallest
                    if _smaller(Found(candidate, outcome, 0, self.size(candidate)), smallest):
                        current.smallest = Found(
                            candidate, outcome, self.result.runs, self.size(candidate)
                        )
                        progress = True
                        break

    def _settings(self, examples: int) -> settings:
        # one database per divergence sought: a later search must not drop the earlier ones
        slot = self.database / str(len(self.result.divergences) + 1)
        return settings(
            database=DirectoryBasedExampleDatabase(str(slot)),
            max_examples=examples,
            deadline=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
            report_multiple_bugs=False,
            print_blob=False,
            verbosity=Verbosity.quiet,
        )

    def go(self) -> Result[S]:
        """Search until the budget is spent, or until `budget.divergences` divergences are found
        and shrunk (each of other IDs than the ones before)."""
        self.started = time.monotonic()
        self.database.mkdir(parents=True, exist_ok=True)
        result = self.result
        chunk = 0
        idle = 0  # chunks in a row that ran nothing new
        while result.trouble is None and len(result.divergences) < self.budget.divergences:
            if self._generation_spent():
                break
            before = result.runs
            # Hypothesis runs of CHUNK examples, each from a seed of its own: within one run it
            # draws most scripts near earlier ones; several runs spread a small budget wider
            wanted = CHUNK
            if self.budget.examples is not None:
                wanted = min(wanted, self.budget.examples - self.generated)

            # @seed turns the database off for the settings it finds; @settings after it turns
            # it on again (the database is the run folder's, see the docstring)
            @self._settings(wanted)
            @seed(self.seed * 1000 + chunk)
            @given(self.strategy)
            def example(script: S) -> None:
                self._example(script)

            with contextlib.suppress(Diverged, Trouble, Unsatisfiable):
                example()  # a divergence ends it, shrunk; Unsatisfiable: all rejected
            chunk += 1
            if self.current is not None and result.trouble is None:
                self._structural()
                result.divergences.append(self.current)
                self.known |= set(self.current.first.outcome.ids)
                self.current = None
                self._say(force=True)
            idle = idle + 1 if result.runs == before else 0
            if idle >= 3:  # every script drawn had run already: the search space is spent
                result.stopped = "no new scripts"
                break
        result.others = [o for o in result.others if not self._known(o.outcome)]
        result.seconds = time.monotonic() - self.started
        self._say(force=True)
        self.progress.done()
        return result


def _smaller(a: Found[Any], b: Found[Any]) -> bool:
    return (a.size[1], a.size[0], a.run) < (b.size[1], b.size[0], b.run)


def canonical(data: Any) -> str:
    """A case's data as one string: the key of its run in the cache."""
    return json.dumps(data, sort_keys=True, default=str)
