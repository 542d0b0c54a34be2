"""TLS on both sides, through the DUT-file contract, on loopback with real processes:

- the sample client passes the client-role suite against the reference server over HTTPS, the
  server's certificate from the run's own test CA, handed to the client as `{ca_file}`;
- the sample server over HTTPS passes the server-role suite when the DUT file names the CA bundle
  to verify it against; verified against a CA that did not sign it, every case is INCONCLUSIVE
  naming the certificate problem, never silently accepted;
- a deployed server (a `url` and no `start`) asking for client certificates passes with the DUT
  file's client certificate, in two runs at once (their device IDs keep them apart), and is
  INCONCLUSIVE without one;
- a client that does not trust the harness's certificate is INCONCLUSIVE with the handshake's
  failure, and a peer that connects and never says hello holds neither the reference server nor
  its stop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.cli import main
from conformance.dut import load_dut
from conformance.engine.records import Verdict
from conformance.load import LoadSettings, run_load
from conformance.profiles import load_profile
from conformance.roles.network import certificate_hosts, network_for, run_ca
from conformance.roles.reference_server import ReferenceServer
from conformance.roles.server_under_test import free_port, port_answers
from tests.harness.helpers import (
    CLI,
    PASSING,
    PYTHON,
    CliRun,
    case_names,
    run,
    sample_dut,
    write_yaml,
)
from tests.network.jobs import network_job
from tests.network.pki import Pki

SERVER = "python -m conformance.samples.server"
SMALL = "DM20-S-GET-001 or DM20-S-SESSION-001"  # two server cases, for the refusals


def server_dut(
    folder: Path,
    pki: Pki,
    *,
    trust: Path | None,
    port: int | None = None,
    client_cert: bool = False,
) -> Path:
    """The sample server's DUT file over HTTPS: started by the harness (`port` None) or already
    running on `port` (a deployed server: no `start`); verified against `trust`."""
    data = sample_dut("server")
    section: dict[str, Any] = {}
    admin = f" --cert {pki.client_cert} --key {pki.client_key}"  # the vendor's admin tool
    if port is None:
        section["url"] = "https://127.0.0.1:{port}/dm"
        section["start"] = (
            f"{SERVER} --port {{port}} --state {{state_dir}} "
            f"--cert {pki.server_cert} --key {pki.server_key}"
        )
        section["enqueue"] = f"{SERVER} enqueue --port {{port}} --ca-file {pki.ca}"
    else:
        section["url"] = f"https://127.0.0.1:{port}/dm"
        section["enqueue"] = f"{SERVER} enqueue --port {port} --ca-file {pki.ca}{admin}"
    tls: dict[str, str] = {}
    if trust is not None:
        tls["ca_file"] = str(trust)
    if client_cert:
        tls.update(cert=str(pki.client_cert), key=str(pki.client_key))
    if tls:
        section["tls"] = tls
    section["timeout_s"] = 10
    data["server"] = section
    return write_yaml(folder / "server-tls.yaml", data)


def cli_run(folder: Path, *args: str | Path) -> CliRun:
    folder.mkdir(parents=True, exist_ok=True)
    return CliRun(run([CLI, "run", *args], cwd=folder), folder, [])


@contextlib.contextmanager
def deployed_server(folder: Path, pki: Pki) -> Iterator[int]:
    """The sample server over HTTPS, asking every client for a certificate of the client CA,
    started here as a staging deployment would be: the harness only knows its URL."""
    port = free_port()
    log = (folder / "deployed.log").open("wb")
    argv = [PYTHON, "-m", "conformance.samples.server", "--port", str(port)]
    argv += ["--state", str(folder / "deployed-state"), "--cert", str(pki.server_cert)]
    argv += ["--key", str(pki.server_key), "--client-ca", str(pki.client_ca)]
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not port_answers("127.0.0.1", port) and time.monotonic() < deadline:
            assert proc.poll() is None, (folder / "deployed.log").read_text()
            time.sleep(0.05)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()


# -- the jobs -----------------------------------------------------------------------------------
@network_job("tls:client-suite")
def client_suite(folder: Path, pki: Pki) -> CliRun:
    """The README's command: the bundled sample client, the whole client suite, over HTTPS."""
    done = cli_run(folder, "--role", "client", "--dm-tls", "-n", "2")
    done.expected = case_names(role="client")
    return done


@network_job("tls:server-suite")
def server_suite(folder: Path, pki: Pki) -> CliRun:
    done = cli_run(folder, "--dut", server_dut(folder, pki, trust=pki.ca))
    done.expected = case_names(role="server")
    return done


@network_job("tls:server-untrusted")
def server_untrusted(folder: Path, pki: Pki) -> CliRun:
    return cli_run(folder, "--dut", server_dut(folder, pki, trust=pki.other_ca), "-k", SMALL)


