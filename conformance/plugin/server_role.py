"""Server-role cases: the implementation under test is a DM server and the harness is a simulated
device (the reference client). Every answer the server gives is judged by the core (seed 6.2:
HTTP 200, Content-Type, commands of the table) on top of what the case expects. A small
reference server serves the content and pages the server's commands point the device at."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from conformance.core.client import Done
from conformance.core.judge import judge_server_answer
from conformance.core.messages import Alert, Status
from conformance.core.wire import dump_json
from conformance.plugin.cases import Case, Step
from conformance.plugin.runner import CaseResult, CaseRun, Settings
from conformance.plugin.views import headers_view
from conformance.roles.exchange import HttpExchange
from conformance.roles.reference_client import ReferenceClient, simulated_device
from conformance.roles.reference_server import ReferenceServer, Served
from conformance.roles.server_under_test import ServerUnderTest
from conformance.verdicts import CaseError


class ServerRoleRun(CaseRun):
    """One server-role case against the run's DUT server."""

    def __init__(
        self, case: Case, params: dict[str, Any], settings: Settings, server: ServerUnderTest
    ) -> None:
        super().__init__(case, params, settings)
        self.server = server
        base = str(settings.dut.ixit.get("device_id", "IMEI:000000000000000"))
        self.names["device_id"] = f"{base}-{uuid.uuid4().hex[:8]}"
        self.names["server_url"] = server.url
        self.client = ReferenceClient(
            self.profile, simulated_device(self.names["device_id"], self.profile), self.timeout_s
        )
        self.answers = 0  # server answers so far in this case

    def run(self) -> CaseResult:
        if self.server.error:
            self.fail(
                [f"the server under test is not usable: {self.server.error}"],
                inconclusive=True,
                output=self.server.output(),
            )
        pages = {
            n: Served(200, self.profile.media.web, h.encode())
            for n, h in self.sub(self.case.pages).items()
        }
        content = {
            n: Served(200, self.profile.media.tnds, dump_json(d))
            for n, d in self.sub(self.case.content).items()
        }
        with ReferenceServer(self.profile, self.timeout_s, content, {}, pages) as helper:
            self.names.update(content_url=helper.url("content"), web_url=helper.url("web"))
            # The device follows the server's URLs only to the server itself and the harness.
            hosts = {urlsplit(self.server.url).netloc, urlsplit(helper.base_url).netloc}
            self.client.driver.allowed = frozenset(hosts)
            try:
                return super().run()
            finally:
                self.result.exchanges = list(self.client.exchanges)
                self.client.close()

    def transcript(self) -> list[HttpExchange]:
        return list(self.client.exchanges)

    # -- steps ---------------------------------------------------------------------------------
    def step_enqueue(self, step: Step) -> None:
        commands = self.sub(step.data["enqueue"])
        log = self.settings.workdir / "enqueue.log"
        problem = self.server.enqueue(self.names["device_id"], commands, log)
        if problem:
            self.fail([problem], inconclusive=True, output=self.server.output())

    def step_send_first(self, step: Step) -> None:
        data = self.sub(step.data)
        alerts = None
        if "alerts" in data:
            alerts = tuple(
                Alert(a["type"], a.get("source"), a.get("mark"), a.get("data"))
                for a in self.expected_alerts(step.data["alerts"])
            )
        body = data.get("body")
        raw = None if body is None else body.encode() if isinstance(body, str) else dump_json(body)
        exchange = self.client.send_first(
            data.get("url", self.names["server_url"]), alerts, data.get("headers"), raw
        )
        self._judge_answer(exchange)

    def step_send_statuses(self, step: Step) -> None:
        statuses = None
        if "statuses" in step.data:
            statuses = tuple(
                Status(s["code"], tuple(s["uri"]) if "uri" in s else None, s.get("reason"))
                for s in self.expected_statuses(step.data["statuses"])
            )
        if self.client.last is None:
            raise CaseError(self.label, ["no session is open (add a `send: first` step before it)"])
        exchange = self.client.send_statuses(statuses)
        if exchange is None:
            done = self.client.done
            self.fail(
                [
                    "the session ended where the case expected it to go on: "
                    + (done.reason if done else "")
                ],
                exchanges=tuple(self.client.exchanges[-1:]),
            )
        self._judge_answer(exchange)

    def _judge_answer(self, exchange: HttpExchange) -> None:
        output = self.server.output()
        if exchange.error:
            never = self.answers == 0
            process = self.server.process
            exited = process.poll() if process is not None else None
            after = (
                f" (the server process exited with status {exited})" if exited is not None else ""
            )
            self.fail(
                [f"no answer from the server: {exchange.error}{after}"],
                inconclusive=never,
                exchanges=(exchange,),
                output=output,
            )
        self.answers += 1
        _, findings = judge_server_answer(
            exchange.status, exchange.response_headers, exchange.response_body, self.profile
        )
        self.judge(findings, (exchange,), output)

    def _answer_view(self, exchange: HttpExchange) -> dict[str, Any]:
        message, _ = judge_server_answer(
            exchange.status, exchange.response_headers, exchange.response_body, self.profile
        )
        commands = [c.as_list() for c in message.commands] if message else None
        end = self.profile.for_action("end").name
        return {
            "status": exchange.status,
            "headers": exchange.response_headers,
            "commands": commands,
            "ends": bool(commands) and any(c[0] == end for c in commands),
        }

    def step_expect_response(self, step: Step) -> None:
        exchange = self.client.last
        if exchange is None:
            raise CaseError(self.label, ["nothing was sent yet, so there is no response to expect"])
        view = self._answer_view(exchange)
        data = step.data
        expected: dict[str, Any] = {}
        received: dict[str, Any] = {}
        for key in ("status", "commands", "ends"):
            if key in data:
                expected[key], received[key] = self.sub(data[key]), view[key]
        if "headers" in data:
            wanted = self.sub(data["headers"])
            expected["headers"], received["headers"] = wanted, headers_view(view["headers"], wanted)
        if expected:
            self.match(expected, received, (exchange,))
        if "contains" in data:
            self._contains(self.sub(data["contains"]), view["commands"] or [], (exchange,))
        self.save(step, view)

    def _contains(
        self, wanted: list[list[str]], commands: list[list[str]], exchanges: tuple
    ) -> None:
        """Each wanted command appears, in this order, among `commands`."""
        position = 0
        for command in wanted:
            while position < len(commands) and commands[position] != command:
                position += 1
            if position == len(commands):
                self.fail(
                    [f"command {command} not sent (in this order)"],
                    expected=wanted,
                    received=commands,
                    exchanges=exchanges,
                )
            position += 1

    def _to_end(self, seen: list[list[str]]) -> Done:
        """Answer the server until the session ends; collect every command it sent."""
        seen += self._answer_view(self.client.last)["commands"] or []
        while (exchange := self.client.send_statuses()) is not None:
            self._judge_answer(exchange)
            seen += self._answer_view(exchange)["commands"] or []
        return self.client.done

    def step_run(self, step: Step) -> None:
        if self.client.last is None:
            raise CaseError(self.label, ["no session is open (add a `send: first` step before it)"])
        start = len(self.client.exchanges)
        seen: list[list[str]] = []
        done = self._to_end(seen)
        if done.aborted:
            self.fail(
                [f"the simulated device had to abort the session: {done.reason}"],
                exchanges=tuple(self.client.exchanges[start:]),
                output=self.server.output(),
            )
        for follow_up in done.follow_ups:
            self._judge_answer(self.client.send_first(follow_up.url, (follow_up.alert,)))
            self._to_end(seen)
        if "contains" in step.data:
            self._contains(
                self.sub(step.data["contains"]), seen, tuple(self.client.exchanges[start:])
            )
