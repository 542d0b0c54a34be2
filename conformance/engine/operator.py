"""The operator in the loop: a person who carries out a DUT file's manual steps (`session: {manual:
"Open Settings > Device management > Sync now"}`) on a device the harness cannot script.

The harness prints the instruction with every value the operator needs (the URL to enter, the
MOID, the CA certificate), each line beginning with PREFIX so a wrapper can find them, then waits
for the device's request, never for a keypress, bounded by the DUT file's timeout_s. With no one
at a terminal (standard input is not a terminal, as in CI) a case that needs a manual step is
NOT APPLICABLE with that reason, never a hang; `--dm-operator` says someone is there all the same
(a wrapper or a test that reads the prompts from the output)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

PREFIX = "[dm20 operator]"
SHOWN = ("server_url", "moid", "initiated_by", "ca_file")  # the values an operator may need


class Terminal(Protocol):
    """Where the operator is: whether someone can be there, and how to tell them."""

    def interactive(self) -> bool: ...

    def write(self, text: str) -> None: ...


class StdTerminal:
    """The process's own terminal: standard input says whether someone is there; prompts go to
    standard output (and to the controlling terminal too when the output is redirected)."""

    def interactive(self) -> bool:
        return sys.stdin is not None and sys.stdin.isatty()

    def write(self, text: str) -> None:
        emit(text, sys.stdout)


def emit(text: str, out: Any) -> None:
    """Write `text` to `out` at once (and to the operator's terminal, `copy_to_tty`)."""
    out.write(text + "\n")
    out.flush()
    copy_to_tty(text, out)


def copy_to_tty(text: str, out: Any) -> None:
    """Write `text` to the controlling terminal too when the operator sits there (standard
    input is a terminal) and `out` is not it: the prompt is seen even if the run's output goes
    to a file."""
    isatty = getattr(out, "isatty", None)
    if (callable(isatty) and isatty()) or sys.stdin is None or not sys.stdin.isatty():
        return
    with contextlib.suppress(OSError), open(os.ctermid(), "w", encoding="utf-8") as tty:
        tty.write(text + "\n")


@dataclass
class Operator:
    """Whether manual steps can run in this run, and the prompts that ask for them."""

    terminal: Terminal = field(default_factory=StdTerminal)
    forced: bool | None = None  # True: someone is there (--dm-operator); None: ask the terminal
    parallel: bool = False  # a worker of a parallel run: prompts would interleave and get lost

    def absent(self) -> str | None:
        """Why no operator can carry out a manual step, or None when one can."""
        if self.parallel:
            return "manual steps need a run on one worker (no -n): a worker has no terminal"
        if self.forced:
            return None
        if self.forced is False:
            return "the run was told no operator is present"
        if not self.terminal.interactive():
            return (
                "no operator is at a terminal (standard input is not a terminal, as in CI; "
                "--dm-operator says someone is there all the same)"
            )
        return None

    def ask(
        self, case: str, hook: str, instruction: str, values: Mapping[str, Any], timeout_s: float
    ) -> None:
        """Print one manual step: the case, the instruction, the values, and how long the
        harness waits for the device."""
        lines = [f"{case}: {hook}", f"  {instruction}"]
        lines += [f"  {name}: {values[name]}" for name in SHOWN if values.get(name)]
        lines.append(f"waiting up to {timeout_s:g} s for the device's request")
        self.terminal.write("\n".join(f"{PREFIX} {line}" for line in lines))
