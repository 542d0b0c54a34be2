"""One HTTP exchange as the harness saw it, kept for failure messages and reports."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field


@dataclass
class HttpExchange:
    """A request and its response (or the error that took the place of one)."""

    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: bytes = b""
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    error: str | None = None
    seconds: float = 0.0

    def describe(self, limit: int = 2000) -> str:
        """The exchange as a person reads it: request line, headers, body; then the response."""
        lines = [f"{self.method} {self.url}"]
        lines += [f"  {k}: {v}" for k, v in self.request_headers.items()]
        if self.request_body:
            lines.append("  " + show_body(self.request_body, limit).replace("\n", "\n  "))
        if self.error:
            lines.append(f"-> no response: {self.error}")
        else:
            lines.append(f"-> {self.status}")
            lines += [f"  {k}: {v}" for k, v in self.response_headers.items()]
            if self.response_body:
                lines.append("  " + show_body(self.response_body, limit).replace("\n", "\n  "))
        return "\n".join(lines)


def show_body(body: bytes, limit: int = 2000) -> str:
    """A body for a person: pretty JSON when it is JSON, text otherwise, cut at `limit`."""
    text = body[:limit].decode("utf-8", "replace")
    with contextlib.suppress(ValueError, RecursionError):
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)[:limit]
    cut = len(body) > limit
    return text + (f"\n… ({len(body)} bytes in all)" if cut else "")
