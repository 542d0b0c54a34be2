"""Codec throughput of the core against plain json.dumps / json.loads of the same bodies:

    python benchmarks/bench_codec.py [--seconds 0.5]

Four messages: a small command message (one of each command of the table, END last), a large one
(1,000 commands, the profile's bound), a first message (DevInfo, statuses none) and a status
message of ten statuses. Encoding is the core's `encode_commands` / `encode_client_message` from
message objects; decoding is `decode_commands` / `decode_client_message` from bytes, which also
bound the body, check UTF-8, nesting and lone surrogates, and validate against the message schema.
The baseline is `json.dumps` of the same JSON value (compact separators) and `json.loads` of the
same bytes."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from common import machine, table

from conformance.core.client import ClientSession
from conformance.core.codec import (
    client_message_json,
    decode_client_message,
    decode_commands,
    encode_client_message,
    encode_commands,
)
from conformance.core.messages import ClientMessage, Command, CommandMessage, Status
from conformance.profiles import load_profile
from conformance.roles.reference_client import simulated_device

PROFILE = load_profile()
SERVER = "http://127.0.0.1:8080/content/doc"
URI = "urn:oma:mo:oma-dm-conformance:1.0/0/Settings"


def small_commands() -> CommandMessage:
    names = {c.action: c.name for c in PROFILE.commands}
    return CommandMessage(
        (
            Command(names["get"], (SERVER, URI)),
            Command(names["put"], (SERVER, URI)),
            Command(names["post"], (SERVER, URI, "urn:oma:mo:oma-dm-devinfo:1.0/0")),
            Command(names["delete"], ("urn:oma:mo:oma-dm-conformance:1.0/1",)),
            Command(names["exec"], ("urn:oma:mo:oma-dm-conformance:1.0/0/Reboot", SERVER)),
            Command(names["include"], ("urn:oma:mo:oma-dm-devinfo:1.0/0",)),
            Command(names["show"], ("http://127.0.0.1:8080/web/page",)),
            Command(names["default"], ("urn:oma:mo:oma-dm-conformance:1.0", SERVER)),
            Command(names["cont"], ("http://127.0.0.1:8080/dm/next",)),
            Command(names["end"]),
        )
    )


def large_commands() -> CommandMessage:
    include = PROFILE.for_action("include").name
    commands = [
        Command(include, (f"{URI}/{i}?Levels=2",)) for i in range(PROFILE.limits.max_commands - 1)
    ]
    return CommandMessage((*commands, Command(PROFILE.for_action("end").name)))


def first_message() -> ClientMessage:
    device = simulated_device("IMEI:356938035643809", PROFILE)
    return ClientSession(PROFILE, device, "http://x/dm").first_message


def status_message() -> ClientMessage:
    statuses = tuple(
        Status(PROFILE.status.ok, (f"{URI}/{i}",) if i % 3 == 0 else None) for i in range(10)
    )
    return ClientMessage(statuses=statuses)


def rate(work: Callable[[], Any], seconds: float) -> float:
    """Calls per second of `work`, timed over about `seconds` (after a short warm-up)."""
    for _ in range(10):
        work()
    calls, batch = 0, 10
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(batch):
            work()
        calls += batch
        batch = min(batch * 2, 1000)
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="per measurement")
    seconds = parser.parse_args().seconds
    print(machine())
    rows = []
    for name, message in (
        ("command, small", small_commands()),
        ("command, 1000", large_commands()),
    ):
        body = encode_commands(message, PROFILE)
        value = json.loads(body)
        cases = [
            ("encode", lambda m=message: encode_commands(m, PROFILE), lambda v=value: _dumps(v)),
            ("decode", lambda b=body: decode_commands(b, PROFILE), lambda b=body: json.loads(b)),
        ]
        rows += _measure(name, body, cases, seconds)
    for name, message in (("first message", first_message()), ("status, 10", status_message())):
        content_type, body = encode_client_message(message, PROFILE)
        value = client_message_json(message, PROFILE)
        cases = [
            (
                "encode",
                lambda m=message: encode_client_message(m, PROFILE),
                lambda v=value: _dumps(v),
            ),
            (
                "decode",
                lambda b=body, t=content_type: decode_client_message(t, b, PROFILE),
                lambda b=body: json.loads(b),
            ),
        ]
        rows += _measure(name, body, cases, seconds)
    print("messages per second and MB/s of body; the ratio is json's rate over the core's")
    print(
        table(
            [
                "message",
                "bytes",
                "op",
                "core msg/s",
                "core MB/s",
                "json msg/s",
                "json MB/s",
                "ratio",
            ],
            rows,
        )
    )


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _measure(
    name: str,
    body: bytes,
    cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]],
    seconds: float,
) -> list[list[str]]:
    rows = []
    for op, core, plain in cases:
        core_rate, json_rate = rate(core, seconds), rate(plain, seconds)
        rows.append(
            [
                name,
                str(len(body)),
                op,
                f"{core_rate:,.0f}",
                f"{core_rate * len(body) / 1e6:.1f}",
                f"{json_rate:,.0f}",
                f"{json_rate * len(body) / 1e6:.1f}",
                f"{json_rate / core_rate:.1f}x",
            ]
        )
    return rows


if __name__ == "__main__":
    main()
