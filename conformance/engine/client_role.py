"""Client-role cases: the implementation under test is a DM client and the harness is its server.
Every request the client makes is routed to its session and judged by the core (headers,
statuses, URL, state) whatever the case expects; the case talks to one session at a time, and
the sessions it does not wait for (an alert the client may send, seed 5.2, A10) are answered
with END so the client is never left hanging. `one_of` and `any_order` take the freedoms the
draft leaves (A13: refuse or accept content; A14: the alert before or after the statuses)."""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, NoReturn, TypeVar

from conformance.core import rules
from conformance.core.codec import encode_commands
from conformance.core.judge import judge_server_answer, judge_statuses
from conformance.core.messages import ClientMessage, Command, CommandMessage
from conformance.core.observer import DeviceObserver, Routed, SessionObserver
from conformance.core.rules import Finding
from conformance.core.wire import dump_json
from conformance.engine.matching import mismatches
from conformance.engine.model import Step
from conformance.engine.outcomes import Problem
from conformance.engine.records import Verdict
from conformance.engine.runner import CaseRun, in_another_order
from conformance.engine.views import body_json, headers_view, request_view
from conformance.roles.exchange import HttpExchange
from conformance.roles.processes import DutProcess
from conformance.roles.reference_server import Event, ReferenceServer, Served

POLL_S = 0.02  # how soon a wait notices a new request or that the client's process has exited
EXIT_GRACE_S = 0.3  # after the client's processes exited, how long a request may still be in flight
T = TypeVar("T")
UNREAD = (
    "the message cannot be read: what the step expects of its content is not judged (the rules "
    "it breaks are listed)"
)
PARTS_BROKEN = (
    "the INCLUDE parts are not one per INCLUDE that succeeded: what the step expects of them is "
    "not judged (the rules they break are listed)"
)


def _saves_from(data: dict[str, Any], key: str) -> bool:
    """Whether a step's `save` reads a value from `key` of what it received."""
    return any(str(path).startswith(key) for path in (data.get("save") or {}).values())


@dataclass
class Flow:
    """Where a flow of steps stands (the case's, or one branch of `any_order`): the session it
    talks to, the request it took and must answer, what it answered last."""

    session: SessionObserver | None = None
    held: Event | None = None
    answered_at: int = 0  # sequence number of the request the last `send` answered
    cursor: int = 0  # sequence number of the latest request a step of the flow looked at


