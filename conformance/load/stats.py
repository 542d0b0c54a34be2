"""What a load run saw: latencies per exchange and per session, sessions that ended, were aborted
or were cut off, transport errors, and every non-conformant exchange grouped by the requirement it
breaks. Plain data with a text report; nothing here does I/O."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from conformance.core.rules import Finding
from conformance.load.findings import failed

EXAMPLES_PER_REQUIREMENT = 3  # distinct messages shown per requirement, with an example exchange


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` percentile (0..1) by nearest rank of sorted `values`; NaN when empty."""
    if not values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(values)))
    return values[min(rank, len(values)) - 1]


def _add(a: float, b: float) -> float:
    """a + b, where NaN means not measured (rather than unknown)."""
    if math.isnan(a):
        return b
    return a if math.isnan(b) else a + b


@dataclass
class Latencies:
    """Seconds of one kind of operation (an exchange, a session)."""

    values: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.values.append(seconds)

    def summary(self) -> dict[str, float | int]:
        """Count, mean, p50/p95/p99 and max, in milliseconds."""
        ordered = sorted(self.values)
        count = len(ordered)
        mean = sum(ordered) / count if count else math.nan
        return {
            "count": count,
            "mean_ms": mean * 1000,
            "p50_ms": percentile(ordered, 0.50) * 1000,
            "p95_ms": percentile(ordered, 0.95) * 1000,
            "p99_ms": percentile(ordered, 0.99) * 1000,
            "max_ms": (ordered[-1] if ordered else math.nan) * 1000,
        }


@dataclass
class Violation:
    """One requirement broken under load: how often, with which messages, and an example."""

    requirement: str
    count: int = 0
    messages: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # message -> "device: METHOD url"


