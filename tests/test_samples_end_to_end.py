"""The sample client against the sample server over real loopback HTTP, through sessions that use
every command of the draft; afterwards the client's tree and the server's record (its sessions
at /admin/record, its exchanges in record.jsonl) must show what each command did. A reference
server serves the GET content, takes the uploads, and is the page SHOW loads; the EXEC's
Generic Alert goes to the sample server in a session of its own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.core.wire import dump_json
from conformance.profiles import load_profile
from conformance.roles.reference_server import ReferenceServer, Served
from conformance.roles.server_under_test import free_port, port_answers
from conformance.samples.server import RECORD_PATH

PROFILE = load_profile()
DEVICE = "IMEI:493005100592800"  # the sample client's factory device ID
MO = "urn:oma:mo:oma-dm-conformance:1.0"
DEVINFO = "urn:oma:mo:oma-dm-devinfo:1.0/0"
PRIVATE = "urn:oma:mo:oma-dm-private:1.0"
OK = PROFILE.status.ok


def sample(role: str, *args: str, **kwargs: Any) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", f"conformance.samples.{role}", *args], **kwargs)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    port, state = free_port(), tmp_path / "server"
    process = sample(
        "server", "--port", str(port), "--state", str(state), stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while not port_answers("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/dm", port, state
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def helper() -> Iterator[ReferenceServer]:
    content = {
        "doc": Served(200, PROFILE.media.tnds, dump_json({"x": {"Name": "fetched", "N": 1}})),
        "new": Served(200, PROFILE.media.tnds, dump_json({f"{MO}/": {"Name": "created"}})),
    }
    pages = {"welcome": Served(200, PROFILE.media.web, b"<html><body>hello</body></html>")}
    with ReferenceServer(PROFILE, 10, content, {}, pages) as reference:
        yield reference


def enqueue(port: int, *commands: list[str]) -> None:
    payload = json.dumps({"device_id": DEVICE, "commands": list(commands)})
    done = subprocess.run(
        [sys.executable, "-m", "conformance.samples.server", "enqueue", "--port", str(port)],
        input=payload,
        text=True,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def session(url: str, state: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.samples.client",
            "session",
            "--server",
            url,
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_every_command_end_to_end(
    server: tuple[str, int, Path], helper: ReferenceServer, tmp_path: Path
) -> None:
    url, port, server_state = server
    content, web = helper.url("content"), helper.url("web")
    batches = [
        [["GET", f"{content}/doc", f"{MO}/5"], ["GET", f"{content}/new"]],
        [
            ["PUT", f"{content}/up", f"{MO}/5?Levels=0", f"{MO}/0/Settings"],
            ["POST", f"{content}/post", "*?Levels=1"],
        ],
        [["DELETE", f"{MO}/1"], ["DELETE", DEVINFO], ["INCLUDE", f"{MO}/5"]],
        [
            ["EXEC", f"{MO}/0/Reboot", f"{url}/alert"],
            ["SHOW", f"{web}/welcome"],
            ["DEFAULT", "urn:oma:mo:oma-mms:1.0", f"{url}/mms"],
        ],
        [["CONT", f"{url}/moved"]],
        [["DELETE", f"{MO}/0/Settings/Display"]],
    ]
    for batch in batches:
        enqueue(port, *batch)
    client_state = tmp_path / "client"
    session(url, client_state)

    tree = json.loads((client_state / "device.json").read_text())
    assert tree["tree"][MO]["5"] == {"Name": "fetched", "N": 1}  # GET with ClientURI
    assert tree["tree"][MO]["2"] == {"Name": "created"}  # GET made a new instance (0, 1 taken)
    assert "1" not in tree["tree"][MO]  # DELETE of an instance
    assert "Display" not in tree["tree"][MO]["0"]["Settings"]  # DELETE after CONT
    assert "0" in tree["tree"]["urn:oma:mo:oma-dm-devinfo:1.0"]  # the permanent node stayed
    assert tree["defaults"] == {"urn:oma:mo:oma-mms:1.0": f"{url}/mms"}

    sessions = json.loads(httpx.get(f"http://127.0.0.1:{port}{RECORD_PATH}", trust_env=False).text)
    assert [(s["device_id"], s["number"], s["url"]) for s in sessions] == [
        (DEVICE, 1, url),
        (DEVICE, 2, f"{url}/alert"),  # the Generic Alert's session, opened after the first
    ]
    main, alert = (s["exchanges"] for s in sessions)
    record = [json.loads(line) for line in (server_state / "record.jsonl").read_text().splitlines()]
    assert record == main + alert  # the file has every exchange, in the order they came
    # the server sent each queued batch in a message of its own, in order, END with the last
    assert [r["sent"] for r in main] == [*batches[:-1], [*batches[-1], ["END"]]]
    assert alert[0]["sent"] == [["END"]]
    answered = {
        tuple(c): s
        for r in main
        for c, s in zip(
            [c for c in r["answered"] if c[0] != "END"], r["message"]["Status"], strict=True
        )
    }
    assert all(not r["findings"] for r in record), [r["findings"] for r in record]
    assert answered[("GET", f"{content}/doc", f"{MO}/5")] == {"sc": OK, "URI": [f"{MO}/5"]}
    assert answered[("GET", f"{content}/new")] == {"sc": OK, "URI": [f"{MO}/2"]}
    assert answered[("DELETE", DEVINFO)]["sc"] == PROFILE.status.not_allowed
    assert answered[("DELETE", f"{MO}/1")]["sc"] == OK
    assert all(
        s["sc"] == OK
        for c, s in answered.items()
        if c[0] in ("PUT", "POST", "EXEC", "SHOW", "DEFAULT", "CONT", "INCLUDE")
    )
    include = next(r for r in main if ["INCLUDE", f"{MO}/5"] in r["answered"])
    assert include["includes"] == [{f"{MO}/5": {"Name": "fetched", "N": 1}}]
    assert [r["url"] for r in main[-2:]] == [url, f"{url}/moved"]  # CONT's status: the new URL
    assert alert[0]["message"]["Alert"] == [
        {"AlertType": PROFILE.alerts.generic, "SourceURI": f"{MO}/0/Reboot", "Data": {"Result": OK}}
    ]

    events = {(e.kind, e.path): e for e in helper.events}
    upload = json.loads(events[("upload", "up")].exchange.request_body)
    assert upload[f"{MO}/5"] == {}  # Levels=0
    assert upload[f"{MO}/0/Settings"]["Display"] == {"Brightness": 70, "Theme": "dark"}
    posted = json.loads(events[("upload", "post")].exchange.request_body)
    assert f"{PRIVATE}/0" not in posted and posted[f"{MO}/0"]["Settings"] == {}  # *?Levels=1
    assert events[("upload", "up")].exchange.method == "PUT"
    assert events[("upload", "post")].exchange.method == "POST"
    assert PROFILE.headers.device_id.lower() not in {
        k.lower() for k in events[("browse", "welcome")].exchange.request_headers
    }