class ClientRoleRun(CaseRun):
    """One client-role case against one DUT client."""

    def execute(self) -> None:
        self.server = ReferenceServer(self.profile, self.timeout_s, network=self.settings.network)
        self.processes: list[DutProcess] = []
        self.asked_operator = False  # a manual step was printed: no process tells when it is done
        self.observer = DeviceObserver(self.profile)
        self.flow = Flow()
        self.pumped = 0  # the last request routed
        self.strays = 0  # the last stray request looked at
        self.inbox: dict[int, list[Event]] = {}  # requests of each session no step took yet
        self.unclaimed: list[tuple[Event, SessionObserver | None]] = []  # new sessions
        self.messages: dict[int, ClientMessage | None] = {}
        self.sessions_of: dict[int, SessionObserver | None] = {}
        # a status message's commands and what the core counted of its INCLUDE parts
        self.include_counts: dict[int, tuple[tuple[Command, ...], list[Finding]]] = {}
        self.preset: Event | None = None  # a request a `one_of` or `any_order` already took
        self.skipped: set[int] = set()  # steps of `one_of` branches that did not happen
        with self.server:
            self.names.update(
                server_url=self.server.url("dm"),
                content_url=self.server.url("content"),
                web_url=self.server.url("web"),
            )
            self.bind_params()
            self._serve_content()
            try:
                self.run_steps(self.case.steps)
                self._release_all()
            finally:
                for process in self.processes:
                    process.stop()

    def transcript(self, finished: bool = False) -> list[HttpExchange]:
        server = getattr(self, "server", None)
        events = server.since(0) if server else []
        return [e.exchange for e in events if finished or e.answered.is_set()]

    def _serve_content(self) -> None:
        """The case's documents, upload answers and pages, on the reference server."""
        server = self.server
        for name, item in self.sub(self.case.content).items():
            if "raw" in item:
                raw = item["raw"]
                server.content[name] = Served(
                    raw.get("status", 200),
                    raw.get("content_type", self.profile.media.tnds),
                    raw["body"].encode(),
                )
            elif "upload_status" in item:
                server.uploads[name] = item["upload_status"]
            else:
                server.content[name] = Served(200, self.profile.media.tnds, dump_json(item))
        for name, html in self.sub(self.case.pages).items():
            server.pages[name] = Served(200, self.profile.media.web, html.encode())

    def output(self) -> str:
        return "\n".join(p.output() for p in self.processes)

    @contextlib.contextmanager
    def using(self, flow: Flow) -> Iterator[None]:
        outer, self.flow = self.flow, flow
        try:
            yield
        finally:
            self.flow = outer

    # -- routing every request ------------------------------------------------------------------
    def pump(self, hold: int) -> None:
        """Route the requests that came in since the last call to their sessions (judging each),
        then answer with END the new sessions beyond the `hold` that later steps wait for."""
        for event in self.server.since(self.pumped, {"session"}):
            self.pumped = event.seq
            exchange = event.exchange
            if event.problem:
                routed = Routed(None, [Finding(rules.CLIENT_BODY, event.problem)], None)
            else:
                routed = self.observer.client_message(
                    event.url, exchange.request_headers, exchange.request_body
                )
            self.observe(routed.findings)
            self.messages[event.seq] = routed.message
            if routed.session is not None and not routed.first:
                counted = [f for f in routed.findings if f.rule in rules.INCLUDE_COUNT]
                self.include_counts[event.seq] = (routed.session.sent, counted)
            session = routed.session
            if session is None:  # unreadable: the status message of an open session, or new
                waiting = [s for s in self.observer.sessions if s.awaiting_statuses]
                session = waiting[-1] if waiting else None
            self.sessions_of[event.seq] = session
            if session is None or routed.first:
                self.unclaimed.append((event, session))
            else:
                self.inbox.setdefault(session.number, []).append(event)
        while len(self.unclaimed) > hold:
            event, session = self.unclaimed.pop(hold)
            self.answer_end(event, session)
        session_url = self.names["server_url"]
        for event in self.server.since(self.strays, {"stray"}):
            self.strays = event.seq
            if event.url.startswith(session_url):
                what = f"{event.exchange.method} {event.url}: a session request is an HTTP POST"
                self.observe([Finding(rules.SESSION_BY_POST, what)])

    def answer_end(self, event: Event, session: SessionObserver | None) -> None:
        """Answer a request no step waits for with END: the client is not left hanging."""
        end = Command(self.profile.for_action("end").name)
        self.server.answer(
            event,
            self.profile.http_ok,
            {self.profile.headers.content_type: self.profile.media.command},
            encode_commands(CommandMessage((end,)), self.profile),
        )
        if session is not None:
            session.commands((end,))

    def _release_all(self) -> None:
        """At the end of the case: answer whatever request is still waiting."""
        self.pump(0)
        for events in self.inbox.values():
            for event in events:
                if not event.answered.is_set():
                    self.answer_end(event, self.sessions_of.get(event.seq))
        self.inbox.clear()

    def hold(self) -> int:
        """How many new sessions steps still wait for: every `expect: request` with `first:
        true` not done yet, and the `open: session` that is running."""
        done = {id(s) for s in self.completed} | self.skipped
        later = sum(
            1
            for s in self.case.all_steps()
            if s.kind.key == "expect request" and s.data.get("first") and id(s) not in done
        )
        opening = self.step is not None and self.step.kind.key == "open session"
        return later + int(opening)

    # -- waiting --------------------------------------------------------------------------------
    def _all_exited(self) -> bool:
        return all(p.poll() is not None for p in self.processes)

    def _gone(self) -> bool:
        """Whether the client can send nothing more: every process it was started as has exited
        (and no operator was asked to act: a device that an operator drives has no process)."""
        return bool(self.processes) and self._all_exited() and not self.asked_operator

    def wait(self, ready: Callable[[], T | None], hold: int | None = None) -> T | None:
        """What `ready` finds, routing requests meanwhile, within the timeout; None once the time
        is up or every DUT process has exited (and a moment has passed for what was in flight)."""
        deadline = time.monotonic() + self.timeout_s
        exited_at = None
        while time.monotonic() < deadline:
            self.check_stop()
            self.pump(self.hold() if hold is None else hold)
            found = ready()
            if found is not None:
                return found
            if self._gone():
                exited_at = exited_at or time.monotonic()
                if time.monotonic() - exited_at > EXIT_GRACE_S:
                    return None
            self.server.wait_for(Event.KINDS, self.server.last_seq(), POLL_S)
        return None

    def _tls_note(self) -> str:
        """What the TLS handshakes that failed say (a device that does not trust the harness's
        certificate, or that speaks plain HTTP to it)."""
        failures = self.server.tls_failures
        tls = self.settings.network.tls
        if not failures or tls is None:
            return ""
        return (
            f"; {len(failures)} TLS handshake(s) with the harness failed, the first: "
            f"{failures[0]} (the harness presents {tls.source})"
        )

    def _gave_up(self) -> str:
        """Why a wait ended empty: the time ran out, or the client's processes had exited."""
        if self._gone():
            codes = ", ".join(str(p.poll()) for p in self.processes)
            return f"(the client's process exited, status {codes})"
        if self.asked_operator:
            return f"within {self.timeout_s} s of asking the operator"
        return f"within {self.timeout_s} s"

    # -- starting the client --------------------------------------------------------------------
    def step_start(self, step: Step) -> None:
        self._start(step.data["start"], step.data)

    def _start(self, what: str, data: dict[str, Any]) -> None:
        dut = self.settings.dut
        if not dut.has(what):
            self.fail(
                [Problem((), f"the DUT file has no client.{what} command")], verdict=Verdict.ERROR
            )
        tls = self.settings.network.tls
        values = {
            "server_url": self.names["server_url"],
            "state_dir": str(self.state_dir()),
            "ca_file": str(tls.ca_file) if tls and tls.ca_file else "",  # empty without TLS
        }
        if what == "config_request":
            values.update(
                moid=self.sub(data.get("moid", "")),
                initiated_by=self.sub(data.get("initiated_by", "")),
            )
        if dut.is_manual(what):
            self._ask_operator(what, values)
            return
        argv = dut.argv(what, values)
        self.pump(self.hold())
        self.observer.settle()
        log = self.settings.workdir / f"dut-{len(self.processes) + 1}-{what}.log"
        try:
            self.processes.append(DutProcess(argv, dut.folder, log))
        except OSError as exc:
            self.fail(
                [Problem((), f"cannot start {argv[0]!r}: {exc}")], verdict=Verdict.INCONCLUSIVE
            )

    def _ask_operator(self, what: str, values: dict[str, Any]) -> None:
        """A manual step: print the instruction and the values it needs; the step that follows
        waits for the device's request (bounded by the timeout), not for a keypress."""
        try:
            instruction = self.settings.dut.instruction(what, values)
        except ValueError as exc:
            self.fail([Problem((), str(exc))], verdict=Verdict.ERROR)
        self.pump(self.hold())
        self.observer.settle()
        self.asked_operator = True
        name = self.settings.case_name or self.case.id
        self.settings.operator.ask(name, f"client.{what}", instruction, values, self.timeout_s)

    def state_dir(self) -> Any:
        path = self.settings.workdir / "state"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def step_open_session(self, step: Step) -> None:
        after = self.server.last_seq()
        self._start("session", step.data)
        event = self.preset or self.wait(lambda: self._claim(after))
        self.preset = None
        if event is None:
            self._no_request(step, first=True)
        self.flow.cursor = 0
        self._check_request(step, event)

    # -- session requests -----------------------------------------------------------------------
    def _claim(self, after: int = 0) -> Event | None:
        """The oldest new session (after sequence number `after`) that no step took: it becomes
        the session the flow talks to."""
        for index, (event, session) in enumerate(self.unclaimed):
            if event.seq > after:
                del self.unclaimed[index]
                self.flow.session = session
                return event
        return None

    def _next_of_session(self) -> Event | None:
        session = self.flow.session
        waiting = self.inbox.get(session.number, []) if session is not None else []
        return waiting.pop(0) if waiting else None

    def take_request(self, step: Step) -> Event | None:
        """The request a step looks at, without waiting: a new session's first message (`first:
        true`) or the next message of the flow's session."""
        if step.data.get("first"):
            return self._claim()
        return self._next_of_session()

    def step_expect_request(self, step: Step) -> None:
        if not step.data.get("first") and self.flow.session is None:
            self.fail(
                [Problem((), "no session to expect a request of (open one, or use first: true)")],
                verdict=Verdict.ERROR,
            )
        event = self.preset or self.wait(lambda: self.take_request(step))
        self.preset = None
        if event is None:
            self._no_request(step, first=bool(step.data.get("first")))
        self._check_request(step, event)

    def _no_request(self, step: Step, first: bool) -> NoReturn:
        self.pump(0)
        never = not self.server.since(0, {"session"})
        if never and any(f.rule == rules.SESSION_BY_POST.key for f in self.observed.values()):
            self.fail(
                [Problem.of(rules.SESSION_BY_POST, "the client never POSTed a session")],
                output=self.output(),
            )
        if never:
            why = f"the client never opened a session {self._gave_up()}{self._tls_note()}"
            self.fail(
                [Problem((), why)],
                verdict=Verdict.INCONCLUSIVE,
                output=self.output(),
            )
        if first:
            problem = self.problem(f"the client opened no further session {self._gave_up()}")
        else:
            problem = Problem.of(
                rules.SESSION_CONTINUES,
                f"no status message for the commands the client was sent {self._gave_up()}",
            )
        self.fail([problem], output=self.output())

    def _check_request(self, step: Step, event: Event) -> None:
        self.flow.held = event
        message = self.messages.get(event.seq)
        problems, expected, received = self.request_problems(step, event, message)
        if event.seq < self.flow.cursor and not step.data.get("first"):
            problems.append(
                self.problem(
                    f"this message came before what the previous step saw (request #{event.seq} "
                    f"before #{self.flow.cursor}): the client sent it before it had carried out "
                    "the commands"
                )
            )
        self.flow.cursor = max(self.flow.cursor, event.seq)
        if problems:
            self.fail(
                problems,
                expected=expected,
                received=received,
                exchanges=(event.exchange,),
                output=self.output(),
            )
        self.save(step, request_view(event.exchange, message, self.profile))

    def request_problems(
        self, step: Step, event: Event, message: ClientMessage | None
    ) -> tuple[list[Problem], dict[str, Any], dict[str, Any]]:
        """Every way a request departs from what a step expects (nothing raised). What the core
        found broken in the message is not judged again as what the step verifies: of a message
        the core cannot read, only what can be read (URL, headers, the JSON body) is compared;
        of INCLUDE parts that break A8 or DM20-6.2-015, nothing the step expects of them."""
        view = request_view(event.exchange, message, self.profile)
        data = step.data
        statuses: list[Problem] = []
        if "statuses" in data and message is not None:
            wanted = self.expected_statuses(data["statuses"])
            got = view.get("statuses")
            statuses = self.status_problems(wanted, got)
            order = in_another_order(wanted, got or [])
            if order is not None:
                self.count_includes_again(event, message, order)
        parts_broken = bool(self.include_counts.get(event.seq, ((), []))[1])
        expected: dict[str, Any] = {}
        received: dict[str, Any] = {}
        if "url" in data:
            expected["url"], received["url"] = self.sub(data["url"]), view["url"]
        content = (
            () if message is None else ("devinfo",) if parts_broken else ("includes", "devinfo")
        )
        for key in (*content, "body"):
            if key in data:
                expected[key], received[key] = self.sub(data[key]), view.get(key)
        if "alerts" in data and message is not None:
            expected["alerts"] = self.expected_alerts(data["alerts"])
            received["alerts"] = view.get("alerts")
        self._expect_headers(data, view["headers"], expected, received)
        ordered = self.include_order(expected, received)
        compared = {k: v for k, v in expected.items() if not (ordered and k == "includes")}
        problems = [self.problem(t) for t in mismatches(compared, received)] + ordered + statuses
        if "statuses" in data and message is not None:
            expected["statuses"], received["statuses"] = wanted, got
        if message is None:
            problems.append(Problem((), UNREAD))
        elif parts_broken and ("includes" in data or _saves_from(data, "includes")):
            problems.append(Problem((), PARTS_BROKEN))
        return problems, expected, received

    def include_order(self, expected: dict[str, Any], received: dict[str, Any]) -> list[Problem]:
        """Parts that are the ones the case expects in another order break A8's command order,
        not what the step verifies (the caller then leaves them out of the comparison)."""
        wanted, got = expected.get("includes"), received.get("includes")
        if not isinstance(wanted, list) or not isinstance(got, list) or not mismatches(wanted, got):
            return []
        if in_another_order(wanted, got) is None:
            return []
        found = "; ".join(mismatches(wanted, got, "includes"))
        return [Problem.of(rules.INCLUDE_PARTS_ORDER, f"the parts are in another order: {found}")]

    def count_includes_again(self, event: Event, message: ClientMessage, order: list[int]) -> None:
        """The case shows the statuses came in another order: which INCLUDE succeeded is read
        again from the status that is its own (A8), in place of what was read by position."""
        commands, counted = self.include_counts.get(event.seq, ((), []))
        self.withdraw(counted)
        statuses = tuple(message.statuses[i] for i in order)
        again = judge_statuses(commands, replace(message, statuses=statuses), self.profile)
        recounted = [f for f in again if f.rule in rules.INCLUDE_COUNT]
        self.observe(recounted)
        self.include_counts[event.seq] = (commands, recounted)

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

    # -- answers --------------------------------------------------------------------------------
    def _take_held(self) -> Event:
        event = self.flow.held
        if event is None or event.answered.is_set():
            self.fail(
                [Problem((), "there is no request to answer (expect one before this step)")],
                verdict=Verdict.ERROR,
            )
        self.flow.held = None
        self.flow.answered_at = event.seq
        return event

    def step_send_commands(self, step: Step) -> None:
        commands = tuple(Command(c[0], tuple(c[1:])) for c in self.sub(step.data["commands"]))
        self._send(commands)

    def _send(self, commands: tuple[Command, ...]) -> None:
        event = self._take_held()
        self.server.answer(
            event,
            self.profile.http_ok,
            {self.profile.headers.content_type: self.profile.media.command},
            encode_commands(CommandMessage(commands), self.profile),
        )
        session = self.sessions_of.get(event.seq)
        if session is not None:
            session.commands(commands)

    def step_send_answer(self, step: Step) -> None:
        data = self.sub(step.data)
        body = data.get("body", "")
        raw = body.encode() if isinstance(body, str) else dump_json(body)
        status = data.get("status", self.profile.http_ok)
        headers = dict(data.get("headers", {}))
        event = self._take_held()
        self.server.answer(event, status, headers, raw)
        message, problems = judge_server_answer(status, headers, raw, self.profile)
        session = self.sessions_of.get(event.seq)
        if session is None:
            return
        if message is None or any(p.failed for p in problems):
            session.bad_answer()
        else:
            session.commands(message.commands)

    # -- content, uploads, the browser ----------------------------------------------------------
    def step_expect_fetch(self, step: Step) -> None:
        self._expect_aux(step, "fetch")

    def step_expect_upload(self, step: Step) -> None:
        self._expect_aux(step, "upload")

    def step_expect_browse(self, step: Step) -> None:
        self._expect_aux(step, "browse")

    def _aux(self, step: Step, kind: str) -> Event | None:
        path = self.sub(step.data["path"])
        found = [e for e in self.server.since(self.flow.answered_at, {kind}) if e.path == path]
        return found[0] if found else None

    def _expect_aux(self, step: Step, kind: str) -> None:
        data = step.data
        if data.get("absent"):
            self.pump(self.hold())
            found = self._aux(step, kind)
            if found is not None:
                self.fail(
                    [
                        self.problem(
                            f"the client made a {kind} request to {found.path!r} it must not make"
                        )
                    ],
                    exchanges=(found.exchange,),
                )
            return
        event = self.wait(lambda: self._aux(step, kind))
        if event is None:
            seen = [
                f"{e.kind} {e.exchange.method} {e.url}"
                for e in self.server.since(self.flow.answered_at)
            ]
            self.fail(
                [
                    self.problem(
                        f"no {kind} request to {self.sub(data['path'])!r} {self._gave_up()}"
                    )
                ],
                received=seen or None,
                output=self.output(),
            )
        self.flow.cursor = max(self.flow.cursor, event.seq)
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
            expected["method"], received["method"] = self.sub(data["method"]), view["method"]
        if "body" in data:
            expected["body"], received["body"] = self.sub(data["body"]), view["body"]
        self._expect_headers(data, exchange.request_headers, expected, received)
        if expected:
            self.match(expected, received, (exchange,))
        self.save(step, view)

    def _aux_pending(self, step: Step) -> bool:
        """Whether `step` expects a fetch, upload or browse that has not come yet."""
        kind = step.kind.key.removeprefix("expect ")
        if kind not in ("fetch", "upload", "browse") or step.data.get("absent"):
            return False
        return self._aux(step, kind) is None

    # -- the end --------------------------------------------------------------------------------
    def step_expect_end(self, step: Step) -> None:
        """Every DUT process exits; sessions opened meanwhile are answered with END; whatever
        more of a session comes after its END is the core's finding (seed 6.2 END)."""
        deadline = time.monotonic() + self.timeout_s
        while not self._all_exited() and time.monotonic() < deadline:
            self.check_stop()
            self._release_all()
            self.server.wait_for(Event.KINDS, self.server.last_seq(), POLL_S)
        time.sleep(float(step.data.get("grace_s", 0.05)) if self._all_exited() else 0)
        self._release_all()
        for process in self.processes:  # one still running after the timeout is stopped
            process.stop()

    def step_close_session(self, step: Step) -> None:
        self._send((Command(self.profile.for_action("end").name),))
        self.step_expect_end(step)

    # -- branches -------------------------------------------------------------------------------
    def step_one_of(self, step: Step) -> None:
        """Run the branch whose first step fits what the client does first."""
        heads = [b.steps[0] for b in step.branches]
        ends = [h for h in heads if h.kind.key == "expect end"]
        requests = [h for h in heads if h.kind.key == "expect request"]
        first = any(h.data.get("first") for h in requests)
        probe = Step(heads[0].path, requests[0].kind, {"first": first}, None) if requests else None
        event = self.wait(lambda: self.take_request(probe)) if probe else None
        if event is None:
            if ends:
                branch = step.branches[heads.index(ends[0])]
                for other in step.branches:
                    if other is not branch:
                        self.skipped.update(id(s) for st in other.steps for s in st.walk())
                self.run_steps(branch.steps)
                return
            self._no_request(step, first=first)
        tried: list[Problem] = []
        message = self.messages.get(event.seq)
        for branch, head in zip(step.branches, heads, strict=True):
            if head.kind.key != "expect request":
                continue
            problems, _, _ = self.request_problems(head, event, message)
            if not problems:
                self.preset = event
                for other in step.branches:
                    if other is not branch:
                        self.skipped.update(id(s) for st in other.steps for s in st.walk())
                self.run_steps(branch.steps)
                return
            tried += [Problem(p.bases, f"{branch.name}: {p.text}") for p in problems]
        if ends:  # a request came where the branch of the end waited for none
            tried.append(
                self.problem(f"{step.branches[heads.index(ends[0])].name}: a request came")
            )
        self.fail(tried, exchanges=(event.exchange,), output=self.output())

    def step_any_order(self, step: Step) -> None:
        """Run every branch, each as far as the client lets it, in whatever order it acts."""
        flows = [copy.copy(self.flow) for _ in step.branches]
        for flow in flows:
            flow.held = None
        positions = [0] * len(step.branches)
        deadline = time.monotonic() + self.timeout_s
        while any(p < len(b.steps) for p, b in zip(positions, step.branches, strict=True)):
            progressed = False
            for index, branch in enumerate(step.branches):
                if positions[index] >= len(branch.steps):
                    continue
                head = branch.steps[positions[index]]
                with self.using(flows[index]):
                    self.pump(self.hold())
                    if head.kind.key == "expect request":
                        event = self.take_request(head)
                        if event is None:
                            continue
                        self.preset = event
                    elif self._aux_pending(head):
                        continue
                    self.run_step(head)
                positions[index] += 1
                progressed = True
                deadline = time.monotonic() + self.timeout_s
            if progressed:
                continue
            self.check_stop()
            if time.monotonic() > deadline or self._gone():
                waiting = [
                    f"{b.name}: {b.steps[p].label}"
                    for p, b in zip(positions, step.branches, strict=True)
                    if p < len(b.steps)
                ]
                self.fail(
                    [self.problem(f"still waiting {self._gave_up()} for " + "; ".join(waiting))],
                    output=self.output(),
                )
            self.server.wait_for(Event.KINDS, self.server.last_seq(), POLL_S)
        self.flow.session = flows[0].session
