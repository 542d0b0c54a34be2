"""The load mode for real: simulated devices against the bundled sample server (and a faulty
variant of it) over loopback HTTP, the server started and stopped through its DUT file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from conformance.cli import main
from conformance.dut import bundled_dut, load_dut
from conformance.load import LoadSettings, run_load
from conformance.roles.server_under_test import port_answers
from tests.mutants import server_mutants  # noqa: F401  (they register)
from tests.mutants.registry import MUTANTS, write_dut

CLI = Path(sys.executable).parent / "dm20-conformance"


def test_sample_server_under_load_is_conformant(tmp_path: Path, capsys) -> None:
    code = main(
        ["load", "--devices", "20", "--duration", "3", "--work", str(tmp_path / "work"),
         "--json", str(tmp_path / "load.json")]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    completed = int(re.search(r"sessions: (\d+) completed", out).group(1))
    assert completed > 0, out
    assert "non-conformant exchanges: none" in out
    for name in ("exchange", "session"):
        assert re.search(rf"latency per {name} +\(ms\): p50 [\d.]+ +p95 [\d.]+ +p99 [\d.]+", out)
    assert (tmp_path / "load.json").is_file()


def test_enqueued_commands_make_multi_exchange_sessions_at_a_given_rate(tmp_path: Path) -> None:
    settings = LoadSettings(devices=3, duration_s=1.5, rate=20.0, enqueue=2, ramp_s=0.0)
    stats = run_load(load_dut(bundled_dut("server")), settings, tmp_path, say=lambda _: None)
    assert not stats.violations, stats.report()
    assert not stats.enqueue_problems, stats.report()
    assert stats.completed > 0, stats.report()
    # each device's first session runs its two batches (INCLUDE, then EXEC with END): 2 exchanges
    assert len(stats.exchanges.values) > stats.completed, stats.report()
    assert stats.completed + sum(stats.aborted.values()) <= 20 * 1.5 + 3, stats.report()


def test_faulty_server_is_reported_by_requirement(tmp_path: Path) -> None:
    dut = load_dut(write_dut(MUTANTS["server-json-content-type"], tmp_path))
    settings = LoadSettings(devices=10, duration_s=2.0, ramp_s=0.2)
    stats = run_load(dut, settings, tmp_path / "work", say=lambda _: None)
    assert "DM20-6.2-002" in stats.violations, stats.report()
    assert stats.bad_exchanges == len(stats.exchanges.values) > 0
    report = stats.report()
    assert "DM20-6.2-002" in report and "application/json" in report


def test_ctrl_c_ends_the_load_early_and_stops_the_server(tmp_path: Path) -> None:
    argv = [str(CLI), "load", "--devices", "5", "--duration", "60", "--work", str(tmp_path)]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("load:") or not line:
                break
        port = int(re.search(r"127\.0\.0\.1:(\d+)", "".join(lines)).group(1))
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, "".join(lines) + out
    assert "(interrupted)" in out
    assert not port_answers("127.0.0.1", port)
