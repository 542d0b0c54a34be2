"""The sample DM server's application: the queued batches and open session of each device, the
HTTP handler and the loopback server. `conformance.samples.server` is its command line."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from conformance.core.codec import client_message_json
from conformance.core.judge import header, read_client_message
from conformance.core.messages import Command
from conformance.core.server import ServerSession
from conformance.profiles import Profile
from conformance.samples.server import ADMIN_MEDIA, ENQUEUE_PATH, RECORD_PATH, SESSION_PREFIX


class DMServer:
    """The server's state: queued batches and the open session of each device, and the record."""

    def __init__(self, profile: Profile, state: Path) -> None:
        self.profile = profile
        self.state = state
        self.lock = threading.Lock()
        self.queues: dict[str, list[list[Command]]] = {}
        self.sessions: dict[str, tuple[ServerSession, dict[str, Any]]] = {}
        self.record: list[dict[str, Any]] = []

    def enqueue(self, value: Any) -> None:
        device, commands = value["device_id"], value["commands"]
        if (
            not isinstance(device, str)
            or not isinstance(commands, list)
            or not all(
                isinstance(c, list) and c and all(isinstance(p, str) for p in c) for c in commands
            )
        ):
            raise ValueError(
                'expected {"device_id": "...", "commands": [["NAME", "param", ...], ...]}'
            )
        with self.lock:
            self.queues.setdefault(device, []).append(
                [Command(c[0], tuple(c[1:])) for c in commands]
            )

    def handle(
        self, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        device = header(headers, self.profile.headers.device_id) or ""
        message, _ = read_client_message(headers, body, self.profile)
        first = message is not None and not message.statuses
        with self.lock:
            session, entry = self.sessions.get(device, (None, {}))
            if session is None or session.ended or first:
                script = self.queues.pop(device, [])
                session = ServerSession(self.profile, url, script, device_id=device or None)
                entry = {"device_id": device, "url": url, "exchanges": []}
                self.sessions[device] = (session, entry)
                self.record.append(entry)
            reply = session.receive(url, headers, body)
            exchange = session.exchanges[-1]
            line = {
                "device_id": device,
                "session": entry["url"],
                "url": exchange.url,
                "message": client_message_json(exchange.message, self.profile)
                if exchange.message
                else None,
                "includes": list(exchange.message.includes) if exchange.message else [],
                "answered": [c.as_list() for c in exchange.answered],
                "sent": [c.as_list() for c in exchange.sent],
                "findings": [str(f) for f in exchange.findings],
            }
            entry["exchanges"].append(line)
            self._save(line)
        return reply.status, reply.headers, reply.body

    def _save(self, line: dict[str, Any]) -> None:
        """Append one exchange to DIR/record.jsonl (one line each: no rewrite as it grows)."""
        self.state.mkdir(parents=True, exist_ok=True)
        with (self.state / "record.jsonl").open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


def make_handler(server: DMServer, max_body: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def log_message(self, format: str, *args: Any) -> None:
            print(f"{self.address_string()} {format % args}", file=sys.stderr)

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _text(self, status: int, text: str) -> None:
            media = f"{server.profile.media.text}; charset=utf-8"
            self._answer(status, {server.profile.headers.content_type: media}, text.encode())

        def _body(self) -> bytes | None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > max_body:
                self._text(413, f"body over {max_body} bytes")
                return None
            return self.rfile.read(length)

        def do_GET(self) -> None:
            if self.path == RECORD_PATH:
                with server.lock:
                    data = json.dumps(server.record).encode()
                header = server.profile.headers.content_type
                self._answer(200, {header: ADMIN_MEDIA}, data)
            else:
                self._text(404, "not found")

        def do_POST(self) -> None:
            body = self._body()
            if body is None:
                return
            if self.path == ENQUEUE_PATH:
                try:
                    server.enqueue(json.loads(body))
                except (ValueError, KeyError, TypeError) as exc:
                    self._text(400, f"bad enqueue request: {exc}")
                    return
                self._text(200, "queued")
            elif self.path == SESSION_PREFIX or self.path.startswith(SESSION_PREFIX + "/"):
                url = f"http://{self.headers.get('Host', '')}{self.path}"
                self._answer(*server.handle(url, dict(self.headers.items()), body))
            else:
                self._text(404, "not found")

    return Handler


class LoopbackServer(ThreadingHTTPServer):
    """A thread per connection; a backlog deep enough that a burst of devices is not reset."""

    daemon_threads = True
    request_queue_size = 128


def serve(port: int, state: Path, profile: Profile) -> None:
    profile_limit = profile.limits.max_body_bytes
    handler = make_handler(DMServer(profile, state), profile_limit)
    httpd = LoopbackServer(("127.0.0.1", port), handler)
    print(f"sample DM server on http://127.0.0.1:{port}{SESSION_PREFIX}", file=sys.stderr)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
