"""Server-role cases: the implementation under test is a DM server and the harness is a simulated
device (the reference client). The device answers whatever messages come: a case checks the
commands the device received over the session, in order, and how the session ended, never how
the server grouped its commands into messages (A15). Every answer is judged by the core (seed 6
and 6.2: HTTP 200, Content-Type, a command message whose commands fit the table) in every case.
A small reference server serves the content and pages the server's commands point at."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from conformance.core import rules
from conformance.core.client import Done
from conformance.core.device import Device
from conformance.core.judge import judge_server_answer
from conformance.core.messages import Alert, Command, Status
from conformance.core.rules import Finding
from conformance.core.uri import add_query
from conformance.core.wire import dump_json
from conformance.engine.model import Case, Step
from conformance.engine.outcomes import Problem
from conformance.engine.records import Verdict
from conformance.engine.runner import CaseRun, Settings
from conformance.engine.substitute import flatten
from conformance.roles.client_driver import REFUSED
from conformance.roles.exchange import HttpExchange
from conformance.roles.http import TLS_PROBLEM
from conformance.roles.reference_client import ReferenceClient, device_facts, simulated_device
from conformance.roles.reference_server import ReferenceServer, Served
from conformance.roles.server_under_test import ServerUnderTest

MAX_FOLLOW_UPS = 10  # sessions a device may owe after one session (A10)

EXIT_GRACE_S = 1.0  # how long a server whose connection dropped is given to exit, for the message


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
        self.names.update(flatten("device", device_facts()))
        self.client = ReferenceClient(
            self.profile,
            simulated_device(self.names["device_id"], self.profile),
            self.timeout_s,
            server.tls,
        )
        self.judged = 0  # exchanges of the client already judged
        self.other: Device | None = None  # a second simulated device, made when a step asks

    def execute(self) -> None:
        self.bind_params()
        if self.server.error:
            self.fail(
                [Problem((), f"the server under test is not usable: {self.server.error}")],
                verdict=Verdict.INCONCLUSIVE,
                output=self.server.output(),
            )
        helper = ReferenceServer(self.profile, self.timeout_s)
        with helper:
            self.names.update(content_url=helper.url("content"), web_url=helper.url("web"))
            self.bind_params()
            helper.pages.update(
                (n, Served(200, self.profile.media.web, h.encode()))
                for n, h in self.sub(self.case.pages).items()
            )
            helper.content.update(
                (n, Served(200, self.profile.media.tnds, dump_json(d)))
                for n, d in self.sub(self.case.content).items()
            )
            # The device follows the server's URLs only to the server itself and the harness.
            self.client.driver.allow(self.server.url, helper.base_url)
            try:
                self.run_steps(self.case.steps)
            finally:
                self.client.close()
        status = self.server.exited()
        if status is not None:  # what answered may have been another program on its port
            self.fail(
                [Problem((), f"the server under test exited (status {status}) during the case")],
                verdict=Verdict.INCONCLUSIVE,
                output=self.server.output(),
            )

    def transcript(self, finished: bool = False) -> list[HttpExchange]:
        return list(self.client.exchanges)

    # -- steps ----------------------------------------------------------------------------------
    def step_enqueue(self, step: Step) -> None:
        commands = self.sub(step.data["enqueue"])
        log = self.settings.workdir / "enqueue.log"
        problem = self.server.enqueue(self.names["device_id"], commands, log)
        if problem:
            self.fail(
                [Problem((), problem)], verdict=Verdict.INCONCLUSIVE, output=self.server.output()
            )

    def step_run_session(self, step: Step) -> None:
        data = step.data
        url = self._configuration_url(data["configure"]) if "configure" in data else None
        url = url or self.sub(data.get("url", "{server_url}"))
        alerts = None
        if "alerts" in data:
            alerts = tuple(
                Alert(a["type"], a.get("source"), a.get("mark"), a.get("data"))
                for a in self.expected_alerts(data["alerts"])
            )
        answers = self._answers(data.get("answers") or [])
        start = len(self.client.exchanges)
        device = self.client.device
        if data.get("device") == "other":
            self.client.device = self._other_device()
        who = self.client.device.device_id
        self.client.devinfo = data.get("devinfo", True)
        try:
            received, done = self._session(url, alerts, answers)
            for _ in range(MAX_FOLLOW_UPS):
                if not done.follow_ups:
                    break
                owed = done.follow_ups
                for follow_up in owed:
                    _, done = self._session(follow_up.url, (follow_up.alert,), answers)
        finally:
            self.client.device, self.client.devinfo = device, True
        if "contains" in data:
            self._contains(self.sub(data["contains"]), received, start)
        if "lacks" in data:
            self._lacks(self.sub(data["lacks"]), received, who, start)
        self.save(step, {"commands": received})

    def _other_device(self) -> Device:
        """A second simulated device of the case, with an X-OMADMDevID of its own."""
        if self.other is None:
            self.other = simulated_device(f"{self.names['device_id']}-other", self.profile)
        return self.other

    def _lacks(
        self, unwanted: list[list[str]], received: list[list[str]], who: str, start: int
    ) -> None:
        """None of `unwanted` (queued for another device) reached device `who` (A15)."""
        got = [c for c in unwanted if c in received]
        if got:
            self.fail(
                [
                    Problem.of(
                        rules.SERVER_OWN_DEVICE,
                        f"the device {who} received {got}, queued for another device",
                    )
                ],
                expected={"lacks": unwanted},
                received=received,
                exchanges=tuple(self.client.exchanges[start:]),
                output=self.server.output(),
            )

    def _configuration_url(self, configure: dict[str, str]) -> str:
        """Where the device opens a configuration session for MOID: the ServerURL its last
        DEFAULT gave, with InitiatedBy added (A12)."""
        moid, who = self.sub(configure["moid"]), self.sub(configure["initiated_by"])
        server_url = self.client.device.defaults.get(moid)
        if server_url is None:
            self.fail(
                [self.problem(f"the device got no DEFAULT for {moid}, so it has no ServerURL")],
            )
        query = self.profile.default_query
        return add_query(server_url, query.name, who)

    def _answers(self, answers: list[dict[str, Any]]) -> dict[tuple[str, ...], Status]:
        """The statuses a case dictates, by the command they answer."""
        out = {}
        for answer in self.sub(answers):
            code = self.code_of(answer["code"])
            out[tuple(answer["command"])] = Status(code, None, answer.get("reason"))
        return out

    def _session(
        self, url: str, alerts: tuple[Alert, ...] | None, answers: dict[tuple[str, ...], Status]
    ) -> tuple[list[list[str]], Done]:
        """Open a session at `url` and answer until it ends; every command received, in order."""
        received: list[list[str]] = []
        exchange: HttpExchange | None = self.client.send_first(url, alerts)
        while exchange is not None:
            received += self._judge(exchange)
            if self.client.session is not None and self.client.session.state.exchanges >= (
                self.profile.limits.max_exchanges
            ):
                self.observe(
                    [
                        Finding(
                            rules.SERVER_SESSION_ENDS,
                            f"no END after {self.profile.limits.max_exchanges} messages of one "
                            "session",
                        )
                    ]
                )
                self.fail(
                    [Problem.of(rules.SERVER_SESSION_ENDS, "the session never ended")],
                    exchanges=tuple(self.client.exchanges[-2:]),
                    output=self.server.output(),
                )
            exchange = self.client.send_statuses(lambda commands: self._dictated(commands, answers))
        done = self.client.done
        if done is None:
            self.fail([Problem((), "the session did not end")], verdict=Verdict.ERROR)
        if done.aborted:
            exchanges = tuple(self.client.exchanges[-1:])
            if any(f.failed for f in self.observed.values()):
                # the server broke rules the core filed already: they are the failure
                self.fail([], exchanges=exchanges, output=self.server.output())
            self.fail(
                [Problem((), f"the simulated device had to abort the session: {done.reason}")],
                verdict=Verdict.INCONCLUSIVE,
                exchanges=exchanges,
                output=self.server.output(),
            )
        return received, done

    def _dictated(
        self, commands: tuple[Command, ...], answers: dict[tuple[str, ...], Status]
    ) -> dict[int, Status]:
        return {
            index: answers[tuple(c.as_list())]
            for index, c in enumerate(commands)
            if tuple(c.as_list()) in answers
        }

    def _judge(self, exchange: HttpExchange) -> list[list[str]]:
        """Judge one answer of the server; the commands it carried."""
        if exchange.error:
            # TLS that fails (a certificate that cannot be verified) is never the server's
            # answer to judge: the harness could not reach the point under test
            tls = exchange.error.startswith(TLS_PROBLEM)
            # nor is a URL of the server's that the harness will not follow (another origin)
            refused = exchange.error.startswith(REFUSED)
            never = self.judged == 0 or tls or refused
            process = self.server.process
            # a server that crashed drops the connection a moment before its process is gone
            exited = process.wait(EXIT_GRACE_S) if process is not None else None
            after = (
                f" (the server process exited with status {exited})" if exited is not None else ""
            )
            if tls:
                after += f"; verified against {self.server.trusting()}"
            text = f"no answer from the server: {exchange.error}{after}"
            if refused:
                text = exchange.error
            self.fail(
                [Problem((), text) if never else Problem.of(rules.SERVER_HTTP_OK, text)],
                verdict=Verdict.INCONCLUSIVE if never else Verdict.FAIL,
                exchanges=(exchange,),
                output=self.server.output(),
            )
        self.judged += 1
        message, findings = judge_server_answer(
            exchange.status or 0,
            exchange.response_headers,
            exchange.response_body,
            self.profile,
        )
        self.observe(findings)
        return [c.as_list() for c in message.commands] if message else []

    def _contains(self, wanted: list[list[str]], received: list[list[str]], start: int) -> None:
        """Each wanted command arrives, in this order, among what the device received (A15:
        however the messages grouped them; commands of the server's own may come between)."""
        exchanges = tuple(self.client.exchanges[start:])
        missing = [c for c in wanted if c not in received]
        if missing:
            # A command of the same name that came otherwise is the queued one, altered: where
            # the core saw a rule of the command table broken (its row, A18, A20) that is what
            # it breaks; a well-formed command in its place means the queued one never came.
            names = {c[0].upper() for c in missing if c}  # `delete` for DELETE too (A18)
            altered = [c for c in received if c not in wanted and c and c[0].upper() in names]
            if altered:
                text = f"the device received {altered} where {missing} was expected (altered)"
                if any(f.failed for f in self.observed.values()):
                    problem = Problem((), f"{text}: the rules it breaks are listed")
                else:
                    problem = Problem.of(rules.SERVER_SESSION_ENDS, text)
            else:
                problem = Problem.of(
                    rules.SERVER_SESSION_ENDS,
                    f"the session ended without {missing} (queued for the device)",
                )
            self.fail(
                [problem],
                expected=wanted,
                received=received,
                exchanges=exchanges,
                output=self.server.output(),
            )
        position, matched = 0, []
        for command in wanted:
            while position < len(received) and received[position] != command:
                position += 1
            if position == len(received):
                late = f"{command} did not come in the order the commands were queued"
                self._out_of_order(late, wanted, received, exchanges)
            matched.append(position)
            position += 1
        # A copy of a later command sent before an earlier one is that later command out of
        # order, whatever copies follow (A15 keeps the order; the server's own commands may come).
        for index, at in enumerate(matched):
            early = [
                received[q]
                for q in range(at)
                if q not in matched and received[q] in wanted[index + 1 :]
            ]
            if early:
                ahead = f"{early[0]} came before {wanted[index]}, which was queued ahead of it"
                self._out_of_order(ahead, wanted, received, exchanges)

    def _out_of_order(
        self,
        text: str,
        wanted: list[list[str]],
        received: list[list[str]],
        exchanges: tuple[HttpExchange, ...],
    ) -> NoReturn:
        self.fail(
            [Problem.of(rules.SERVER_QUEUE_ORDER, text)],
            expected=wanted,
            received=received,
            exchanges=exchanges,
        )
