"""The sample DM server, a conforming implementation on the core, run as the DUT contract says:

    python -m conformance.samples.server --port PORT --state DIR     # serve on 127.0.0.1:PORT
    python -m conformance.samples.server enqueue --port PORT         # JSON on stdin

Every path under /dm is a session URL (so CONT can point anywhere below it). Each `enqueue` adds
one batch of commands for a device; its next session sends the batches one message each, END with
the last. Every exchange is appended to DIR/record.jsonl; /admin/record serves the sessions.
The application is in dm_server.py; `enqueue` needs only the standard library, so the hook, which
runs once per queued batch, starts in a fraction of the server's time."""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from pathlib import Path

SESSION_PREFIX = "/dm"
ENQUEUE_PATH = "/admin/enqueue"
RECORD_PATH = "/admin/record"
ADMIN_MEDIA = "application/json"  # the sample's own admin record, not a DM message


def enqueue(port: int, text: str, timeout_s: float = 10.0) -> int:
    """POST one batch to the running server's admin endpoint (no proxy, bounded)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = f"http://127.0.0.1:{port}{ENQUEUE_PATH}"
    try:
        with opener.open(
            urllib.request.Request(url, text.encode(), method="POST"), timeout=timeout_s
        ):
            return 0
    except urllib.error.HTTPError as exc:
        detail = exc.read(2000).decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        detail = str(exc)
    print(f"enqueue failed: {detail}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m conformance.samples.server", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--profile", default="dm20-draft")
    if args[:1] == ["enqueue"]:
        return enqueue(parser.parse_args(args[1:]).port, sys.stdin.read())
    parser.add_argument("--state", type=Path, required=True)
    parsed = parser.parse_args(args)
    from conformance.profiles import load_profile
    from conformance.samples.dm_server import serve

    serve(parsed.port, parsed.state, load_profile(parsed.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
