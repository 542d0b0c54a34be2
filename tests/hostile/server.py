"""A hostile DM server: one misbehaviour per run, on raw sockets (standard library only), so what
goes on the wire is exactly what the behaviour says. Run as the DUT contract says:

    python server.py --behaviour NAME [--marker M] --port P --state DIR
    python server.py --behaviour NAME [--marker M] enqueue --port P      (JSON on stdin)
    python server.py --behaviour scripted --answer FILE --port P --state DIR

`scripted` answers the first message of every session with the commands in FILE (JSON, with
`{port}` standing for its own port) and every later message with END.

The enqueue hook reads its JSON and succeeds: what the server sends does not depend on it.
`--marker` is ignored: it makes this process and its children easy to find in /proc."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its siblings, run as a script
from orphans import leave_orphans

LATE_S = 6.0  # more than the 2 s the hostile DUT files give as timeout_s
BIG = 50 * 1024 * 1024
COMMAND_TYPE = "application/dm20"
HARMLESS = ["DELETE", "urn:oma:mo:oma-dm-conformance:1.0/99"]

BEHAVIOURS = (
    "never-answer",
    "stall",
    "close-mid-response",
    "answer-late",
    "huge-body",
    "drip",
    "invalid-utf8",
    "deep-json",
    "wrong-content-type",
    "no-content-type",
    "cont-loop",
    "never-end",
    "ten-thousand",
    "crash",
    "orphan",
)

SCRIPTED = "scripted"  # not a misbehaviour of its own: what test_security sends

CRASH = threading.Event()
HELD: list[socket.socket] = []  # connections kept open on purpose


def log(text: str) -> None:
    print(f"hostile server: {text}", file=sys.stderr, flush=True)


def read_request(sock: socket.socket) -> tuple[str, bytes] | None:
    """One request (its path and body), or None when the peer closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split()[1] if len(lines[0].split()) > 1 else "/"
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return path, body


def response(body: bytes, content_type: str | None = COMMAND_TYPE, status: int = 200) -> bytes:
    lines = [f"HTTP/1.1 {status} OK", f"Content-Length: {len(body)}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def commands(*cmds: list[str]) -> bytes:
    return json.dumps({"CMD": list(cmds)}).encode()


class Connection:
    """One accepted connection, served by the behaviour until the peer goes away."""

    answered = False  # crash: the first answer went out

    def __init__(self, sock: socket.socket, behaviour: str, port: int, script: bytes = b"") -> None:
        self.sock = sock
        self.behaviour = behaviour
        self.port = port
        self.script = script

    def serve(self) -> None:
        try:
            if self.behaviour == "never-answer":
                HELD.append(self.sock)
                return
            while True:
                request = read_request(self.sock)
                if request is None:
                    break
                if not self.answer(*request):
                    break
        except OSError as exc:
            log(f"connection ended: {exc}")
        finally:
            if self.sock not in HELD:
                self.sock.close()

    def answer(self, path: str, body: bytes) -> bool:
        """Answer one request as the behaviour says; False to stop serving the connection."""
        send = self.sock.sendall
        end = commands(["END"])
        match self.behaviour:
            case "stall":
                HELD.append(self.sock)
                log("read a request; never answering")
                return False
            case "close-mid-response":
                whole = response(end + b" " * 200)
                send(whole[: len(whole) - 150])
                log("sent part of an answer; closing")
                return False
            case "answer-late":
                log(f"answering in {LATE_S} s")
                time.sleep(LATE_S)
                send(response(end))
            case "huge-body":
                chunk = b" " * (1024 * 1024)
                head = f"HTTP/1.1 200 OK\r\nContent-Type: {COMMAND_TYPE}\r\n"
                send(f"{head}Content-Length: {BIG}\r\n\r\n".encode())
                send(b'{"CMD": [["END"]], "Pad": "')
                for _ in range(BIG // len(chunk) - 1):
                    send(chunk)
                send(b'"}')
            case "drip":
                for byte in response(end):
                    send(bytes([byte]))
                    time.sleep(1.0)
            case "invalid-utf8":
                send(response(b'{"CMD": [["END"]], "Note": "\xff\xfe\xc3\x28"}'))
            case "deep-json":
                send(response(b'{"CMD": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"))
            case "wrong-content-type":
                send(response(end, "text/plain"))
            case "no-content-type":
                send(response(end, None))
            case "cont-loop":
                other = "b" if path.endswith("/a") else "a"
                send(response(commands(["CONT", f"http://127.0.0.1:{self.port}/dm/{other}"])))
            case "never-end":
                send(response(commands(HARMLESS)))
            case "ten-thousand":
                send(response(commands(*([HARMLESS] * 9_999), ["END"])))
            case "crash":
                if Connection.answered:  # the second message of the session: die
                    CRASH.set()  # the main thread raises, the process exits with a traceback
                    time.sleep(5)
                    return False
                Connection.answered = True
                send(response(commands(HARMLESS)))
            case "scripted":
                try:
                    first = json.loads(body).get("Status") == []
                except (ValueError, AttributeError):
                    first = False
                if not first:
                    log(f"got {body[:400].decode('utf-8', 'replace')}")
                send(response(self.script if first else end))
            case _:  # orphan: a plain server that ends every session at once
                send(response(end))
        return True


def serve(behaviour: str, port: int, marker: str, script: bytes = b"") -> int:
    if behaviour == "orphan":
        leave_orphans(marker, log)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    listener.settimeout(0.2)
    log(f"{behaviour} on port {port}")
    while True:
        if CRASH.is_set():
            raise RuntimeError("hostile server crashed on purpose in the middle of a session")
        try:
            sock, _ = listener.accept()
        except TimeoutError:
            continue
        sock.settimeout(None)
        worker = Connection(sock, behaviour, port, script)
        threading.Thread(target=worker.serve, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--behaviour", required=True, choices=(*BEHAVIOURS, SCRIPTED))
    parser.add_argument("--answer", help="scripted: a JSON file of the commands to send")
    parser.add_argument("--marker", default="")
    parser.add_argument("command", nargs="?", choices=["enqueue"])
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--state")
    args = parser.parse_args(argv)
    if args.command == "enqueue":
        json.load(sys.stdin)
        return 0
    if args.state:
        os.makedirs(args.state, exist_ok=True)
    script = b""
    if args.answer:
        with open(args.answer, encoding="utf-8") as source:
            wanted = json.load(source)
        text = json.dumps({"CMD": wanted}).replace("{port}", str(args.port))
        script = text.encode()
    return serve(args.behaviour, args.port, args.marker, script)


if __name__ == "__main__":
    sys.exit(main())
