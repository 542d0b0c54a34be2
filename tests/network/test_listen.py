"""A reachable reference server, by explicit choice only. The harness listens on 127.0.0.1 unless
told otherwise; a configuration that would have a device reach it beyond loopback is refused
without --dm-listen, before anything runs. With --dm-listen it binds where it is told (here
127.0.0.2 and ::1, loopback still), and with --dm-advertise the URLs the device gets (the
session URL, CONT, content) are the advertised ones. Traffic goes to loopback only."""

from __future__ import annotations

import random
import socket
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.events import Listener
from conformance.engine.harness import Harness, Options
from conformance.engine.loader import load_case_file, packaged_cases_dir
from conformance.engine.records import CaseRecord, Verdict
from conformance.profiles import load_profile
from conformance.roles.exchange import HttpExchange
from conformance.roles.network import Network, network_for
from conformance.roles.reference_server import ReferenceServer
from conformance.roles.server_under_test import free_port
from tests.harness.helpers import CLI, run
from tests.network.jobs import network_job
from tests.network.pki import Pki

CASES = [("client/get.yaml", "DM20-C-GET-001"), ("client/cont.yaml", "DM20-C-CONT-001")]
OUTSIDE = "http://192.0.2.10:8080"  # TEST-NET-1: never reached, the harness refuses first


class Exchanges(Listener):
    def __init__(self) -> None:
        self.seen: list[HttpExchange] = []

    def exchange(self, exchange: HttpExchange) -> None:
        self.seen.append(exchange)


def run_cases(folder: Path, **options: Any) -> list[tuple[CaseRecord, list[str]]]:
    """Run CASES against the sample client in this process: (record, the URLs of every request
    the client made) for each."""
    harness = Harness(Options(reports=folder, timeout_s=10, **options))
    out = []
    try:
        for file, case_id in CASES:
            [case] = [c for c in load_case_file(packaged_cases_dir() / file) if c.id == case_id]
            listener = Exchanges()
            record = harness.run_case(case, {}, case_id, [listener])
            out.append((record, [e.url for e in listener.seen]))
    finally:
        harness.close()
    return out


@network_job("listen:127.0.0.2")
def on_127_0_0_2(folder: Path, pki: Pki) -> Any:
    return run_cases(folder, listen="127.0.0.2")


@network_job("listen:::1")
def on_ipv6_loopback(folder: Path, pki: Pki) -> Any:
    return run_cases(folder, listen="::1")


def steady_port(host: str = "127.0.0.1") -> int:
    """A free port below the kernel's ephemeral range: the run binds it once per case, and in
    between no connection of another test is handed it as its local port (a port from
    `free_port` can be, on a busy machine)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for port in random.sample(range(20000, max(20200, min(low, 32768))), 200):
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    return free_port(host)


@network_job("listen:advertised")
def advertised(folder: Path, pki: Pki) -> Any:
    port = steady_port()
    base = f"http://localhost:{port}/lab-7"
    return base, run_cases(folder, listen=f"127.0.0.1:{port}", advertise=base)


@pytest.mark.network_job("listen:127.0.0.2", "listen:::1")
@pytest.mark.parametrize(
    ("job", "prefix"),
    [("listen:127.0.0.2", "http://127.0.0.2:"), ("listen:::1", "http://[::1]:")],
)
def test_with_dm_listen_it_binds_where_it_is_told(network_jobs: Any, job: str, prefix: str) -> None:
    for record, urls in network_jobs.result(job):
        assert record.verdict is Verdict.PASS, record.message
        assert urls and all(u.startswith(prefix) for u in urls), urls


@pytest.mark.network_job("listen:advertised")
def test_the_device_gets_the_advertised_urls_and_each_case_a_path_of_its_own(
    network_jobs: Any,
) -> None:
    base, results = network_jobs.result("listen:advertised")
    prefixes = set()
    for record, urls in results:
        assert record.verdict is Verdict.PASS, record.message
        assert urls and all(u.startswith(f"{base}/") for u in urls), urls
        prefixes.add(urls[0].removeprefix(base).split("/")[1])
    # one fixed port for the run (a NAT forward set up once), and each case under its own path
    assert len(prefixes) == len(CASES), prefixes
    get_urls = results[0][1]
    assert any("/content/" in u for u in get_urls), get_urls  # a content fetch, advertised too


# -- refusals -----------------------------------------------------------------------------------
def test_the_default_is_loopback_on_a_free_port() -> None:
    with ReferenceServer(load_profile("dm20-draft"), 1.0) as server:
        assert server.httpd.host == "127.0.0.1"
        assert server.base_url == f"http://127.0.0.1:{server.httpd.port}"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "dm.lab.example"])
def test_the_reference_server_never_binds_beyond_loopback_unless_told(host: str) -> None:
    with pytest.raises(ValueError, match="needs --dm-listen"):
        Network(host=host)
    assert Network(host=host, exposed=True).host == host  # what --dm-listen HOST makes


def test_an_advertised_url_beyond_loopback_is_refused_without_dm_listen() -> None:
    with pytest.raises(ValueError, match=r"not loopback.*--dm-listen"):
        Harness(Options(advertise=OUTSIDE))
    with pytest.raises(ValueError, match=r"not loopback.*--dm-listen"):
        network_for(None, "https://harness.lab.example:8443", tls=True)
    network = network_for("0.0.0.0:8443", "https://harness.lab.example:8443", tls=True)
    assert (network.host, network.port, network.exposed) == ("0.0.0.0", 8443, True)
    assert network_for(None, "http://localhost:8080").advertise == "http://localhost:8080"


@pytest.mark.parametrize(
    ("listen", "advertise", "tls", "problem"),
    [
        ("0.0.0.0", None, False, "listens on every address"),
        (None, "http://localhost:1/dm", True, "with --dm-tls the device is given https"),
        (None, "ftp://localhost:1", False, "expected http"),
        ("127.0.0.1:99999", None, False, "no such port"),
    ],
)
def test_a_network_that_cannot_work_is_refused(
    listen: str | None, advertise: str | None, tls: bool, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        network_for(listen, advertise, tls)


def test_the_command_line_refuses_before_anything_runs(tmp_path: Path) -> None:
    refused = run([CLI, "run", "--dm-advertise", OUTSIDE], cwd=tmp_path)
    assert refused.returncode == 2, refused.tail()
    assert "not loopback" in refused.stderr and "--dm-listen" in refused.stderr
    assert not (tmp_path / "reports").exists()
    parallel = run([CLI, "run", "--dm-listen", "127.0.0.1:8443", "-n", "2"], cwd=tmp_path)
    assert parallel.returncode == 2, parallel.tail()
    assert "cannot be shared by parallel workers" in parallel.stderr
