"""The load mode on Locust's distributed runners, for real: a Locust master and worker processes
against the bundled sample server (and a faulty variant of it) over loopback HTTP, the figures of
every worker gathered by the master and printed by the harness; and the harness process itself
never importing Locust."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from conformance.cli import main
from conformance.roles.processes import DutProcess
from conformance.roles.server_under_test import port_answers
from tests.mutants import server_mutants  # noqa: F401  (they register)
from tests.mutants.registry import MUTANTS, write_dut

BIN = Path(sys.executable).parent
CLI = BIN / "dm20-conformance"
WORKER_HEADER = "dm20 worker figures (sent to the master):"


def worker_figures(log: Path) -> dict[str, int]:
    """What one worker says it counted and sent: sessions, exchanges, findings by requirement."""
    text = log.read_text(encoding="utf-8")
    assert WORKER_HEADER in text, text[-3000:]
    report = text.split(WORKER_HEADER, 1)[1]
    found = {
        "sessions": int(re.search(r"sessions: (\d+) completed", report).group(1)),
        "aborted": int(re.search(r"completed \([\d.]+/s\), (\d+) aborted", report).group(1)),
        "exchanges": int(re.search(r"exchanges: (\d+) ", report).group(1)),
    }
    for requirement, count in re.findall(r"^  (DM20-[\d.-]+): (\d+) finding", report, re.M):
        found[requirement] = int(count)
    return found


def run(args: list[str], tmp_path: Path, capsys) -> tuple[int, str, dict, list[dict[str, int]]]:
    """`dm20-conformance load --engine locust …` in this process: exit status, what it printed,
    its JSON figures, each worker's own figures."""
    work = tmp_path / "work"
    argv = ["load", "--engine", "locust", "--work", str(work), "--json", str(tmp_path / "j.json")]
    code = main(argv + args)
    out = capsys.readouterr().out
    workers = [worker_figures(log) for log in sorted(work.glob("locust-worker-*.log"))]
    return code, out, json.loads((tmp_path / "j.json").read_text()), workers


def test_the_harness_never_imports_locust() -> None:
    probe = (
        "import sys, conformance.cli, conformance.load.command\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_master_and_two_workers_against_the_sample_server(tmp_path: Path, capsys) -> None:
    code, out, figures, workers = run(
        ["--workers", "2", "--devices", "8", "--duration", "3", "--html", str(tmp_path / "r.html")],
        tmp_path,
        capsys,
    )
    assert code == 0, out
    assert "non-conformant exchanges: none" in out
    assert figures["sessions_completed"] > 0, out
    assert len(workers) == 2 and all(w["sessions"] > 0 for w in workers), workers
    assert figures["sessions_completed"] == sum(w["sessions"] for w in workers), (out, workers)
    assert figures["exchanges"] == sum(w["exchanges"] for w in workers), (out, workers)
    assert re.search(r"latency per session +\(ms\): p50 [\d.]+ +p95 [\d.]+ +p99 [\d.]+", out)
    assert (tmp_path / "r.html").is_file()


def test_a_faulty_servers_findings_reach_the_master_by_requirement(tmp_path: Path, capsys) -> None:
    dut = write_dut(MUTANTS["server-json-content-type"], tmp_path)
    code, out, figures, workers = run(
        ["--dut", str(dut), "--workers", "2", "--devices", "6", "--duration", "2"], tmp_path, capsys
    )
    assert code == 1, out
    violation = figures["violations"]["DM20-6.2-002"]
    assert violation["count"] == figures["non_conformant_exchanges"] == figures["exchanges"] > 0
    assert "DM20-6.2-002" in out and "application/json" in out
    assert violation["count"] == sum(w["DM20-6.2-002"] for w in workers), (out, workers)
    # the same finding is a row of Locust's own statistics, named by the requirement
    master_log = (tmp_path / "work" / "locust-master.log").read_text(encoding="utf-8")
    assert re.search(r"NONCONFORMANT\s+DM20-6\.2-002", master_log), master_log[-3000:]


def test_workers_on_other_machines_join_with_the_printed_command(tmp_path: Path) -> None:
    argv = [str(CLI), "load", "--engine", "locust", "--workers", "0", "--expect-workers", "1",
            "--devices", "4", "--duration", "2", "--workers-wait", "30",
            "--work", str(tmp_path)]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    worker = None
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            lines.append(proc.stdout.readline())
            if lines[-1].startswith("    locust ") or not lines[-1]:
                break
        command = shlex.split(lines[-1])
        assert command[:4] == ["locust", "-f", "-", "--worker"], "".join(lines)
        elsewhere = tmp_path / "elsewhere"  # another machine: no checkout, the locustfile fetched
        elsewhere.mkdir()
        worker = DutProcess([str(BIN / "locust"), *command[1:]], elsewhere, tmp_path / "w.log")
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if worker is not None:
            worker.stop()
    assert proc.returncode == 0, "".join(lines) + out
    completed = int(re.search(r"sessions: (\d+) completed", out).group(1))
    assert completed == worker_figures(tmp_path / "w.log")["sessions"] > 0, out


def test_ctrl_c_ends_the_load_with_the_figures_so_far(tmp_path: Path) -> None:
    argv = [str(CLI), "load", "--engine", "locust", "--workers", "1", "--devices", "4",
            "--duration", "60", "--work", str(tmp_path)]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            lines.append(proc.stdout.readline())
            if lines[-1].startswith("load:") or not lines[-1]:
                break
        text = "".join(lines)
        server_port = int(re.search(r"127\.0\.0\.1:(\d+)/", text).group(1))
        master_port = int(re.search(r"master 127\.0\.0\.1:(\d+)", text).group(1))
        log = tmp_path / "locust-master.log"
        while time.monotonic() < deadline and "All users spawned" not in log.read_text():
            time.sleep(0.2)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=40)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, text + out
    assert "(interrupted)" in out
    assert int(re.search(r"sessions: (\d+) completed", out).group(1)) > 0, out
    assert not port_answers("127.0.0.1", server_port)
    assert not port_answers("127.0.0.1", master_port)


def test_without_locust_the_locust_engine_asks_for_the_load_extra(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "locust", None)  # what find_spec says when it is absent
    assert main(["load", "--engine", "locust"]) == 2
    assert "pip install 'dm20-conformance[load]'" in capsys.readouterr().err
