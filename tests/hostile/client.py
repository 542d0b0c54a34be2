"""A hostile DM client: one misbehaviour per run, standard library only, so what goes on the wire
is exactly what the behaviour says. Run as the DUT contract says, with the behaviour first:

    python client.py --behaviour NAME [--marker M] session --server URL --state DIR
    python client.py --behaviour NAME [--marker M] config --state DIR --moid M --initiated-by X

`--marker` is ignored: it only makes this process (and the children `orphan` leaves) easy to
find in /proc afterwards."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its siblings, run as a script
from orphans import leave_orphans

DEVICE_ID = "IMEI:493005100592800"
STATUS_TYPE = "application/dm20status"
ACCEPT = "application/dm20, application/tnds20"
FIRST = {
    "Status": [],
    "DevInfo": {"DevID": DEVICE_ID, "Man": "hostile", "Mod": "hostile-client", "DmV": "2.0"},
}
LATE_S = 6.0  # more than the 2 s the hostile DUT files give as timeout_s
BIG = 50 * 1024 * 1024

BEHAVIOURS = (
    "never-connect",
    "connect-and-stall",
    "close-mid-request",
    "answer-late",
    "huge-body",
    "drip",
    "invalid-utf8",
    "deep-json",
    "wrong-content-type",
    "no-content-type",
    "crash",
    "orphan",
    "endless",
)


def log(text: str) -> None:
    print(f"hostile client: {text}", file=sys.stderr, flush=True)


def headers(content_type: str | None = STATUS_TYPE) -> dict[str, str]:
    out = {"Accept": ACCEPT, "X-OMADMDevID": DEVICE_ID}
    if content_type is not None:
        out["Content-Type"] = content_type
    return out


def request_bytes(url: str, head: dict[str, str], body: bytes, length: int | None = None) -> bytes:
    parts = urllib.parse.urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    lines = [f"POST {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in head.items()]
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def connect(url: str, timeout: float = 30.0) -> socket.socket:
    parts = urllib.parse.urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one whole response (Connection: close, so up to EOF or Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed before its answer's headers")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    found = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    length = int(found.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, found, body


def post(url: str, head: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
    with connect(url) as sock:
        sock.sendall(request_bytes(url, head, body))
        return read_response(sock)


def commands_of(body: bytes) -> list[list[str]]:
    try:
        value = json.loads(body)
        return [c for c in value["CMD"] if isinstance(c, list) and c]
    except (ValueError, KeyError, TypeError):
        return []


def first_and_follow(url: str, head: dict[str, str], body: bytes) -> int:
    """Send a first message as given, then answer every command with 406 (not supported) until
    END: enough of a session that only the first message's fault is under test."""
    status, _, answer = post(url, head, body)
    log(f"first message answered with HTTP {status}")
    for _ in range(50):
        commands = commands_of(answer)
        if status != 200 or not commands or commands[-1][0] == "END":
            return 0
        statuses = {"Status": [{"sc": 406} for c in commands if c[0] != "END"]}
        status, _, answer = post(url, headers(), json.dumps(statuses).encode())
    return 0


# -- the behaviours --------------------------------------------------------------------------------
def never_connect(url: str) -> int:
    log("never connecting")
    time.sleep(3600)
    return 0


def connect_and_stall(url: str) -> int:
    body = json.dumps(FIRST).encode()
    sock = connect(url)
    data = request_bytes(url, headers(), body)
    sock.sendall(data[: len(data) - len(body) // 2])
    log("sent half a request; stalling")
    time.sleep(3600)
    return 0


def close_mid_request(url: str) -> int:
    body = json.dumps(FIRST).encode()
    sock = connect(url)
    data = request_bytes(url, headers(), body)
    sock.sendall(data[: len(data) - len(body)])
    sock.close()
    log("sent the headers of a request, then closed the connection")
    return 0


def answer_late(url: str) -> int:
    log(f"waiting {LATE_S} s before the first message")
    time.sleep(LATE_S)
    return first_and_follow(url, headers(), json.dumps(FIRST).encode())


def huge_body(url: str) -> int:
    chunk = b" " * (1024 * 1024)
    try:
        with connect(url) as sock:
            sock.sendall(request_bytes(url, headers(), b"", length=BIG))
            sock.sendall(b'{"Status": [], "Pad": "')
            for _ in range(BIG // len(chunk) - 1):
                sock.sendall(chunk)
            sock.sendall(b'"}')
            status, _, _ = read_response(sock)
            log(f"50 MB first message answered with HTTP {status}")
    except OSError as exc:
        log(f"50 MB first message cut off: {exc}")
    return 0


def drip(url: str) -> int:
    data = request_bytes(url, headers(), json.dumps(FIRST).encode())
    with connect(url, timeout=3600) as sock:
        for index in range(len(data)):
            sock.sendall(data[index : index + 1])
            time.sleep(1.0)
        read_response(sock)
    return 0


def invalid_utf8(url: str) -> int:
    body = b'{"Status": [], "DevInfo": {"DevID": "\xff\xfe\xfd", "Man": "\xc3\x28"}}'
    return first_and_follow(url, headers(), body)


def deep_json(url: str) -> int:
    body = b"[" * 100_000 + b"]" * 100_000
    return first_and_follow(url, headers(), body)


def wrong_content_type(url: str) -> int:
    return first_and_follow(url, headers("text/plain"), json.dumps(FIRST).encode())


def no_content_type(url: str) -> int:
    return first_and_follow(url, headers(None), json.dumps(FIRST).encode())


def crash(url: str) -> int:
    status, _, _ = post(url, headers(), json.dumps(FIRST).encode())
    log(f"first message answered with HTTP {status}; crashing now")
    raise RuntimeError("hostile client crashed on purpose after its first answer")


def orphan(url: str, marker: str) -> int:
    """Leave two sleepers behind that ignore SIGTERM: one in this process group, one in a session
    of its own (setsid), out of the group's reach."""
    leave_orphans(marker, log)
    return first_and_follow(url, headers(), json.dumps(FIRST).encode())


def endless(url: str) -> int:
    """Keep posting status messages whatever the server says, END included."""
    body = json.dumps(FIRST).encode()
    sent = 0
    while True:
        try:
            status, _, answer = post(url, headers(), body)
            sent += 1
            count = max(1, len([c for c in commands_of(answer) if c[0] != "END"]))
            body = json.dumps({"Status": [{"sc": 200}] * count}).encode()
            if sent % 10 == 0:
                log(f"{sent} messages, last answer HTTP {status}")
        except OSError:
            time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--behaviour", required=True, choices=BEHAVIOURS)
    parser.add_argument("--marker", default="")
    commands = parser.add_subparsers(dest="command", required=True)
    session = commands.add_parser("session")
    session.add_argument("--server", required=True)
    session.add_argument("--state", required=True)
    config = commands.add_parser("config")
    config.add_argument("--state", required=True)
    config.add_argument("--moid", required=True)
    config.add_argument("--initiated-by", required=True)
    args = parser.parse_args(argv)
    os.makedirs(args.state, exist_ok=True)
    if args.command == "config":
        log("no DEFAULT server is known")
        return 1
    url = args.server
    if args.behaviour == "orphan":
        return orphan(url, args.marker)
    handler = globals()[args.behaviour.replace("-", "_")]
    return handler(url)


if __name__ == "__main__":
    sys.exit(main())
