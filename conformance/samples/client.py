"""The sample DM client, a conforming implementation on the core, run as the DUT contract says:

    python -m conformance.samples.client session --server URL --state DIR [--ca-file CA]
    python -m conformance.samples.client config --state DIR --moid MOID --initiated-by User \
        [--ca-file CA]

Over https it trusts the CA certificate of `--ca-file` (the harness's `{ca_file}`), else the
system's CAs; an empty `--ca-file` (what `{ca_file}` is without TLS) counts as none given.

Its tree lives in DIR/device.json (the factory state when DIR is empty). After a session it opens
the sessions its EXEC commands asked for (A10); an alert that no server took stays in the state
and goes with the first message of the next session (seed 5.2). It speaks HTTP through its own
small loop on the standard library's http.client, not through the harness's httpx: a misreading
of the draft shared by the sample and the harness could not show up otherwise. Exit status: 0
when every session ended by END, 1 when one was aborted, 2 for bad arguments."""

from __future__ import annotations

import argparse
import http.client
import json
import ssl
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from conformance.core.client import (
    Browse,
    ClientSession,
    Done,
    Fetch,
    Response,
    Send,
    Upload,
)
from conformance.core.device import Device
from conformance.core.messages import Alert
from conformance.core.uri import add_query
from conformance.inputs import load_yaml
from conformance.profiles import Profile, load_profile

STATE_FILE = "device.json"
# A persistent connection the server closed while it was idle fails its next request like this;
# the request is made once more on a new connection.
RETRY_AFTER = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
TIMEOUT_S = 10.0


def factory_device() -> Device:
    """The device as it leaves the factory (factory-device.yaml)."""
    with resources.as_file(resources.files(__package__) / "factory-device.yaml") as path:
        return Device.from_json(load_yaml(path).data)


def load_device(state: Path) -> Device:
    """The device saved in `state`, or the factory device."""
    saved = state / STATE_FILE
    if saved.is_file():
        return Device.from_json(json.loads(saved.read_text(encoding="utf-8")))
    return factory_device()


def save_device(state: Path, device: Device) -> None:
    state.mkdir(parents=True, exist_ok=True)
    temporary = state / f"{STATE_FILE}.tmp"
    temporary.write_text(json.dumps(device.to_json(), indent=1), encoding="utf-8")
    temporary.replace(state / STATE_FILE)


class Http:
    """The sample's HTTP, on the standard library's http.client: a persistent connection per
    host (a new one when the server closed it), no proxies, no redirects followed, every
    exchange bounded by TIMEOUT_S."""

    def __init__(self, profile: Profile, ca_file: Path | None) -> None:
        self.profile = profile
        self.tls = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self.connections: dict[tuple[str, str, int | None], http.client.HTTPConnection] = {}

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()

    def _connection(
        self, url: str
    ) -> tuple[http.client.HTTPConnection, str, tuple[str, str, int | None], bool]:
        """The connection for `url` (made if there is none), the request target, the connection's
        key, and whether it was there already."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port)
        reused = key in self.connections
        if not reused:
            if parts.scheme == "https":
                self.connections[key] = http.client.HTTPSConnection(
                    key[1], key[2], timeout=TIMEOUT_S, context=self.tls
                )
            else:
                self.connections[key] = http.client.HTTPConnection(
                    key[1], key[2], timeout=TIMEOUT_S
                )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return self.connections[key], target, key, reused

    def call(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        chunked: bool = False,
    ) -> Response | None:
        """One request; None when no answer came. A persistent connection the server has
        closed meanwhile is opened again once."""
        for attempt in (1, 2):
            connection, target, key, reused = self._connection(url)
            try:
                content: bytes | Iterator[bytes] | None = iter([body]) if chunked else body
                connection.request(
                    method, target, body=content or None, headers=headers or {},
                    encode_chunked=chunked,
                )  # fmt: skip
                answer = connection.getresponse()
                data = answer.read()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                del self.connections[key]
                if attempt == 1 and reused and isinstance(exc, RETRY_AFTER):
                    continue
                print(f"{method} {url}: {exc!r}", file=sys.stderr)
                return None
            if answer.will_close:
                connection.close()
                del self.connections[key]
            content_type = answer.getheader(self.profile.headers.content_type)
            return Response(answer.status, content_type, data)
        return None

    def session(self, session: ClientSession) -> Done:
        """Drive `session` from its first message to its end."""
        action: Send | Fetch | Upload | Browse | Done = session.start()
        while not isinstance(action, Done):
            if isinstance(action, Send):
                answer = self.call("POST", action.url, action.headers, action.body)
                session.receive(answer or Response(0))
            elif isinstance(action, Fetch):
                session.complete(self.call("GET", action.url))
            elif isinstance(action, Upload):
                session.complete(self.call(action.method, action.url, action.headers, action.body))
            else:
                accept = {self.profile.headers.accept: self.profile.media.web}
                page = self.call("GET", action.url, accept)
                session.complete(page is not None and page.status == self.profile.http_ok)
            action = session.next_action()
        return action


def run(profile: Profile, device: Device, url: str, ca_file: Path | None = None) -> bool:
    """One session to `url` (with the alerts no server took yet) and the follow-up sessions it
    asked for; True if all ended by END."""
    pending: list[tuple[str, tuple[Alert, ...]]] = [(url, tuple(device.undelivered))]
    device.undelivered = []
    ok = True
    with Http(profile, ca_file) as http:
        while pending:
            target, alerts = pending.pop(0)
            session = ClientSession(profile, device, target, alerts=alerts or None)
            outcome = http.session(session)
            print(f"session {target}: {outcome.reason}", file=sys.stderr)
            ok = ok and not outcome.aborted
            if not session.first_accepted:
                device.undelivered += alerts
            pending += [(f.url, (f.alert,)) for f in outcome.follow_ups]
    return ok


def _optional_path(text: str) -> Path | None:
    return Path(text) if text else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.samples.client", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--profile", default="dm20-draft", help="wire profile name or file")
    commands = parser.add_subparsers(dest="command", required=True)
    session = commands.add_parser("session", help="open a DM session with the server")
    session.add_argument("--server", required=True, help="session URL")
    session.add_argument("--state", required=True, type=Path, help="folder that keeps the device")
    session.add_argument("--ca-file", type=_optional_path, help="CA certificate to trust (https)")
    config = commands.add_parser("config", help="act on a configuration request (DEFAULT)")
    config.add_argument("--state", required=True, type=Path)
    config.add_argument("--moid", required=True)
    config.add_argument("--initiated-by", required=True)
    config.add_argument("--ca-file", type=_optional_path, help="CA certificate to trust (https)")
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    device = load_device(args.state)
    if args.command == "session":
        url = args.server
    else:
        query = profile.default_query
        if args.initiated_by not in query.choices:
            parser.error(f"--initiated-by must be one of {', '.join(query.choices)}")
        if args.moid not in device.defaults:
            print(f"no DEFAULT server for {args.moid}", file=sys.stderr)
            return 1
        url = add_query(device.defaults[args.moid], query.name, args.initiated_by)
    ok = run(profile, device, url, args.ca_file)
    save_device(args.state, device)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
