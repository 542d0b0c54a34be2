"""The harness as an attack surface: its reference server listens on loopback only; a server under
test cannot send the simulated device (the reference client) to a host the DUT file does not name
(watched on sockets of our own, nothing outside the machine is ever contacted); ClientURIs with
path tricks never make the sample client touch a file outside its state folder."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conformance.dut import bundled_dut
from conformance.engine.records import Verdict
from conformance.profiles import load_profile
from conformance.roles.reference_server import ReferenceServer
from tests.hostile.support import new_marker, pytest_argv, run_harness, write_dut

SAMPLE_TIMEOUT_S = 10


# -- the reference server's address ------------------------------------------------------------
def refused(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return False
    except OSError:
        return True


def test_reference_server_listens_on_loopback_only() -> None:
    with ReferenceServer(load_profile("dm20-draft"), 1.0) as server:
        host, port = server.httpd.server.server_address[:2]
        assert host == "127.0.0.1"
        assert server.base_url == f"http://127.0.0.1:{port}"
        assert not refused("127.0.0.1", port)
        # another loopback address of this machine reaches 0.0.0.0 but not 127.0.0.1
        assert refused("127.0.0.2", port), "the reference server answers on 127.0.0.2"
        with contextlib.suppress(OSError):
            for address in {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None)}:
                if address != "127.0.0.1" and ":" not in address:
                    assert refused(address, port), f"the reference server answers on {address}"


# -- a server under test pointing the device elsewhere -----------------------------------------
@dataclass
class Watcher:
    """A listener of our own on an address the DUT file does not name: it notes the request line
    of every connection and closes it."""

    host: str
    sock: socket.socket = field(init=False)
    hits: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((self.host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}/{path}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    line = "(connected, sent nothing)"
                self.hits.append(line or "(connected, sent nothing)")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


CONF = "urn:oma:mo:oma-dm-conformance:1.0"
# what each probe makes the device do, and the path its request would carry to a watcher
PROBES = ("GET", "PUT", "SHOW", "EXEC", "GET-userinfo", "CONT")


@dataclass
class Probing:
    """Two harness runs against a scripted server whose commands point at the watchers."""

    other_host: Watcher  # 127.0.0.2: a host the DUT file does not name
    other_port: Watcher  # 127.0.0.1 on a port of ours: the DUT's host, not its netloc
    messages: dict[str, str] = field(default_factory=dict)  # probe -> the record's message

    def hits(self, probe: str) -> list[str]:
        path = f"/{probe.lower()}"
        return [h for h in self.other_host.hits + self.other_port.hits if f" {path} " in h]


def scripted_run(folder: Path, commands: list[list[str]]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    answer = folder / "answer.json"
    answer.write_text(json.dumps(commands), encoding="utf-8")
    marker = new_marker("scripted")
    dut = write_dut("server", "scripted", folder, marker, extra=f" --answer '{answer}'")
    reports = folder / "rep"
    argv = pytest_argv(reports, folder, dut=dut, keyword="DM20-S-SESSION-004")
    run = run_harness(argv, folder, reports, 120, marker)
    assert run.finished, run.output[-3000:]
    assert len(run.records) == 1, run.output[-3000:]
    return run.records[0].message


@pytest.fixture(scope="module")
def probing(tmp_path_factory: pytest.TempPathFactory):
    other_host, other_port = Watcher("127.0.0.2"), Watcher("127.0.0.1")
    probing = Probing(other_host, other_port)
    everything = [
        ["GET", other_host.url("get"), f"{CONF}/7"],
        ["PUT", other_port.url("put"), f"{CONF}/0"],
        ["SHOW", other_host.url("show")],
        ["EXEC", f"{CONF}/0/Reboot", other_port.url("exec")],
        # userinfo trick: the DUT's own host:port before an @
        ["GET", f"http://127.0.0.1:{{port}}@{other_host.host}:{other_host.port}/get-userinfo"],
    ]  # no END: the device posts the five statuses, the server logs them and answers END
    cont = [["CONT", other_host.url("cont")]]
    folder = tmp_path_factory.mktemp("probing")
    try:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(scripted_run, folder / "commands", everything)
            second = pool.submit(scripted_run, folder / "cont", cont)
            for probe in PROBES:
                probing.messages[probe] = (second if probe == "CONT" else first).result()
        yield probing
    finally:
        other_host.close()
        other_port.close()


def executed(message: str) -> list[dict]:
    """The statuses the device posted for the five commands (the scripted server logs them and
    its output ends the failure message)."""
    for line in message.splitlines():
        if "hostile server: got " in line:
            return json.loads(line.split("hostile server: got ", 1)[1])["Status"]
    return []


@pytest.mark.parametrize("probe", PROBES)
def test_server_cannot_send_the_device_to_another_host(probe: str, probing: Probing) -> None:
    message = probing.messages[probe]
    if probe == "CONT":
        assert "/cont" in message, "the device never tried the CONT URL"
    else:
        assert len(executed(message)) == 5, f"the device did not run the commands:\n{message}"
    assert not probing.hits(probe), f"{probe}: the harness connected: {probing.hits(probe)}"


# -- ClientURIs with path tricks, given to the sample client -----------------------------------
def traversal_case(token: str, outside: Path) -> str:
    uris = [
        f"../../../{token}",
        f"../{token}",
        f"{outside}/{token}",
        f"{CONF}/../../{token}",
        f"{CONF}/%2e%2e/%2e%2e/{token}",
        f"{CONF}/0/..%2f..%2f{token}",
        f"./{token}",
        f"~/{token}",
        f"file:///{outside}/{token}",
    ]
    gets = [["GET", "{content_url}/doc", uri] for uri in uris]
    others = [
        ["PUT", "{content_url}/up", "../device.json"],
        ["INCLUDE", "../state/device.json"],
        ["DELETE", "../device.json"],
        ["DELETE", f"{CONF}/../../.."],
        ["POST", "{content_url}/up", "/etc/passwd"],
    ]
    case = {
        "id": "DM20-C-VENDOR-PATHS-001",
        "title": "ClientURIs that look like file paths stay inside the device's tree",
        "role": "client",
        "requirements": ["DM20-6.2-004"],
        "content": {"doc": {"any": {"Name": token}}},
        "steps": [
            {"open": "session"},
            {"send": "commands", "commands": gets},
            {"expect": "request"},
            {"send": "commands", "commands": others},
            {"expect": "request"},
            {"close": "session"},
        ],
    }
    return yaml.safe_dump([case], sort_keys=False)


def files_below(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")}


def test_client_uri_tricks_stay_in_the_state_folder(tmp_path: Path) -> None:
    token = f"hostile-{uuid.uuid4().hex[:12]}"
    outside = tmp_path / "outside"
    outside.mkdir()
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "paths.yaml").write_text(traversal_case(token, outside), encoding="utf-8")
    sample = yaml.safe_load(bundled_dut("client").read_text(encoding="utf-8"))
    sample["client"]["timeout_s"] = SAMPLE_TIMEOUT_S
    dut = tmp_path / "dut" / "sample.yaml"
    dut.parent.mkdir()
    dut.write_text(yaml.safe_dump(sample, sort_keys=False), encoding="utf-8")
    reports = tmp_path / "rep"
    before = files_below(tmp_path)
    argv = pytest_argv(
        reports, tmp_path, dut=dut, keyword="PATHS", cases=[cases], timeout_s=SAMPLE_TIMEOUT_S
    )
    run = run_harness(argv, tmp_path, reports, 120, str(reports))
    assert run.finished, run.output[-3000:]
    assert [r.case for r in run.records] == ["DM20-C-VENDOR-PATHS-001"]
    record = run.records[0]
    assert record.verdict in (Verdict.PASS, Verdict.FAIL), record.message
    work = reports / "work" / "main" / "DM20-C-VENDOR-PATHS-001"
    state = work / "state"
    assert sorted(p.name for p in state.iterdir()) == ["device.json"]
    assert {p.name for p in work.iterdir()} <= {"state"} | {p.name for p in work.glob("dut-*.log")}
    assert json.loads((state / "device.json").read_text(encoding="utf-8"))  # still the device
    # nothing new anywhere else in this test's folder (the DUT's folder, the outside folder)
    new = {p for p in files_below(tmp_path) - before if not (tmp_path / p).is_relative_to(reports)}
    assert new <= {Path("harness-output.txt")}, new
    found = [p for p in (tmp_path.parent, Path.home(), Path("/tmp")) if (p / token).exists()]
    assert not found, f"{token} was created in {found}"