@network_job("tls:deployed")
def deployed(folder: Path, pki: Pki) -> dict[str, Any]:
    """Two runs at once against one deployed server with mutual TLS, and one without the client
    certificate; the server's own record of the device IDs it saw."""
    with deployed_server(folder, pki) as port:
        with_cert = server_dut(folder / "with-cert", pki, trust=pki.ca, port=port, client_cert=True)
        without = server_dut(folder / "without-cert", pki, trust=pki.ca, port=port)
        with ThreadPoolExecutor(3) as pool:
            first = pool.submit(cli_run, folder / "run-a", "--dut", with_cert)
            second = pool.submit(cli_run, folder / "run-b", "--dut", with_cert)
            refused = pool.submit(cli_run, folder / "run-c", "--dut", without, "-k", SMALL)
            runs = {"a": first.result(), "b": second.result(), "no-cert": refused.result()}
    record = folder / "deployed-state" / "record.jsonl"
    lines = record.read_text(encoding="utf-8").splitlines() if record.is_file() else []
    return {"runs": runs, "devices": [json.loads(line)["device_id"] for line in lines]}


# -- client under test --------------------------------------------------------------------------
@pytest.mark.network_job("tls:client-suite")
def test_the_sample_client_passes_the_client_suite_over_https(network_jobs: Any) -> None:
    done: CliRun = network_jobs.result("tls:client-suite")
    assert done.ran.returncode == 0, done.ran.tail()
    verdicts = done.verdicts()
    assert sorted(verdicts) == sorted(done.expected), done.ran.tail()
    wrong = {name: v for name, v in verdicts.items() if v not in PASSING}
    assert not wrong, wrong


@pytest.mark.network_job("tls:client-suite")
def test_every_session_was_https_with_a_ca_made_for_the_run(network_jobs: Any) -> None:
    done: CliRun = network_jobs.result("tls:client-suite")
    work = done.reports / "work"
    authorities = sorted(work.glob("*/tls/ca.pem"))
    assert len(authorities) == 2, authorities  # one test CA per worker (-n 2)
    assert all(b"BEGIN CERTIFICATE" in a.read_bytes() for a in authorities)
    assert not list(work.glob("*/tls/*key*")), "the CA's key never leaves the run's memory"
    sessions = [
        line
        for log in work.glob("*/*/dut-*.log")
        for line in log.read_text(encoding="utf-8").splitlines()
        if line.startswith("session ")
    ]
    assert len(sessions) > 50
    assert all(line.startswith("session https://127.0.0.1:") for line in sessions), [
        s for s in sessions if not s.startswith("session https://")
    ][:3]


# -- server under test --------------------------------------------------------------------------
@pytest.mark.network_job("tls:server-suite")
def test_the_sample_server_over_https_passes_verified_against_the_dut_files_ca(
    network_jobs: Any,
) -> None:
    done: CliRun = network_jobs.result("tls:server-suite")
    assert done.ran.returncode == 0, done.ran.tail()
    verdicts = done.verdicts()
    assert sorted(verdicts) == sorted(done.expected)
    assert set(verdicts.values()) == {"PASS"}, verdicts
    log = done.reports / "work" / "main" / "server-under-test" / "server.log"
    assert "sample DM server on https://127.0.0.1:" in log.read_text(encoding="utf-8")


@pytest.mark.network_job("tls:server-untrusted")
def test_a_certificate_the_dut_files_ca_did_not_sign_is_inconclusive_with_the_reason(
    network_jobs: Any,
) -> None:
    done: CliRun = network_jobs.result("tls:server-untrusted")
    assert done.ran.returncode == 1, done.ran.tail()
    records = done.records
    assert len(records) == 2
    for record in records:
        assert record.verdict is Verdict.INCONCLUSIVE, record.message
        assert "TLS: the server's certificate cannot be verified" in record.message
        assert "unable to get local issuer certificate" in record.message
        assert "other-ca.pem" in record.message  # what it was verified against


@pytest.mark.network_job("tls:deployed")
def test_a_deployed_server_with_mutual_tls_passes_two_runs_at_once(network_jobs: Any) -> None:
    result = network_jobs.result("tls:deployed")
    names = case_names(role="server")
    for label in ("a", "b"):
        done: CliRun = result["runs"][label]
        assert done.ran.returncode == 0, done.ran.tail()
        assert sorted(done.verdicts()) == sorted(names)
        assert set(done.verdicts().values()) == {"PASS"}, done.verdicts()
        assert not (done.reports / "work" / "main" / "server-under-test" / "server.log").exists()
    devices = set(result["devices"])
    base = sample_dut("server")["ixit"]["device_id"]
    assert all(d.startswith(f"{base}-") for d in devices), devices
    # every case of both runs was a device of its own: at least one ID per case run that
    # opened a session, none shared between the two runs
    assert len(devices) >= 2 * len(names) - 2, len(devices)


