"""The wire profile is data: a variant with other header and media-type names works end to end."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.core import rules
from conformance.core.client import ClientSession
from conformance.core.judge import judge_request_headers
from conformance.core.rules import Grade
from conformance.engine.loader import packaged_cases_dir
from conformance.engine.records import Verdict
from conformance.profiles import load_profile
from conformance.samples.client import factory_device
from tests.harness.helpers import (
    PASSING,
    PYTHON,
    REPO,
    CliRun,
    Ran,
    case_names,
    job,
    name_of,
    pytest_argv,
    run,
    sample_dut,
    write_yaml,
)
from tests.processes import kill_group

DEVICE_HEADER = "X-DM-Device"
COMMAND_MEDIA = "application/vnd.dm20+json"
DEFAULT = load_profile("dm20-draft")
URL = "http://127.0.0.1:9/dm"
CLIENT_DEVICE_ID = rules.CLIENT_DEVICE_ID.basis


def write_variant(folder: Path) -> Path:
    """dm20-draft.yaml with the device-ID header and the command media type renamed."""
    data = yaml.safe_load(
        (REPO / "conformance" / "profiles" / "dm20-draft.yaml").read_text(encoding="utf-8")
    )
    old_media = data["media_types"]["command"]
    data["name"] = "dm20-variant"
    data["headers"]["device_id"] = DEVICE_HEADER
    data["media_types"]["command"] = COMMAND_MEDIA
    data["accept"]["send"] = data["accept"]["send"].replace(f"{old_media},", f"{COMMAND_MEDIA},")
    assert COMMAND_MEDIA in data["accept"]["send"]
    return write_yaml(folder / "dm20-variant.yaml", data)


@pytest.fixture
def variant_path(tmp_path: Path) -> Path:
    return write_variant(tmp_path)


# -- (a) in-process -----------------------------------------------------------------------------
def first_request_headers(profile_path: Path | str) -> dict[str, str]:
    profile = load_profile(str(profile_path))
    return ClientSession(profile, factory_device(), URL).start().headers


def test_a_client_session_under_the_variant_sends_its_names(variant_path: Path) -> None:
    headers = first_request_headers(variant_path)
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered[DEVICE_HEADER.lower()] == factory_device().devinfo["DevID"]
    assert DEFAULT.headers.device_id.lower() not in lowered
    assert COMMAND_MEDIA in lowered["accept"]


def test_the_judge_reads_the_header_names_from_the_profile(variant_path: Path) -> None:
    variant = load_profile(str(variant_path))
    sent = first_request_headers(variant_path)
    under_default = judge_request_headers(sent, DEFAULT)
    name = DEFAULT.headers.device_id
    assert any(
        f.rule is rules.CLIENT_DEVICE_ID and f.grade is Grade.FAIL and name in f.message
        for f in under_default
    ), under_default
    assert [f for f in judge_request_headers(sent, variant) if f.grade is Grade.FAIL] == []
    # and the other way round: a default client breaks the variant's header rule
    default_sent = first_request_headers("dm20-draft")
    assert any(
        f.rule is rules.CLIENT_DEVICE_ID and DEVICE_HEADER in f.message
        for f in judge_request_headers(default_sent, variant)
    )


# -- (b) the sample server and the sample client, both on the variant ----------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.25):
            return True
    except OSError:
        return False


@contextmanager
def sample_server(profile: Path, state: Path, log: Path) -> Iterator[str]:
    """The sample server on a free loopback port, stopped at the end; yields its session URL."""
    port = free_port()
    argv = [PYTHON, "-m", "conformance.samples.server", "--profile", profile]
    argv += ["--port", str(port), "--state", state]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        for _ in range(400):  # a bound on the wait, no assertion on time
            if proc.poll() is not None:
                raise AssertionError(f"the sample server exited: {log.read_text()}")
            if answers(port):
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"the sample server never answered: {log.read_text()}")
        yield f"http://127.0.0.1:{port}/dm"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            proc.wait()


def recorded(state: Path) -> list[dict[str, Any]]:
    lines = (state / "record.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def client_session(profile: Path | str, url: str, state: Path, cwd: Path) -> Ran:
    argv = [PYTHON, "-m", "conformance.samples.client", "--profile", profile]
    return run([*argv, "session", "--server", url, "--state", state], cwd=cwd)


def test_sample_server_and_client_complete_a_session_on_the_variant(
    variant_path: Path, tmp_path: Path
) -> None:
    state = tmp_path / "server-state"
    with sample_server(variant_path, state, tmp_path / "server.log") as url:
        ran = client_session(variant_path, url, tmp_path / "client-state", tmp_path)
        assert ran.returncode == 0, ran.tail()
        exchanges = recorded(state)
        assert exchanges, (tmp_path / "server.log").read_text()
        assert [e["findings"] for e in exchanges] == [[]] * len(exchanges)
        assert {e["device_id"] for e in exchanges} == {factory_device().devinfo["DevID"]}
        assert exchanges[-1]["sent"][-1] == [DEFAULT.for_action("end").name]
        assert (tmp_path / "client-state" / "device.json").is_file()

        # the same server condemns a client that speaks the default profile
        default = client_session("dm20-draft", url, tmp_path / "other-state", tmp_path)
        findings = [f for e in recorded(state)[len(exchanges) :] for f in e["findings"]]
        assert any(DEVICE_HEADER in f for f in findings), (findings, default.tail())


# -- (c) the harness on the variant -------------------------------------------------------------
def variant_dut(folder: Path, profile: Path) -> Path:
    """The sample client's DUT file, its commands speaking the variant (`--profile` goes before
    the subcommand); the DUT file itself still says dm20-draft."""
    data = sample_dut("client")
    module = "-m conformance.samples.client"
    for key, command in data["client"].items():
        if isinstance(command, str):
            data["client"][key] = command.replace(module, f"{module} --profile '{profile}'", 1)
    assert all(str(profile) in c for k, c in data["client"].items() if k != "timeout_s")
    return write_yaml(folder / "variant-client.yaml", data)


def header_cases(folder: Path, with_profile: bool) -> CliRun:
    profile = write_variant(folder)
    dut = variant_dut(folder, profile)
    options = ["--dm-profile", profile] if with_profile else []
    argv = pytest_argv(
        "-q", "--dut", dut, *options, "-k", "HDR", "--dm-reports", folder / "rep",
        packaged_cases_dir(), rootdir=folder,
    )  # fmt: skip
    return CliRun(run(argv, cwd=folder), folder, [])


job("variant:harness", weight=12)(lambda folder: header_cases(folder, True))
job("variant:default", weight=12)(lambda folder: header_cases(folder, False))

HDR_CASES = [n for n in case_names(role="client") if "HDR" in n]


@pytest.mark.uses_job("variant:harness")
@pytest.mark.parametrize("name", HDR_CASES)
def test_header_case_passes_under_the_variant_profile(name: str, jobs) -> None:
    result: CliRun = jobs.result("variant:harness")
    verdicts = result.verdicts()
    assert set(verdicts) == set(HDR_CASES), result.ran.tail()
    record = next(r for r in result.records if name_of(r) == name)
    assert record.verdict.value in PASSING - {"NOT APPLICABLE"}, record.message[:3000]


@pytest.mark.uses_job("variant:default")
def test_the_variant_client_fails_the_device_id_case_of_the_default_profile(jobs) -> None:
    result: CliRun = jobs.result("variant:default")
    assert result.ran.returncode == 1, result.ran.tail()
    device_id_cases = [r for r in result.records if CLIENT_DEVICE_ID in r.requirements]
    assert device_id_cases, result.ran.tail()
    for record in device_id_cases:
        assert record.verdict is Verdict.FAIL, (name_of(record), record.verdict)
        assert CLIENT_DEVICE_ID in record.failed
        assert DEFAULT.headers.device_id in record.message
        assert CLIENT_DEVICE_ID in record.message
