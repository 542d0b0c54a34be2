"""What the hostile tests share: DUT files for the hostile scripts, running the harness in a
subprocess with a safety net, and finding the processes a run left behind by a marker in argv."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.dut import bundled_dut
from conformance.engine.loader import packaged_cases_dir
from conformance.report.results import read_results

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCRIPTS = {"client": HERE / "client.py", "server": HERE / "server.py"}
TIMEOUT_S = 2


def new_marker(label: str) -> str:
    """A word that only this run's processes carry in their argv."""
    return f"hostile-{label}-{uuid.uuid4().hex[:12]}"


def write_dut(role: str, behaviour: str, folder: Path, marker: str, extra: str = "") -> Path:
    """A DUT file that runs the hostile script of `role` with `behaviour`; features and ixit are
    the sample's, so the same cases apply; every command carries `marker`."""
    sample = yaml.safe_load(bundled_dut(role).read_text(encoding="utf-8"))
    script = f"python '{SCRIPTS[role]}' --behaviour {behaviour} --marker {marker}{extra}"
    if role == "client":
        section = {
            "session": f"{script} session --server {{server_url}} --state {{state_dir}}",
            "config_request": f"{script} config --state {{state_dir}} --moid {{moid}} "
            "--initiated-by {initiated_by}",
            "timeout_s": TIMEOUT_S,
        }
    else:
        section = {
            "url": "http://127.0.0.1:{port}/dm",
            "start": f"{script} --port {{port}} --state {{state_dir}}",
            "enqueue": f"{script} enqueue --port {{port}}",
            "timeout_s": TIMEOUT_S,
        }
    data = {
        "name": f"hostile {role} ({behaviour})",
        "version": "0.0.0",
        "role": role,
        "profile": sample["profile"],
        "features": sample["features"],
        "ixit": sample["ixit"],
        role: section,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"hostile-{role}-{behaviour}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def pytest_argv(
    reports: Path,
    rootdir: Path,
    *,
    dut: Path | None = None,
    keyword: str | None = None,
    extra: list[str] | None = None,
    cases: list[Path] | None = None,
    timeout_s: float = TIMEOUT_S,
) -> list[str]:
    """A plain-pytest run of the packaged cases (and `cases` folders) with the dm20 plugin."""
    argv = [sys.executable, "-m", "pytest", "-c", os.devnull, "--rootdir", str(rootdir)]
    argv += ["-p", "no:cacheprovider", "-q", "--dm-reports", str(reports)]
    argv += ["--dm-timeout", str(timeout_s)]
    if dut is not None:
        argv += ["--dut", str(dut)]
    if keyword:
        argv += ["-k", keyword]
    for folder in cases or []:
        argv += ["--cases", str(folder)]
    argv += extra or []
    return [*argv, str(packaged_cases_dir()), *(str(c) for c in cases or [])]


@dataclass
class Run:
    """One harness run in a subprocess."""

    argv: list[str]
    wall_s: float = 0.0
    returncode: int | None = None
    finished: bool = False  # within the safety net
    output: str = ""
    records: list[dict[str, Any]] = field(default_factory=list)
    leftovers: list[tuple[int, str]] = field(default_factory=list)


def start(
    argv: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Start the harness in a process group of its own (so the safety net can stop it whole);
    `env` adds to this process's environment."""
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_group(proc: subprocess.Popen, grace_s: float = 15.0) -> None:
    """Safety net: SIGTERM to the harness (it stops cleanly on it), then SIGKILL to its process
    group (a process this test started) if it is still there after `grace_s`."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


def run_harness(
    argv: list[str],
    cwd: Path,
    reports: Path,
    safety_s: float,
    marker: str,
    env: dict[str, str] | None = None,
) -> Run:
    """Run the harness to its end (or the safety net), then read its records and look for the
    processes carrying `marker` that are still there; those are killed afterwards (they were
    started, through the harness, by this test)."""
    run = Run(argv)
    log = cwd / "harness-output.txt"
    began = time.monotonic()
    proc = start(argv, cwd, log, env)
    try:
        run.returncode = proc.wait(safety_s)
        run.finished = True
    except subprocess.TimeoutExpired:
        stop_group(proc)
    run.wall_s = time.monotonic() - began
    run.output = log.read_text(encoding="utf-8", errors="replace")
    run.records = read_results(reports) if (reports / "results").is_dir() else []
    run.leftovers = settle(marker)
    kill_all(run.leftovers)
    return run


def processes_with(marker: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose argv holds `marker`."""
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        words = raw.decode("utf-8", "replace").split("\0")
        if any(marker in w for w in words):
            found.append((int(entry.name), " ".join(w for w in words if w)))
    return found


def settle(marker: str, wait_s: float = 2.0) -> list[tuple[int, str]]:
    """The processes with `marker` that are still there after a short grace (a SIGKILLed group
    needs a moment to go)."""
    deadline = time.monotonic() + wait_s
    while True:
        found = processes_with(marker)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def kill_all(found: list[tuple[int, str]]) -> None:
    """SIGKILL the given processes, by pid (each one a descendant of this test)."""
    for pid, _ in found:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
