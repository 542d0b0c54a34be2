"""Client-role cases: the implementation under test is a DM client and the harness is its server.
The reference server holds each session request until the case's next `send` step answers it;
every request is judged by the core (headers, statuses, URL, state) on top of what the case
itself expects."""

from __future__ import annotations

import time
from typing import Any

from conformance.core.codec import encode_commands
from conformance.core.judge import (
    FAIL,
    NO_STATUS_AFTER_END,
    Finding,
    judge_server_answer,
)
from conformance.core.messages import Command, CommandMessage
from conformance.core.observer import SessionObserver
from conformance.core.wire import dump_json
from conformance.plugin.cases import Step
from conformance.plugin.runner import CaseResult, CaseRun
from conformance.plugin.views import body_json, headers_view, request_view
from conformance.roles.exchange import HttpExchange
from conformance.roles.processes import DutProcess
from conformance.roles.reference_server import Event, ReferenceServer, Served
from conformance.verdicts import CaseError

POLL_S = 0.02  # how soon a wait notices that the client's process has exited


class ClientRoleRun(CaseRun):
    """One client-role case against one DUT client."""

    def run(self) -> CaseResult:
        content, uploads = self._content()
        pages = {
            name: Served(200, self.profile.media.web, html.encode())
            for name, html in self.sub(self.case.pages).items()
        }
        self.server = ReferenceServer(self.profile, self.timeout_s, content, uploads, pages)
        self.processes: list[DutProcess] = []
        self.held: Event | None = None  # the session request the next send answers
        self.last_session = 0  # seq of the last session request a step took
        self.cursor = 0  # seq of the last event a step matched
        self.observer = SessionObserver(self.profile)  # judges the client's every message
        self.answered_at = 0  # seq of the session request the last send answered
        with self.server:
            self.names.update(
                server_url=self.server.url("dm"),
                content_url=self.server.url("content"),
                web_url=self.server.url("web"),
            )
            try:
                result = super().run()
                self._leftovers()
            finally:
                for process in self.processes:
                    process.stop()
                self.result.exchanges = [e.exchange for e in self.server.events]
        return result

    def transcript(self) -> list[HttpExchange]:
        return [e.exchange for e in self.server.events]

    def _content(self) -> tuple[dict[str, Served], dict[str, int]]:
        content, uploads = {}, {}
        for name, item in self.sub(self.case.content).items():
            if "raw" in item:
                raw = item["raw"]
                content[name] = Served(
                    raw.get("status", 200),
                    raw.get("content_type", self.profile.media.tnds),
                    raw["body"].encode(),
                )
            elif "upload_status" in item:
                uploads[name] = item["upload_status"]
            else:
                content[name] = Served(200, self.profile.media.tnds, dump_json(item))
        return content, uploads

    def output(self) -> str:
        return "\n".join(p.output() for p in self.processes)

    def _leftovers(self) -> None:
        for event in self.server.since(self.last_session, {"session"}):
            self.result.observations.append(
                Finding(
                    NO_STATUS_AFTER_END,
                    FAIL,
                    f"a session request no step expected: POST {event.url}",
                )
            )

    # -- start ---------------------------------------------------------------------------------
    def step_start(self, step: Step) -> None:
        dut = self.settings.dut
        what = step.data["start"]
        if not dut.has(what):
            raise CaseError(self.label, [f"the DUT file has no client.{what} command"])
        values = {"server_url": self.names["server_url"], "state_dir": str(self.state_dir())}
        if what == "config_request":
            values.update(
                moid=self.sub(step.data.get("moid", "")),
                initiated_by=self.sub(step.data.get("initiated_by", "")),
            )
        argv = dut.argv(what, values)
        log = self.settings.workdir / f"dut-{len(self.processes) + 1}-{what}.log"
        try:
            self.processes.append(DutProcess(argv, dut.folder, log))
        except OSError as exc:
            self.fail([f"cannot start {argv[0]!r}: {exc}"], inconclusive=True)

    def state_dir(self):
        path = self.settings.workdir / "state"
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- waiting -------------------------------------------------------------------------------
    def _all_exited(self) -> bool:
        return all(p.poll() is not None for p in self.processes)

    def _wait(self, kinds: set[str], after: int) -> Event | None:
        """The next event of `kinds` after `after`, within the timeout; give up early once every
        DUT process has exited (and a moment has passed for what was in flight)."""
        deadline = time.monotonic() + self.timeout_s
        exited_at = None
        while time.monotonic() < deadline:
            self.check_stop()
            event = self.server.wait_for(kinds, after, POLL_S)
            if event is not None:
                return event
            if self._all_exited():
                exited_at = exited_at or time.monotonic()
                if time.monotonic() - exited_at > 0.3:
                    return None
        return None

    def _gave_up(self) -> str:
        """Why a wait ended empty: the time ran out, or the client's processes had exited."""
        if self.processes and self._all_exited():
            codes = ", ".join(str(p.poll()) for p in self.processes)
            return f"(the client's process exited, status {codes})"
        return f"within {self.timeout_s} s"

    # -- session requests ----------------------------------------------------------------------
    def step_expect_request(self, step: Step) -> None:
        event = self._wait({"session"}, self.last_session)
        if event is None:
            never = not self.server.since(0, {"session"})
            why = "the client never opened a session" if never else "no further session request"
            self.fail([f"{why} {self._gave_up()}"], inconclusive=never, output=self.output())
        self.last_session = event.seq
        exchange = event.exchange
        if event.problem:
            self.fail([event.problem], exchanges=(exchange,), output=self.output())
        self.held = event
        previous = self.cursor
        self.cursor = max(self.cursor, event.seq)
        message, findings = self.observer.client_message(
            event.url, exchange.request_headers, exchange.request_body
        )
        self.judge(findings, (exchange,), self.output())
        view = request_view(exchange, message, self.profile)
        if event.seq < previous:
            self.fail(
                [
                    f"this request came before what the previous step matched "
                    f"(#{event.seq} < #{previous})"
                ],
                exchanges=(exchange,),
            )
        self._expect_view(step, view, (exchange,))
        self.save(step, view)

    def _expect_view(self, step: Step, view: dict[str, Any], exchanges: tuple) -> None:
        data = step.data
        expected: dict[str, Any] = {}
        received: dict[str, Any] = {}
        if "url" in data:
            expected["url"], received["url"] = self.sub(data["url"]), view["url"]
        if "first" in data:
            expected["first"] = data["first"]
            received["first"] = "statuses" in view and not view["statuses"]
        for key in ("includes", "devinfo", "body"):
            if key in data:
                expected[key], received[key] = self.sub(data[key]), view.get(key)
        if "statuses" in data:
            expected["statuses"], received["statuses"] = (
                self.expected_statuses(data["statuses"]),
                view.get("statuses"),
            )
        if "alerts" in data:
            expected["alerts"], received["alerts"] = (
                self.expected_alerts(data["alerts"]),
                view.get("alerts"),
            )
        self._expect_headers(data, view["headers"], expected, received)
        if expected:
            self.match(expected, received, exchanges)

    def _expect_headers(
        self,
        data: dict[str, Any],
        headers: dict[str, str],
        expected: dict[str, Any],
        received: dict[str, Any],
    ) -> None:
        if "headers" in data:
            wanted = self.sub(data["headers"])
            expected["headers"], received["headers"] = wanted, headers_view(headers, wanted)
        if "headers_absent" in data:
            names = [n.lower() for n in self.sub(data["headers_absent"])]
            expected["headers_absent"] = []
            received["headers_absent"] = [k for k in headers if k.lower() in names]

    # -- answers -------------------------------------------------------------------------------
    def _take_held(self) -> Event:
        if self.held is None:
            raise CaseError(
                self.label,
                ["there is no session request to answer (add an `expect: request` step before it)"],
            )
        event, self.held = self.held, None
        self.answered_at = event.seq
        return event

    def step_send_commands(self, step: Step) -> None:
        commands = tuple(Command(c[0], tuple(c[1:])) for c in self.sub(step.data["commands"]))
        event = self._take_held()
        body = encode_commands(CommandMessage(commands), self.profile)
        self.server.answer(
            event,
            self.profile.http_ok,
            {self.profile.headers.content_type: self.profile.media.command},
            body,
        )
        self.observer.commands(commands)

    def step_send_answer(self, step: Step) -> None:
        data = self.sub(step.data)
        body = data.get("body", "")
        raw = body.encode() if isinstance(body, str) else dump_json(body)
        status = data.get("status", self.profile.http_ok)
        headers = dict(data.get("headers", {}))
        event = self._take_held()
        self.server.answer(event, status, headers, raw)
        message, problems = judge_server_answer(status, headers, raw, self.profile)
        if message is None or problems:
            self.observer.bad_answer()
        else:
            self.observer.commands(message.commands)

    # -- content, uploads, the browser ---------------------------------------------------------
    def step_expect_fetch(self, step: Step) -> None:
        self._expect_aux(step, "fetch")

    def step_expect_upload(self, step: Step) -> None:
        self._expect_aux(step, "upload")

    def step_expect_browse(self, step: Step) -> None:
        self._expect_aux(step, "browse")

    def _expect_aux(self, step: Step, kind: str) -> None:
        data = step.data
        path = self.sub(data["path"])
        matching = [e for e in self.server.since(self.answered_at, {kind}) if e.path == path]
        if data.get("absent"):
            if matching:
                self.fail(
                    [f"the client made a {kind} request to {path!r} it must not make"],
                    exchanges=tuple(e.exchange for e in matching),
                )
            return
        event = matching[0] if matching else None
        after = self.answered_at
        while event is None:
            event = self._wait({kind}, after)
            if event is None:
                seen = [
                    f"{e.kind} {e.exchange.method} {e.url}"
                    for e in self.server.since(self.answered_at)
                ]
                self.fail(
                    [f"no {kind} request to {path!r} {self._gave_up()}"],
                    received=seen or None,
                    output=self.output(),
                )
            if event.path != path:
                after, event = event.seq, None
        self.cursor = max(self.cursor, event.seq)
        exchange = event.exchange
        view = {
            "method": exchange.method,
            "path": event.path,
            "headers": exchange.request_headers,
            "body": body_json(exchange.request_body, self.profile),
        }
        expected: dict[str, Any] = {}
        received: dict[str, Any] = {}
        if "method" in data:
            expected["method"], received["method"] = data["method"], view["method"]
        if "body" in data:
            expected["body"], received["body"] = self.sub(data["body"]), view["body"]
        self._expect_headers(data, exchange.request_headers, expected, received)
        if expected:
            self.match(expected, received, (exchange,))
        self.save(step, view)

    # -- the end -------------------------------------------------------------------------------
    def step_expect_end(self, step: Step) -> None:
        grace = float(step.data.get("grace_s", 0.05))
        deadline = time.monotonic() + self.timeout_s
        while not self._all_exited() and time.monotonic() < deadline:
            self.check_stop()
            if self.server.since(self.last_session, {"session"}):
                break
            time.sleep(POLL_S)
        time.sleep(grace if self._all_exited() else 0)
        extra = self.server.since(self.last_session, {"session"})
        if extra:
            self.last_session = extra[-1].seq
            self.fail(
                [
                    f"the client sent {len(extra)} more session request(s) after the session "
                    "should have ended"
                ],
                exchanges=tuple(e.exchange for e in extra),
                output=self.output(),
            )
        running = [p for p in self.processes if p.poll() is None]
        if running:
            self.fail(
                [
                    f"the client's process did not exit within {self.timeout_s} s after the "
                    "session ended"
                ],
                output=self.output(),
            )
