"""Bounded HTTP requests with httpx: every request has a deadline for the whole exchange (a peer
that drips one byte a second cannot hold it open) and a cap on the body it reads. Over TLS the
peer's certificate is verified, against the system's CAs or a CA bundle given (ClientTls), and a
client certificate is presented for mutual TLS when one is given; a certificate that cannot be
verified ends the exchange with the reason, never silently accepted."""

from __future__ import annotations

import functools
import re
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from conformance.roles.exchange import HttpExchange


class BoundExceeded(Exception):
    """The peer's answer broke a bound: too slow as a whole, or too large."""


@dataclass(frozen=True)
class ClientTls:
    """What a client trusts and presents over TLS: a CA bundle (None: the system's CAs) and a
    client certificate with its key (mutual TLS)."""

    ca_file: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    def trusting(self) -> str:
        """What the client verifies a server's certificate against, in words."""
        return f"the CA bundle {self.ca_file}" if self.ca_file else "the system's CAs"


@functools.cache
def client_context(tls: ClientTls | None = None) -> ssl.SSLContext:
    """One TLS context per set of files, for every client (making one costs tens of
    milliseconds). ValueError says which file cannot be used."""
    try:
        if tls is None or tls.ca_file is None:
            context = ssl.create_default_context()
        else:
            context = ssl.create_default_context(cafile=str(tls.ca_file))
        if tls is not None and tls.cert is not None:
            context.load_cert_chain(str(tls.cert), str(tls.key) if tls.key else None)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cannot use the TLS files {tls}: {exc}") from None
    return context


def new_client(timeout_s: float, tls: ClientTls | None = None) -> httpx.Client:
    """An httpx client for talking to an implementation under test: no proxies from the
    environment, no redirects followed, every phase bounded by `timeout_s`, the server's
    certificate verified (`tls`: against which CAs, with which client certificate)."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout_s),
        trust_env=False,
        follow_redirects=False,
        verify=client_context(tls),
    )


TLS_PROBLEM = "TLS: "  # how the error of an exchange that failed over TLS begins


def tls_problem(exc: BaseException) -> str | None:
    """The TLS failure behind an exception, in words (None when TLS is not the cause)."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            why = seen.verify_message
            return f"{TLS_PROBLEM}the server's certificate cannot be verified: {why}"
        if isinstance(seen, ssl.SSLError):
            return f"{TLS_PROBLEM}{re.sub(r' [(]_ssl[.]c:[0-9]+[)]$', '', str(seen))}"
        seen = seen.__cause__ or seen.__context__
    return None


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    deadline_s: float,
    max_bytes: int,
) -> HttpExchange:
    """Make one request; the exchange records the response or the error that ended it. At the
    deadline a watchdog closes `client` (httpx bounds each read, not the whole exchange, so a
    peer dripping its headers a byte a second would otherwise hold it): the caller replaces a
    client that `is_closed`."""
    record = HttpExchange(method, url, dict(headers or {}), body)
    start = time.monotonic()
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        client.close()

    watchdog = threading.Timer(deadline_s, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        with client.stream(method, url, headers=headers, content=body or None) as response:
            record.status = response.status_code
            record.response_headers = dict(response.headers)
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise BoundExceeded(f"answer larger than {max_bytes} bytes")
                if time.monotonic() - start > deadline_s:
                    raise BoundExceeded(f"answer not complete within {deadline_s} s")
                chunks.append(chunk)
            record.response_body = b"".join(chunks)
    except (httpx.HTTPError, httpx.InvalidURL, BoundExceeded, RuntimeError) as exc:
        record.error = tls_problem(exc) or (
            f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        )
    finally:
        watchdog.cancel()
    if expired.is_set():
        record.error = f"answer not complete within {deadline_s} s (the harness hung up)"
    record.seconds = time.monotonic() - start
    return record