@dataclass
class LoadStats:
    """Everything one load run counts."""

    exchanges: Latencies = field(default_factory=Latencies)
    sessions: Latencies = field(default_factory=Latencies)
    completed: int = 0  # ended by END
    aborted: Counter[str] = field(default_factory=Counter)  # reason -> sessions
    cut_off: int = 0  # still running when the run ended
    errors: Counter[str] = field(default_factory=Counter)  # transport error -> exchanges
    violations: dict[str, Violation] = field(default_factory=dict)
    bad_exchanges: int = 0  # exchanges with at least one failed requirement
    elapsed_s: float = 0.0
    devices: int = 0
    enqueue_s: float = 0.0
    enqueue_problems: Counter[str] = field(default_factory=Counter)
    interrupted: bool = False  # ended early by Ctrl-C or SIGTERM
    cpu_s: float = math.nan  # CPU the load generator used during the load
    server_cpu_s: float = math.nan  # CPU the server under test used (Linux, started by us)

    def exchange(self, seconds: float) -> None:
        self.exchanges.add(seconds)

    def error(self, what: str) -> None:
        self.errors[what] += 1

    def judged(self, findings: list[Finding], where: str) -> None:
        """The judge's findings on one exchange; `where` names device and request."""
        failures = failed(findings)
        if not failures:
            return
        self.bad_exchanges += 1
        for finding in failures:
            entry = self.violations.setdefault(finding.requirement, Violation(finding.requirement))
            entry.count += 1
            entry.messages[finding.message] += 1
            entry.examples.setdefault(finding.message, where)

    def session_ended(self, seconds: float, aborted: bool, reason: str) -> None:
        if aborted:
            self.aborted[reason] += 1
        else:
            self.completed += 1
            self.sessions.add(seconds)

    @property
    def non_conformant(self) -> bool:
        return bool(self.violations)

    def merge(self, other: LoadStats) -> None:
        """Add `other`'s counts and latencies to these: the figures of another Locust worker, or of
        a later interval of the same one. CPU adds up too; the facts of the run as a whole
        (elapsed, devices, enqueue, interrupted) stay as they are."""
        self.exchanges.values.extend(other.exchanges.values)
        self.sessions.values.extend(other.sessions.values)
        self.completed += other.completed
        self.aborted.update(other.aborted)
        self.cut_off += other.cut_off
        self.errors.update(other.errors)
        self.bad_exchanges += other.bad_exchanges
        for requirement, theirs in other.violations.items():
            ours = self.violations.setdefault(requirement, Violation(requirement))
            ours.count += theirs.count
            ours.messages.update(theirs.messages)
            for message, where in theirs.examples.items():
                ours.examples.setdefault(message, where)
        self.cpu_s = _add(self.cpu_s, other.cpu_s)
        self.server_cpu_s = _add(self.server_cpu_s, other.server_cpu_s)

    def to_wire(self) -> dict[str, Any]:
        """Everything counted, as plain lists, dicts and numbers (for JSON and msgpack alike):
        what a Locust worker sends its master, and the master the harness; `from_wire` reads it."""
        return {
            "exchanges": self.exchanges.values,
            "sessions": self.sessions.values,
            "completed": self.completed,
            "aborted": dict(self.aborted),
            "cut_off": self.cut_off,
            "errors": dict(self.errors),
            "violations": {
                r: {"count": v.count, "messages": dict(v.messages), "examples": v.examples}
                for r, v in self.violations.items()
            },
            "bad_exchanges": self.bad_exchanges,
            "elapsed_s": self.elapsed_s,
            "devices": self.devices,
            "enqueue_s": self.enqueue_s,
            "enqueue_problems": dict(self.enqueue_problems),
            "interrupted": self.interrupted,
            "cpu_s": self.cpu_s,
            "server_cpu_s": self.server_cpu_s,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> LoadStats:
        """The figures `to_wire` wrote."""
        return cls(
            exchanges=Latencies(list(data["exchanges"])),
            sessions=Latencies(list(data["sessions"])),
            completed=data["completed"],
            aborted=Counter(data["aborted"]),
            cut_off=data["cut_off"],
            errors=Counter(data["errors"]),
            violations={
                requirement: Violation(
                    requirement, v["count"], Counter(v["messages"]), dict(v["examples"])
                )
                for requirement, v in data["violations"].items()
            },
            bad_exchanges=data["bad_exchanges"],
            elapsed_s=data["elapsed_s"],
            devices=data["devices"],
            enqueue_s=data["enqueue_s"],
            enqueue_problems=Counter(data["enqueue_problems"]),
            interrupted=data["interrupted"],
            cpu_s=data["cpu_s"],
            server_cpu_s=data["server_cpu_s"],
        )

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready data (`--json`)."""
        elapsed = self.elapsed_s or math.nan
        return {
            "devices": self.devices,
            "elapsed_s": self.elapsed_s,
            "interrupted": self.interrupted,
            "sessions_completed": self.completed,
            "sessions_aborted": sum(self.aborted.values()),
            "sessions_cut_off": self.cut_off,
            "sessions_per_s": self.completed / elapsed,
            "exchanges": len(self.exchanges.values),
            "exchanges_per_s": len(self.exchanges.values) / elapsed,
            "exchange_latency": self.exchanges.summary(),
            "session_latency": self.sessions.summary(),
            "transport_errors": dict(self.errors),
            "aborted": dict(self.aborted),
            "non_conformant_exchanges": self.bad_exchanges,
            "violations": {
                v.requirement: {"count": v.count, "messages": dict(v.messages)}
                for v in sorted(self.violations.values(), key=lambda v: v.requirement)
            },
            "generator_cpu_s": self.cpu_s,
            "server_cpu_s": self.server_cpu_s,
            "enqueue_s": self.enqueue_s,
            "enqueue_problems": dict(self.enqueue_problems),
        }

    def report(self) -> str:
        """The run as a person reads it."""
        elapsed = self.elapsed_s or math.nan
        count = len(self.exchanges.values)
        lines = [
            f"devices: {self.devices}, {self.elapsed_s:.1f} s of load"
            + (" (interrupted)" if self.interrupted else ""),
            f"sessions: {self.completed} completed ({self.completed / elapsed:.1f}/s), "
            f"{sum(self.aborted.values())} aborted, {self.cut_off} cut off at the end",
            f"exchanges: {count} ({count / elapsed:.1f}/s), "
            f"{sum(self.errors.values())} transport errors",
        ]
        for name, latencies in (("exchange", self.exchanges), ("session", self.sessions)):
            s = latencies.summary()
            if not s["count"]:
                what = "answered exchange" if name == "exchange" else "completed session"
                lines.append(f"latency per {name:<8} (ms): no {what}")
                continue
            lines.append(
                f"latency per {name:<8} (ms): p50 {s['p50_ms']:.1f}  p95 {s['p95_ms']:.1f}  "
                f"p99 {s['p99_ms']:.1f}  max {s['max_ms']:.1f}  mean {s['mean_ms']:.1f}  "
                f"(n={s['count']})"
            )
        cpu = f"CPU during the load: generator {self.cpu_s:.1f} s ({self.cpu_s / elapsed:.0%})"
        if math.isfinite(self.server_cpu_s):
            cpu += f", server {self.server_cpu_s:.1f} s ({self.server_cpu_s / elapsed:.0%})"
        lines.append(cpu)
        if self.enqueue_s:
            lines.append(f"enqueue hook: {self.enqueue_s:.1f} s before the load")
        for what, times in self.enqueue_problems.most_common(5):
            lines.append(f"  enqueue problem ({times}x): {what}")
        for what, times in self.errors.most_common(10):
            lines.append(f"  transport error ({times}x): {what}")
        for reason, times in self.aborted.most_common(10):
            lines.append(f"  aborted session ({times}x): {reason}")
        if not self.violations:
            lines.append("non-conformant exchanges: none")
            return "\n".join(lines)
        lines.append(
            f"non-conformant exchanges: {self.bad_exchanges} of {count}, "
            f"{len(self.violations)} requirement(s) broken:"
        )
        for violation in sorted(self.violations.values(), key=lambda v: (-v.count, v.requirement)):
            lines.append(f"  {violation.requirement}: {violation.count} finding(s)")
            for message, times in violation.messages.most_common(EXAMPLES_PER_REQUIREMENT):
                lines.append(f"    {times}x {message}")
                lines.append(f"       e.g. {violation.examples[message]}")
            more = len(violation.messages) - EXAMPLES_PER_REQUIREMENT
            if more > 0:
                lines.append(f"    … and {more} other message(s)")
        return "\n".join(lines)
