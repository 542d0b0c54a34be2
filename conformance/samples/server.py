"""The sample DM server, a conforming implementation on the core, run as the DUT contract says:

    python -m conformance.samples.server --port PORT --state DIR     # serve on 127.0.0.1:PORT
    python -m conformance.samples.server enqueue --port PORT         # JSON on stdin

With `--cert FILE --key FILE` it serves HTTPS (and `--client-ca FILE` makes it ask every client for
a certificate signed by that CA: mutual TLS); `enqueue --ca-file FILE` then reaches it over HTTPS,
trusting that CA (and presenting `--cert`/`--key` when given, for mutual TLS).

Every path under /dm is a session URL (so CONT can point anywhere below it). Each `enqueue` adds
one batch of commands for a device; its next session sends the batches one message each, END with
the last. Every exchange is appended to DIR/record.jsonl; /admin/record serves the sessions.
The application is in dm_server.py; `enqueue` needs only the standard library, so the hook, which
runs once per queued batch, starts in a fraction of the server's time."""

from __future__ import annotations

import argparse
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path

SESSION_PREFIX = "/dm"
ENQUEUE_PATH = "/admin/enqueue"
RECORD_PATH = "/admin/record"
ADMIN_MEDIA = "application/json"  # the sample's own admin record, not a DM message


def enqueue(
    port: int,
    text: str,
    timeout_s: float = 10.0,
    ca_file: Path | None = None,
    cert: tuple[Path, Path] | None = None,
) -> int:
    """POST one batch to the running server's admin endpoint (no proxy, bounded); over HTTPS
    when `ca_file` is given, trusting that CA (and with a client certificate, `cert`)."""
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if ca_file is not None:
        context = ssl.create_default_context(cafile=str(ca_file))
        if cert is not None:
            context.load_cert_chain(str(cert[0]), str(cert[1]))
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    scheme = "https" if ca_file is not None else "http"
    url = f"{scheme}://127.0.0.1:{port}{ENQUEUE_PATH}"
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
    parser.add_argument("--cert", type=Path, help="certificate (chain), PEM: serve HTTPS")
    parser.add_argument("--key", type=Path, help="the certificate's private key, PEM")
    if args[:1] == ["enqueue"]:
        parser.add_argument("--ca-file", type=Path, help="reach the server over HTTPS")
        hook = parser.parse_args(args[1:])
        cert = (hook.cert, hook.key) if hook.cert and hook.key else None
        return enqueue(hook.port, sys.stdin.read(), ca_file=hook.ca_file, cert=cert)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--client-ca", type=Path, help="require client certificates of this CA")
    parsed = parser.parse_args(args)
    if bool(parsed.cert) != bool(parsed.key) or (parsed.client_ca and not parsed.cert):
        parser.error("--cert and --key go together (and --client-ca needs them)")
    from conformance.profiles import load_profile
    from conformance.samples.dm_server import serve

    context = None
    if parsed.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(parsed.cert), str(parsed.key))
        if parsed.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=str(parsed.client_ca))
    serve(parsed.port, parsed.state, load_profile(parsed.profile), ssl_context=context)
    return 0


if __name__ == "__main__":
    sys.exit(main())
