"""The sample DM client, a conforming implementation on the core, run as the DUT contract says:

    python -m conformance.samples.client session --server URL --state DIR
    python -m conformance.samples.client config --state DIR --moid MOID --initiated-by User

Its tree lives in DIR/device.json (the factory state when DIR is empty). After a session it opens
the sessions its EXEC commands asked for (A10). Exit status: 0 when the session ended by END, 1
when it was aborted, 2 for bad arguments."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path

from conformance.core.client import ClientSession
from conformance.core.device import Device
from conformance.core.uri import add_query
from conformance.inputs import load_yaml
from conformance.profiles import Profile, load_profile
from conformance.roles.client_driver import run_session
from conformance.roles.http import new_client

STATE_FILE = "device.json"
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


def run(profile: Profile, device: Device, url: str) -> bool:
    """One session to `url` and the follow-up sessions it asked for; True if all ended by END."""
    pending = [(url, None)]
    ok = True
    with new_client(TIMEOUT_S) as http:
        while pending:
            target, alert = pending.pop(0)
            session = ClientSession(profile, device, target, alerts=(alert,) if alert else None)
            outcome, _ = run_session(session, http, TIMEOUT_S)
            print(f"session {target}: {outcome.reason}", file=sys.stderr)
            ok = ok and not outcome.aborted
            pending += [(f.url, f.alert) for f in outcome.follow_ups]
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.samples.client", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--profile", default="dm20-draft", help="wire profile name or file")
    commands = parser.add_subparsers(dest="command", required=True)
    session = commands.add_parser("session", help="open a DM session with the server")
    session.add_argument("--server", required=True, help="session URL")
    session.add_argument("--state", required=True, type=Path, help="folder that keeps the device")
    config = commands.add_parser("config", help="act on a configuration request (DEFAULT)")
    config.add_argument("--state", required=True, type=Path)
    config.add_argument("--moid", required=True)
    config.add_argument("--initiated-by", required=True)
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
    ok = run(profile, device, url)
    save_device(args.state, device)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
