"""The harness against hostile implementations (tests/hostile/client.py and server.py): whatever
the peer does, every selected case gets a record with a verdict that says what happened, the run
ends within a bound, and no process of the implementation is left behind. Like Autobahn|Testsuite
and h2spec, a verdict for every case whatever the peer does.

The runs are subprocesses (the harness as a user runs it: plain pytest with the dm20 plugin);
they are started together, a few at a time, and each test waits for its own."""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.hostile import client as hostile_client
from tests.hostile import server as hostile_server
from tests.hostile.support import TIMEOUT_S, Run, new_marker, pytest_argv, run_harness, write_dut

CASES = {
    "client": ("DM20-C-SESSION-001", "DM20-C-HDR-001", "DM20-C-GET-001"),
    "server": ("DM20-S-SESSION-001", "DM20-S-SESSION-002", "DM20-S-GET-001"),
}
PER_CASE_S = 3 * TIMEOUT_S + 5  # a bound, not a benchmark: every wait and the stop grace
MARGIN_S = 30  # pytest's start and end, on a busy machine
SAFETY_S = 10  # past the bound, the run is stopped (and fails (a))
WORKERS = 4
ESCAPED = "orphan-setsid"  # the child that left the process group with setsid


def bound_s(role: str) -> float:
    return len(CASES[role]) * PER_CASE_S + MARGIN_S


@dataclass(frozen=True)
class Expect:
    """What the records of a hostile run must show."""

    verdicts: frozenset[str]  # each case's verdict is one of these
    says: str  # a regex each non-PASS record's message matches: what the peer did
    passes: frozenset[str] = field(default_factory=frozenset)  # cases the behaviour leaves alone
    observed: str = ""  # a regex a PASS record's observations match (the rule it broke elsewhere)


def expect(verdicts: str, says: str, passes: tuple[str, ...] = (), observed: str = "") -> Expect:
    return Expect(frozenset(verdicts.split()), says, frozenset(passes), observed)


NEVER = r"the client never opened a session"
CONTENT_TYPE = r"\[DM20-6\.3-002\] Content-Type is"
CLIENT: dict[str, Expect] = {
    "never-connect": expect("INCONCLUSIVE", NEVER + r" within 2\.0 s"),
    "connect-and-stall": expect("INCONCLUSIVE", NEVER),
    "close-mid-request": expect("INCONCLUSIVE", NEVER + r" \(the client's process exited"),
    "answer-late": expect("INCONCLUSIVE", NEVER + r" within 2\.0 s"),
    "huge-body": expect("FAIL INCONCLUSIVE", r"larger than \d+ bytes|too large"),
    "drip": expect("INCONCLUSIVE", NEVER),
    "invalid-utf8": expect("FAIL", r"not UTF-8"),
    "deep-json": expect("FAIL", r"JSON nested deeper than 64 levels"),
    "wrong-content-type": expect(
        "FAIL PASS", CONTENT_TYPE + " 'text/plain'", ("DM20-C-SESSION-001",), CONTENT_TYPE
    ),
    "no-content-type": expect(
        "FAIL PASS", CONTENT_TYPE + " None", ("DM20-C-SESSION-001",), CONTENT_TYPE
    ),
    # SESSION-001's answer is END: the crash comes after the session, which the case accepts
    "crash": expect("FAIL PASS", r"process exited, status 1", ("DM20-C-SESSION-001",)),
    # the orphan client runs a session that answers every command 406
    "orphan": expect("FAIL PASS", r"no fetch request|got 406", ("DM20-C-SESSION-001",)),
    "endless": expect("FAIL", r"more session request|got 200|no fetch request"),
}
NO_ANSWER = r"no answer from the server: "
SERVER: dict[str, Expect] = {
    "never-answer": expect("INCONCLUSIVE", NO_ANSWER + "(ReadTimeout|answer not complete within)"),
    "stall": expect("INCONCLUSIVE", NO_ANSWER + "(ReadTimeout|answer not complete within)"),
    "close-mid-response": expect("INCONCLUSIVE", NO_ANSWER + "RemoteProtocolError"),
    "answer-late": expect("INCONCLUSIVE", NO_ANSWER + "(ReadTimeout|answer not complete within)"),
    "huge-body": expect("INCONCLUSIVE", NO_ANSWER + r".*larger than 1048576 bytes"),
    "drip": expect("INCONCLUSIVE", NO_ANSWER + r".*not complete within 2\.0 s"),
    "invalid-utf8": expect("FAIL", r"not UTF-8"),
    "deep-json": expect("FAIL", r"JSON nested deeper than 64 levels"),
    "wrong-content-type": expect("FAIL", r"Content-Type is 'text/plain'"),
    "no-content-type": expect("FAIL", r"Content-Type is None"),
    "cont-loop": expect("FAIL", r"CONT"),
    "never-end": expect("FAIL", r"oma-dm-conformance:1\.0/99"),
    "ten-thousand": expect("FAIL", r"is too long|more than 1000"),
    "crash": expect("FAIL INCONCLUSIVE", r"not sent|" + NO_ANSWER),
    "orphan": expect("FAIL PASS", r"not sent|expected 2 items", ("DM20-S-SESSION-001",)),
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
    verdicts = ", ".join(sorted({r["verdict"] for r in run.records})) or "-"
    seconds = sum(r.get("seconds", 0) for r in run.records)
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
    lines = ["", "hostile implementations: verdicts and time (timeout_s 2, 3 cases a run)"]
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
    # (b) one record per selected case, a verdict that says what the peer did
    seen = sorted(r["case"] for r in run.records)
    assert seen == sorted(cases), f"records for {seen}, selected {sorted(cases)}"
    for record in run.records:
        case, verdict, message = record["case"], record["verdict"], record["message"]
        assert verdict in want.verdicts, f"{case}: {verdict}, expected {set(want.verdicts)}"
        assert len(message) <= MAX_MESSAGE, f"{case}: a message of {len(message)} characters"
        if verdict == "PASS":
            assert case in want.passes, f"{case} PASSED against a {behaviour} {role}"
            if want.observed:
                assert any(re.search(want.observed, o) for o in record["observations"]), (
                    f"{case}: PASS without the observation {want.observed!r}"
                )
        else:
            assert re.search(want.says, message), f"{case}: {want.says!r} not in:\n{message}"
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
