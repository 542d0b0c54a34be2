"""Bounded HTTP requests with httpx: every request has a deadline for the whole exchange (a peer
that drips one byte a second cannot hold it open) and a cap on the body it reads."""

from __future__ import annotations

import functools
import ssl
import threading
import time

import httpx

from conformance.roles.exchange import HttpExchange


class BoundExceeded(Exception):
    """The peer's answer broke a bound: too slow as a whole, or too large."""


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client (making one costs tens of milliseconds)."""
    return ssl.create_default_context()


def new_client(timeout_s: float) -> httpx.Client:
    """An httpx client for talking to an implementation under test: no proxies from the
    environment, no redirects followed, every phase bounded by `timeout_s`."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout_s), trust_env=False, follow_redirects=False, verify=_tls()
    )


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
        record.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    finally:
        watchdog.cancel()
    if expired.is_set():
        record.error = f"answer not complete within {deadline_s} s (the harness hung up)"
    record.seconds = time.monotonic() - start
    return record