@pytest.mark.network_job("tls:deployed")
def test_a_server_that_wants_a_client_certificate_is_inconclusive_without_one(
    network_jobs: Any,
) -> None:
    done: CliRun = network_jobs.result("tls:deployed")["runs"]["no-cert"]
    assert done.ran.returncode == 1, done.ran.tail()
    for record in done.records:
        assert record.verdict is Verdict.INCONCLUSIVE, record.message
        assert "TLS: " in record.message
        assert "certificate" in record.message.lower()


# -- the harness's own TLS ----------------------------------------------------------------------
@network_job("tls:client-distrusts")
def client_distrusts(folder: Path, pki: Pki) -> CliRun:
    """The sample client told nothing of the run's CA: it trusts only the system's CAs."""
    data = sample_dut("client")
    data["client"]["session"] = data["client"]["session"].replace(" --ca-file {ca_file}", "")
    dut = write_yaml(folder / "distrustful.yaml", data)
    return cli_run(folder, "--dut", dut, "--dm-tls", "-k", "DM20-C-GET-001")


@pytest.mark.network_job("tls:client-distrusts")
def test_a_client_that_does_not_trust_the_harness_is_inconclusive_saying_so(
    network_jobs: Any,
) -> None:
    done: CliRun = network_jobs.result("tls:client-distrusts")
    [record] = done.records
    assert record.verdict is Verdict.INCONCLUSIVE, record.message
    assert "the client never opened a session" in record.message
    assert "TLS handshake(s) with the harness failed" in record.message
    assert "unknown ca" in record.message.lower()
    assert "a test CA made for this run" in record.message


def test_a_peer_that_never_says_hello_does_not_hold_the_reference_server(tmp_path: Path) -> None:
    network = network_for(None, None, tls=True)
    network.tls = run_ca(tmp_path, certificate_hosts(network))
    server = ReferenceServer(load_profile("dm20-draft"), 1.0, network=network)
    server.__enter__()
    mute = socket.create_connection(("127.0.0.1", server.httpd.port))
    try:
        # while the mute peer holds its connection, a client that trusts the CA is served
        context = ssl.create_default_context(cafile=str(network.tls.ca_file))
        answer = httpx.get(server.url("web") + "/none", verify=context, timeout=10)
        assert answer.status_code == 404
        closing = threading.Thread(target=server.close, daemon=True)
        closing.start()
        closing.join(timeout=30)
        assert not closing.is_alive(), "the server's stop waited on the mute peer"
    finally:
        mute.close()


def test_the_load_mode_verifies_a_server_over_https_against_the_dut_files_ca(
    tmp_path: Path, pki: Pki
) -> None:
    """The load mode's devices speak HTTPS to the server under test, verified against the DUT
    file's server.tls.ca_file: sessions complete; against a CA that did not sign the server's
    certificate, no session completes and the errors name the certificate problem."""
    settings = LoadSettings(devices=3, duration_s=1.0, ramp_s=0.0)
    trusted = load_dut(server_dut(tmp_path / "trusted", pki, trust=pki.ca))
    stats = run_load(trusted, settings, tmp_path / "trusted" / "work", say=lambda _: None)
    assert stats.completed > 0 and not stats.errors and not stats.violations, stats.report()
    untrusted = load_dut(server_dut(tmp_path / "untrusted", pki, trust=pki.other_ca))
    stats = run_load(untrusted, settings, tmp_path / "untrusted" / "work", say=lambda _: None)
    assert stats.completed == 0 and stats.errors, stats.report()
    assert "CERTIFICATE_VERIFY_FAILED" in stats.report(), stats.report()


def test_locust_devices_verify_a_server_over_https_against_the_dut_files_ca(
    tmp_path: Path, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same with --engine locust: Locust's FastHttpUser verifies nothing by default; its
    devices verify the server against the DUT file's CA, so an untrusted server completes no
    session and the figures name the certificate problem."""

    def load(trust: Path, name: str) -> tuple[int, str]:
        dut = server_dut(tmp_path / name, pki, trust=trust)
        work = str(tmp_path / name / "work")
        argv = ["load", "--engine", "locust", "--dut", str(dut), "--work", work]
        code = main([*argv, "--devices", "2", "--duration", "2", "--ramp", "0"])
        return code, capsys.readouterr().out

    code, out = load(pki.ca, "trusted")
    assert code == 0 and "non-conformant exchanges: none" in out, out
    code, out = load(pki.other_ca, "untrusted")
    assert code == 1 and "sessions: 0 completed" in out, out
    assert "CERTIFICATE_VERIFY_FAILED" in out, out
