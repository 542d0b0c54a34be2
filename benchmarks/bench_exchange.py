"""Per-exchange overhead of the reference server and the reference client, against a bare httpx ↔
werkzeug round trip with the same bodies, on loopback, measured in the same run:

    python benchmarks/bench_exchange.py [-n 2000]

Reference server: a ReferenceServer whose session requests a harness thread answers through its
API (`wait_for`, `answer`), as a client-role case does; httpx posts a real first message. Bare:
a werkzeug server answering the same bytes at once. One ReferenceServer serves 50 exchanges (one
case's worth, the profile's exchange bound), then a new one starts (outside the timing; its
start and stop are printed apart).

Reference client: a ReferenceClient (Driver, httpx) opens a session, the answer is judged as a
server-role case judges it (`judge_server_answer`) and the session runs to its end (INCLUDE, END);
the server is a bare werkzeug app answering that fixed command message. Bare: httpx posting the
same first-message bytes to the same server.

Measurements alternate in blocks of 50 (bare, then reference) so a busy machine weighs on both."""

from __future__ import annotations

import argparse
import threading
import time

from common import bare_server, machine, summary, table, timed
from werkzeug.wrappers import Response

from conformance.core.client import ClientSession
from conformance.core.codec import encode_commands
from conformance.core.judge import judge_server_answer
from conformance.core.messages import Command, CommandMessage
from conformance.profiles import load_profile
from conformance.roles.http import new_client
from conformance.roles.reference_client import ReferenceClient, simulated_device
from conformance.roles.reference_server import ReferenceServer

BLOCK = 50
TIMEOUT_S = 10.0
DEVICE_ID = "IMEI:356938035643809-bench"
PROFILE = load_profile()


def first_message() -> tuple[dict[str, str], bytes]:
    send = ClientSession(PROFILE, simulated_device(DEVICE_ID, PROFILE), "http://x/dm").start()
    return send.headers, send.body


def command_message(*commands: Command) -> tuple[dict[str, str], bytes]:
    body = encode_commands(CommandMessage(commands), PROFILE)
    return {PROFILE.headers.content_type: PROFILE.media.command}, body


class Harness:
    """The test thread of a client-role case: answers every session request of `server`."""

    def __init__(self, server: ReferenceServer, headers: dict[str, str], body: bytes) -> None:
        self.server, self.headers, self.body = server, headers, body
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._answer, daemon=True)
        self.thread.start()

    def _answer(self) -> None:
        after = 0
        while not self.stop.is_set():
            event = self.server.wait_for({"session"}, after, 0.2)
            if event is not None:
                self.server.answer(event, PROFILE.http_ok, dict(self.headers), self.body)
                after = event.seq

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def bench_reference_server(n: int) -> tuple[list[float], list[float], list[float]]:
    """(bare, reference, server start+stop) seconds."""
    headers, body = first_message()
    answer_headers, answer = command_message(Command(PROFILE.for_action("end").name))
    bare, ref, lifetimes = [], [], []

    def bare_answer(_request: object) -> Response:
        return Response(answer, status=200, headers=answer_headers)

    with bare_server(bare_answer) as base, new_client(TIMEOUT_S) as http:
        bare_url = f"{base}/dm"
        for _ in range(BLOCK):  # warm-up
            http.post(bare_url, headers=headers, content=body)
        for block in range(-1, n // BLOCK):
            for _ in range(BLOCK):
                seconds = timed(lambda: http.post(bare_url, headers=headers, content=body).read())
                if block >= 0:
                    bare.append(seconds)
            started = time.perf_counter()
            server = ReferenceServer(PROFILE, TIMEOUT_S)
            server.__enter__()
            lifetime = time.perf_counter() - started
            harness = Harness(server, answer_headers, answer)
            try:
                url = server.url("dm")
                for _ in range(BLOCK):
                    started = time.perf_counter()
                    response = http.post(url, headers=headers, content=body)
                    seconds = time.perf_counter() - started
                    assert response.status_code == 200, response
                    if block >= 0:
                        ref.append(seconds)
            finally:
                started = time.perf_counter()
                server.close()  # also wakes the harness thread's wait_for
                lifetime += time.perf_counter() - started
                harness.close()
            if block >= 0:
                lifetimes.append(lifetime)
    return bare, ref, lifetimes


def bench_reference_client(n: int) -> tuple[list[float], list[float]]:
    """(bare, reference) seconds."""
    headers, body = first_message()
    include = PROFILE.for_action("include").name
    end = PROFILE.for_action("end").name
    answer_headers, answer = command_message(
        Command(include, ("urn:oma:mo:oma-dm-devinfo:1.0/0",)), Command(end)
    )
    bare, ref = [], []

    def fixed(_request: object) -> Response:
        return Response(answer, status=200, headers=answer_headers)

    with bare_server(fixed) as base, new_client(TIMEOUT_S) as http:
        url = f"{base}/dm"
        client = ReferenceClient(PROFILE, simulated_device(DEVICE_ID, PROFILE), TIMEOUT_S)

        def reference_exchange() -> None:
            exchange = client.send_first(url)
            message, findings = judge_server_answer(
                exchange.status, exchange.response_headers, exchange.response_body, PROFILE
            )
            assert message is not None and not findings, findings
            assert client.send_statuses() is None and not client.done.aborted, client.done

        try:
            for _ in range(BLOCK):  # warm-up
                reference_exchange()
                http.post(url, headers=headers, content=body)
            for _ in range(n // BLOCK):
                for _ in range(BLOCK):
                    bare.append(timed(lambda: http.post(url, headers=headers, content=body).read()))
                for _ in range(BLOCK):
                    ref.append(timed(reference_exchange))
                client.driver.exchanges.clear()  # a case keeps a few; do not let it grow here
        finally:
            client.close()
    return bare, ref


def row(name: str, bare: list[float], ref: list[float]) -> list[str]:
    b, r = summary(bare), summary(ref)
    return [
        name,
        f"{b['mean']:.0f} / {b['p50']:.0f} / {b['p95']:.0f}",
        f"{r['mean']:.0f} / {r['p50']:.0f} / {r['p95']:.0f}",
        f"{r['mean'] / b['mean']:.2f}x",
        f"{r['p50'] / b['p50']:.2f}x",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="exchanges per path (default: 2000)")
    n = max(BLOCK, parser.parse_args().n // BLOCK * BLOCK)
    print(machine())
    bare_s, ref_s, lifetimes = bench_reference_server(n)
    bare_c, ref_c = bench_reference_client(n)
    print(f"{n} exchanges each, microseconds per exchange (mean / p50 / p95), loopback")
    print(
        table(
            ["path", "bare httpx ↔ werkzeug", "harness", "ratio (mean)", "ratio (p50)"],
            [row("reference server", bare_s, ref_s), row("reference client", bare_c, ref_c)],
        )
    )
    life = summary(lifetimes)
    print(
        f"ReferenceServer start + stop (once per case): mean {life['mean'] / 1000:.1f} ms, "
        f"p95 {life['p95'] / 1000:.1f} ms (n={life['n']})"
    )
    print("goal: ratio <= 1.5x the bare round trip")


if __name__ == "__main__":
    main()
