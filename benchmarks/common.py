"""Helpers the benchmark scripts share: percentiles, a header naming the machine and its load,
a bare werkzeug server on loopback, and tables printed as Markdown."""

from __future__ import annotations

import logging
import math
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per request


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered), max(1, math.ceil(fraction * len(ordered)))) - 1]


def summary(seconds: list[float]) -> dict[str, float]:
    """Mean, p50 and p95 of a list of durations, in microseconds."""
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "mean": sum(ordered) / len(ordered) * 1e6,
        "p50": percentile(ordered, 0.50) * 1e6,
        "p95": percentile(ordered, 0.95) * 1e6,
    }


def machine() -> str:
    """One line about where the figures come from; the load average says how busy it was."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    bytecode = "off" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on"
    return (
        f"# {platform.python_implementation()} {platform.python_version()} on {sys.platform}, "
        f"{os.cpu_count()} cores, load average {load}, bytecode cache {bytecode}"
    )


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


@contextmanager
def bare_server(
    answer: Callable[[Request], Response],
) -> Iterator[str]:
    """A threaded werkzeug server on 127.0.0.1 (the stack pytest-httpserver runs on) answering
    every request with `answer`; yields its base URL, stopped at the end."""
    server = make_server("127.0.0.1", 0, Request.application(answer), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def timed(work: Callable[[], Any]) -> float:
    """Seconds one call of `work` takes."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start
