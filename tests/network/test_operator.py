"""An operator in the loop: a DUT file whose `session` hook is a manual instruction. The harness
prints the instruction with the values the operator needs and waits for the device's request;
here the test plays the operator: it reads each prompt from the run's output as it comes and
starts the sample client with the URL and the CA certificate the prompt gives. Without a terminal
and without --dm-operator, such a case is NOT APPLICABLE with the reason, never a hang."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.operator import PREFIX
from conformance.engine.records import Verdict
from tests.harness.helpers import (
    CLI,
    PYTHON,
    CliRun,
    Ran,
    run,
    sample_dut,
    write_yaml,
)
from tests.network.jobs import network_job
from tests.network.pki import Pki
from tests.processes import RUN_TIMEOUT_S, kill_group

INSTRUCTION = "Open Settings > Device management, enter {server_url}, tap Sync now ({state_dir})"
CASES = "DM20-C-GET-001 or DM20-C-SESSION-003"  # one session; two sessions of one device
PROMPT = re.compile(re.escape(PREFIX) + r" (?P<text>.*)$")


def manual_dut(folder: Path) -> Path:
    """The sample client's DUT file, its session a manual step (the operator's device keeps its
    state where the instruction says: the test's stand-in for the phone's own storage)."""
    data = sample_dut("client")
    data["name"] = "Acme phone (manual sync)"
    data["client"]["session"] = {"manual": INSTRUCTION}
    data["client"]["timeout_s"] = 20
    return write_yaml(folder / "phone.yaml", data)


def play_operator(folder: Path, args: list[str]) -> tuple[Ran, list[dict[str, Any]]]:
    """Run the harness with `args`, reading its output line by line; each prompt is carried out
    by starting the sample client with what the prompt says, once the operator's previous
    session on the same device has finished (a person waits for the phone to finish syncing)."""
    argv = [str(CLI), "run", "--dut", str(manual_dut(folder)), *args]
    proc = subprocess.Popen(
        argv,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    timer = threading.Timer(RUN_TIMEOUT_S, kill_group, [proc])
    timer.start()
    prompts: list[dict[str, Any]] = []
    devices: list[subprocess.Popen[bytes]] = []
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        block: list[str] = []
        for line in proc.stdout:
            lines.append(line)
            matched = PROMPT.match(line.rstrip("\n"))
            if matched is None:
                continue
            block.append(matched["text"])
            if not matched["text"].startswith("waiting up to"):
                continue
            prompt = parse(block)
            block = []
            prompts.append(prompt)
            for device in devices:  # the previous sync on the device ends first
                device.wait(timeout=60)
            client = [PYTHON, "-m", "conformance.samples.client", "session"]
            client += ["--server", prompt["server_url"], "--state", prompt["state"]]
            client += ["--ca-file", prompt.get("ca_file", "")]
            log = (folder / f"device-{len(devices)}.log").open("wb")
            devices.append(subprocess.Popen(client, stdout=log, stderr=subprocess.STDOUT))
        stderr = proc.stderr.read() if proc.stderr else ""
        proc.wait()
    finally:
        timer.cancel()
        kill_group(proc)
        for device in devices:
            if device.poll() is None:
                device.kill()
            device.wait()
    return Ran(argv, folder, proc.returncode, "".join(lines), stderr, 0.0), prompts


def parse(block: list[str]) -> dict[str, Any]:
    """One prompt: `CASE: HOOK`, the instruction, `name: value` lines, `waiting up to …`."""
    case, hook = block[0].split(": ", 1)
    prompt: dict[str, Any] = {"case": case, "hook": hook, "instruction": block[1].strip()}
    for line in block[2:-1]:
        name, value = line.strip().split(": ", 1)
        prompt[name] = value
    state = re.search(r"\((?P<state>/[^)]*)\)$", prompt["instruction"])
    assert state is not None, prompt
    prompt["state"] = state["state"]
    prompt["waiting"] = block[-1]
    return prompt


@network_job("operator:prompted")
def prompted(folder: Path, pki: Pki) -> tuple[CliRun, list[dict[str, Any]]]:
    ran, prompts = play_operator(folder, ["--dm-operator", "--dm-tls", "-k", CASES])
    return CliRun(ran, folder, []), prompts


@network_job("operator:absent")
def absent(folder: Path, pki: Pki) -> CliRun:
    argv = [CLI, "run", "--dut", manual_dut(folder), "-k", CASES]
    return CliRun(run(argv, cwd=folder), folder, [])


@pytest.mark.network_job("operator:prompted")
def test_each_manual_step_is_printed_with_the_values_the_operator_needs(
    network_jobs: Any,
) -> None:
    done, prompts = network_jobs.result("operator:prompted")
    assert [(p["case"], p["hook"]) for p in prompts] == [
        ("DM20-C-GET-001", "client.session"),
        ("DM20-C-SESSION-003", "client.session"),
        ("DM20-C-SESSION-003", "client.session"),
    ], done.ran.tail()
    for prompt in prompts:
        url = prompt["server_url"]
        assert re.fullmatch(r"https://127\.0\.0\.1:\d+/dm", url), prompt
        assert prompt["instruction"].startswith(f"Open Settings > Device management, enter {url}")
        assert Path(prompt["ca_file"]).is_file()
        assert prompt["ca_file"].endswith("/tls/ca.pem")
        assert prompt["waiting"] == "waiting up to 20 s for the device's request"
    # the two sessions of one case: one device, so one state
    assert prompts[1]["state"] == prompts[2]["state"] != prompts[0]["state"]


@pytest.mark.network_job("operator:prompted")
def test_the_cases_pass_when_the_operator_starts_the_device_after_the_prompt(
    network_jobs: Any,
) -> None:
    done, _ = network_jobs.result("operator:prompted")
    assert done.ran.returncode == 0, done.ran.tail()
    assert done.verdicts() == {"DM20-C-GET-001": "PASS", "DM20-C-SESSION-003": "PASS"}


@pytest.mark.network_job("operator:absent")
def test_without_a_terminal_a_manual_step_is_not_applicable_with_the_reason(
    network_jobs: Any,
) -> None:
    done: CliRun = network_jobs.result("operator:absent")
    assert done.ran.returncode == 0, done.ran.tail()
    assert PREFIX not in done.ran.stdout
    records = done.records
    assert len(records) == 2
    for record in records:
        assert record.verdict is Verdict.NOT_APPLICABLE
        assert "client.session of phone.yaml is a manual step" in record.message
        assert "standard input is not a terminal" in record.message
