"""The sample DM server's application: the queued batches and the sessions of each device, the
WSGI application and the loopback server (werkzeug). `conformance.samples.server` is its
command line."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from conformance.core.codec import client_message_json
from conformance.core.judge import header
from conformance.core.messages import Command
from conformance.core.server import Batches, DeviceSessions
from conformance.profiles import Profile
from conformance.samples.server import ADMIN_MEDIA, ENQUEUE_PATH, RECORD_PATH, SESSION_PREFIX


class DMServer:
    """The server's state: the batches queued for each device, the sessions of each device (the
    core's DeviceSessions: several may be open at once, A14), and the record of every exchange."""

    def __init__(self, profile: Profile, state: Path) -> None:
        self.profile = profile
        self.state = state
        self.lock = threading.Lock()
        self.queues: dict[str, Batches] = {}
        self.devices: dict[str, DeviceSessions] = {}
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
            batch = tuple(Command(c[0], tuple(c[1:])) for c in commands)
            self.queues.setdefault(device, []).append(batch)

    def _sessions(self, device: str) -> DeviceSessions:
        if device not in self.devices:
            self.devices[device] = DeviceSessions(self.profile, lambda: self.queues.pop(device, []))
        return self.devices[device]

    def handle(
        self, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        device = header(headers, self.profile.headers.device_id) or ""
        with self.lock:
            sessions = self._sessions(device)
            reply = sessions.receive(url, headers, body)
            exchange = sessions.exchanges[-1]
            entry = self._entry(device, exchange.session, url)
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

    def _entry(self, device: str, number: int | None, url: str) -> dict[str, Any]:
        """The record of session `number` of `device` (a message of no session gets its own)."""
        for entry in self.record:
            if number is not None and (entry["device_id"], entry["number"]) == (device, number):
                return entry
        entry = {"device_id": device, "number": number, "url": url, "exchanges": []}
        self.record.append(entry)
        return entry


def make_app(server: DMServer) -> Callable[..., Any]:
    """The WSGI application: session URLs under /dm, the admin endpoints. Werkzeug reads the
    request as HTTP/1.1 allows (chunked or with a length, A16)."""
    profile = server.profile
    limit = profile.limits.max_body_bytes

    def text(status: int, words: str) -> Response:
        media = f"{profile.media.text}; charset=utf-8"
        return Response(words, status=status, headers={profile.headers.content_type: media})

    @Request.application
    def app(request: Request) -> Response:
        request.max_content_length = limit
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            return text(413, f"body over {limit} bytes")
        path = request.path
        if request.method == "GET" and path == RECORD_PATH:
            with server.lock:
                data = json.dumps(server.record)
            return Response(data, headers={profile.headers.content_type: ADMIN_MEDIA})
        if request.method != "POST":
            return text(404, "not found")
        if path == ENQUEUE_PATH:
            try:
                server.enqueue(json.loads(body))
            except (ValueError, KeyError, TypeError) as exc:
                return text(400, f"bad enqueue request: {exc}")
            return text(200, "queued")
        if path == SESSION_PREFIX or path.startswith(SESSION_PREFIX + "/"):
            status, headers, answer = server.handle(request.url, dict(request.headers), body)
            return Response(answer, status=status, headers=headers)
        return text(404, "not found")

    return app


def serve(port: int, state: Path, profile: Profile, ssl_context: Any = None) -> None:
    """Serve on 127.0.0.1:`port` (HTTPS with `ssl_context`) until interrupted."""
    httpd = make_server(
        "127.0.0.1",
        port,
        make_app(DMServer(profile, state)),
        threaded=True,
        request_handler=QuietHandler,
        ssl_context=ssl_context,
    )
    scheme = "https" if ssl_context else "http"
    print(f"sample DM server on {scheme}://127.0.0.1:{port}{SESSION_PREFIX}", file=sys.stderr)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler, logging one line per request to stderr (the DUT log)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        print(f"{self.address_string()} {self.requestline} {code}", file=sys.stderr)
