"""The harness against hostile implementations (tests/hostile/client.py and server.py): whatever
the peer does, every selected case gets a record with a verdict that says what happened, the run
ends within a bound, and no process of the implementation is left behind. Like Autobahn|Testsuite
and h2spec, a verdict for every case whatever the peer does.

The runs are subprocesses (the harness as a user runs it: plain pytest with the dm20 plugin);
they are started together, a few at a time, and each test waits for its own."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.hostile import client as hostile_client
from tests.hostile import server as hostile_server
from tests.hostile.support import TIMEOUT_S, Run, new_marker, pytest_argv, run_harness, write_dut

CASES = {  # the selected cases of each role, and how many runs (parameter sets) each has
    "client": {"DM20-C-SESSION-001": 1, "DM20-C-HDR-001": 1, "DM20-C-GET-001": 1},
    "server": {"DM20-S-SESSION-001": 1, "DM20-S-SESSION-002": 1, "DM20-S-GET-001": 1},
}
PER_CASE_S = 3 * TIMEOUT_S + 5  # a bound, not a benchmark: every wait and the stop grace
MARGIN_S = 30  # pytest's start and end, on a busy machine
SAFETY_S = 10  # past the bound, the run is stopped (and fails (a))
WORKERS = 4
ESCAPED = "orphan-setsid"  # the child that left the process group with setsid


def bound_s(role: str) -> float:
    return sum(CASES[role].values()) * PER_CASE_S + MARGIN_S


@dataclass(frozen=True)
class Expect:
    """What the records of a hostile run must show."""

    verdicts: frozenset[str]  # each case's verdict is one of these
    says: str  # a regex each non-PASS record's message matches: what the peer did
    passes: frozenset[str] = field(default_factory=frozenset)  # cases the behaviour leaves alone
    breaks: str = ""  # the ID each FAIL record lists as broken (the core saw it in every case)


def expect(verdicts: str, says: str, passes: tuple[str, ...] = (), breaks: str = "") -> Expect:
    return Expect(frozenset(verdicts.split()), says, frozenset(passes), breaks)


NEVER = r"the client never opened a session"
CONTENT_TYPE = r"(?s)requirement DM20-6\.3-002 .*- Content-Type is"
AFTER_END = r"(?s)requirement DM20-6\.2-024 .*after the session ended with END"
CLIENT: dict[str, Expect] = {
    "never-connect": expect("INCONCLUSIVE", NEVER + r" within 2\.0 s"),
    "connect-and-stall": expect("INCONCLUSIVE", NEVER),
    "close-mid-request": expect("INCONCLUSIVE", NEVER + r" \(the client's process exited"),
    "answer-late": expect("INCONCLUSIVE", NEVER + r" within 2\.0 s"),
    "huge-body": expect("FAIL INCONCLUSIVE", r"larger than \d+ bytes|too large", breaks="P2.1"),
    "drip": expect("INCONCLUSIVE", NEVER),
    "invalid-utf8": expect("FAIL", r"not UTF-8", breaks="P2.1"),
    "deep-json": expect("FAIL", r"JSON nested deeper than 64 levels", breaks="P2.1"),
    # every message is judged: the wrong header fails every case, whatever it verifies
    "wrong-content-type": expect("FAIL", CONTENT_TYPE + " 'text/plain'", breaks="DM20-6.3-002"),
    "no-content-type": expect("FAIL", CONTENT_TYPE + " None", breaks="DM20-6.3-002"),
    # SESSION-001's answer is END: the crash comes after the session, which the case accepts
    "crash": expect("FAIL PASS", r"process exited, status 1", ("DM20-C-SESSION-001",)),
    # the orphan client runs a session that answers every command 406
    "orphan": expect("FAIL PASS", r"no fetch request|got 406", ("DM20-C-SESSION-001",)),
    # the cases that send commands see no fetch, or the wrong status, before END is reached
    "endless": expect("FAIL", AFTER_END + r"|no fetch request|expected 501, got 200"),
}
NO_ANSWER = r"no answer from the server: "
SESSION_ENDS = "DM20-5.2-004"
NEVER_ENDS = (
    r"(?s)the session never ended.*no END after \d+ messages of one session"
    r".*POST http://127\.0\.0\.1:\d+"
)
SERVER: dict[str, Expect] = {
    "never-answer": expect("INCONCLUSIVE", NO_ANSWER + "(ReadTimeout|answer not complete within)"),
    "stall": expect("INCONCLUSIVE", NO_ANSWER + "(ReadTimeout|answer not complete within)"),
    "close-mid-response": expect("INCONCLUSIVE", NO_ANSWER + "RemoteProtocolError"),
    "answer-late": expect("INCONCLUSIVE", NO_ANSWER + "(ReadTimeout|answer not complete within)"),
    "huge-body": expect("INCONCLUSIVE", NO_ANSWER + r".*larger than 1048576 bytes"),
    "drip": expect("INCONCLUSIVE", NO_ANSWER + r".*not complete within 2\.0 s"),
    "invalid-utf8": expect("FAIL", r"not UTF-8", breaks="DM20-6-004"),
    "deep-json": expect("FAIL", r"JSON nested deeper than 64 levels", breaks="DM20-6-004"),
    "wrong-content-type": expect("FAIL", r"Content-Type is 'text/plain'", breaks="DM20-6.2-002"),
    "no-content-type": expect("FAIL", r"Content-Type is None", breaks="DM20-6.2-002"),
    "cont-loop": expect("FAIL", NEVER_ENDS + r"/dm/[ab]\s", breaks=SESSION_ENDS),
    "never-end": expect("FAIL", NEVER_ENDS + r"/dm\s", breaks=SESSION_ENDS),
    "ten-thousand": expect("FAIL", r"CMD: 10000 items, more than 1000", breaks="DM20-6-004"),
    # the server dies in the second message of the first session: the later cases never connect
    "crash": expect("FAIL INCONCLUSIVE", NO_ANSWER + r".*\(the server process exited"),
    # a plain server that ends every session at once: SESSION-001 asks no more of it
    "orphan": expect("FAIL PASS", r"the session ended without", ("DM20-S-SESSION-001",)),
}
assert set(CLIENT) == set(hostile_client.BEHAVIOURS)
assert set(SERVER) == set(hostile_server.BEHAVIOURS)
MAX_MESSAGE = 64_000  # a record's message is read by people; a peer must not blow it up


def params(role: str) -> list:
    out = []
    for behaviour in CLIENT if role == "client" else SERVER:
        out.append(pytest.param(behaviour, id=behaviour))
    return out


# -- running them ------------------------------------------------------------------------------
ROWS: list[tuple[str, ...]] = []
NOTES: list[str] = []


def launch(role: str, behaviour: str, folder: Path) -> Run:
    marker = new_marker(behaviour)
    dut = write_dut(role, behaviour, folder, marker)
    keyword = " or ".join(CASES[role])
    argv = pytest_argv(folder / "rep", folder, dut=dut, keyword=keyword)
    run = run_harness(argv, folder, folder / "rep", bound_s(role) + SAFETY_S, marker)
    verdicts = ", ".join(sorted({r.verdict.value for r in run.records})) or "-"
    seconds = sum(r.seconds for r in run.records)
    escaped = sum(ESCAPED in cmd for _, cmd in run.leftovers)
    stayed = len(run.leftovers) - escaped
    ROWS.append(
        (
            role,
            behaviour,
            verdicts,
            f"{run.wall_s:.1f}" + ("" if run.finished else " (killed)"),
            f"{seconds:.1f}",
            f"{stayed}+{escaped} setsid" if escaped else str(stayed),
        )
    )
    return run


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A future Run per (role, behaviour) of the selected tests, started together."""
    futures: dict[tuple[str, str], Future[Run]] = {}
    pool = ThreadPoolExecutor(WORKERS)

    def get(role: str, behaviour: str) -> Future[Run]:
        if (role, behaviour) not in futures:
            folder = tmp_path_factory.mktemp(f"{role}-{behaviour}")
            futures[(role, behaviour)] = pool.submit(launch, role, behaviour, folder)
        return futures[(role, behaviour)]

    if not hasattr(request.config, "workerinput"):  # under xdist, each test starts its own
        for item in request.session.items:
            spec = getattr(item, "callspec", None)
            if item.module is request.module and spec and "behaviour" in spec.params:
                get("client" if "client" in item.name else "server", spec.params["behaviour"])
    yield get
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module", autouse=True)
def table(request: pytest.FixtureRequest):
    """At the end of the module: behaviour -> verdicts -> seconds, on the terminal."""
    yield
    if not ROWS:
        return
    head = ("role", "behaviour", "verdicts", "wall s", "case s", "left")
    rows = [head, *sorted(ROWS)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "",
        f"hostile implementations: verdicts and time (timeout_s {TIMEOUT_S}, 3 cases a run)",
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines += ["left: processes of the DUT still there after the run (then killed by the test)"]
    lines += NOTES
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n".join(lines))


# -- the checks --------------------------------------------------------------------------------
def check(role: str, behaviour: str, run: Run, want: Expect) -> None:
    cases = CASES[role]
    bound = bound_s(role)
    # (a) the run ended, within the bound, as a run with failures (not a crash of pytest)
    late = f"not finished {bound + SAFETY_S} s after it started"
    assert run.finished, f"{late}:\n{run.output[-3000:]}"
    assert run.wall_s <= bound, f"{run.wall_s:.0f} s, more than the bound of {bound} s"
    assert "INTERNALERROR" not in run.output, run.output[-3000:]
    assert run.returncode == 1, f"exit status {run.returncode}:\n{run.output[-3000:]}"
    # (b) one record per selected case run, a verdict that says what the peer did
    seen = Counter(r.case for r in run.records)
    assert seen == Counter(cases), f"records for {dict(seen)}, selected {cases}"
    assert len({r.name for r in run.records}) == len(run.records), "a case run recorded twice"
    for record in run.records:
        case, verdict, message = record.name, record.verdict.value, record.message
        assert verdict in want.verdicts, f"{case}: {verdict}, expected {set(want.verdicts)}"
        assert len(message) <= MAX_MESSAGE, f"{case}: a message of {len(message)} characters"
        if verdict == "PASS":
            assert record.case in want.passes, f"{case} PASSED against a {behaviour} {role}"
            assert not record.failed and not message, f"{case}: PASS with {record.failed}"
        else:
            assert re.search(want.says, message), f"{case}: {want.says!r} not in:\n{message}"
        if verdict == "FAIL" and want.breaks:
            assert want.breaks in record.failed, f"{case}: broke {record.failed}"
    # (c) nothing left behind but what escaped the process group on purpose (reported)
    stayed = [cmd for _, cmd in run.leftovers if ESCAPED not in cmd]
    assert not stayed, f"processes left behind: {stayed}"


@pytest.mark.parametrize("behaviour", params("client"))
def test_hostile_client(behaviour: str, runs) -> None:
    check("client", behaviour, runs("client", behaviour).result(), CLIENT[behaviour])


@pytest.mark.parametrize("behaviour", params("server"))
def test_hostile_server(behaviour: str, runs) -> None:
    check("server", behaviour, runs("server", behaviour).result(), SERVER[behaviour])


@pytest.mark.parametrize("role", ["client", "server"])
def test_setsid_orphan_is_stopped(role: str, runs) -> None:
    """A child that left the DUT's process group with setsid is out of the group's reach; the
    harness finds it by the token in its environment and stops it too."""
    run = runs(role, "orphan").result()
    assert run.finished
    escaped = [pid for pid, cmd in run.leftovers if ESCAPED in cmd]
    NOTES.append(f"{role} orphan: {len(escaped)} setsid child(ren) outlived the harness run")
    assert not escaped
