"""Every rule the core judges an implementation by, in one table, each on the sentence or the
numbered assumption it rests on. A check elsewhere in the core names its rule from here, never a
requirement ID of its own; `tests/core/test_rules.py` holds the table against the catalog and the
profile (each basis exists, its level is the one written here, its text says what is checked).

A rule's `basis` is a catalog ID (DM20-…), an assumption of the profile (A…) or a numbered rule
of the profile's prose (P…). `quote` is words of the basis that say what the rule checks. The
rules of the command signatures are made from the profile's command table (`signature_rule`),
since which commands exist is the profile's business."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from conformance.profiles import CommandSpec, Profile


class Grade(enum.Enum):
    """What a broken rule means: a failure, or a remark that is no failure (A3's `;`)."""

    FAIL = "fail"
    INFO = "info"


# The level of a basis that is not a catalog sentence.
ASSUMPTION = "assumption"
PROFILE_RULE = "profile rule"


@dataclass(frozen=True)
class Rule:
    """One check of the judge and what it rests on."""

    key: str
    basis: str
    level: str  # the catalog level of the basis, or ASSUMPTION / PROFILE_RULE
    quote: str
    checks: str
    grade: Grade = Grade.FAIL

    @property
    def is_assumption(self) -> bool:
        return self.level in (ASSUMPTION, PROFILE_RULE)


@dataclass(frozen=True)
class Finding:
    """A rule seen broken (or remarked on), with what was seen."""

    rule: Rule
    message: str

    @property
    def requirement(self) -> str:
        """The ID the finding is filed under: the rule's basis."""
        return self.rule.basis

    @property
    def grade(self) -> Grade:
        return self.rule.grade

    @property
    def failed(self) -> bool:
        return self.rule.grade is Grade.FAIL

    def __str__(self) -> str:
        return f"[{self.rule.basis}] {self.message}"


RULES: dict[str, Rule] = {}


def _rule(
    key: str, basis: str, level: str, quote: str, checks: str, grade: Grade = Grade.FAIL
) -> Rule:
    rule = Rule(key, basis, level, quote, checks, grade)
    if key in RULES:
        raise ValueError(f"rule {key} is defined twice")
    RULES[key] = rule
    return rule


# -- a DM client's requests (first and status messages), seed 6.3 and the profile's section 2 ---
CLIENT_CONTENT_TYPE = _rule(
    "client.content-type",
    "DM20-6.3-002",
    "MUST",
    "Content-Type application/dm20status",
    "every request's Content-Type is application/dm20status (multipart/mixed with INCLUDE data)",
)
CLIENT_MULTIPART_WITHOUT_INCLUDE = _rule(
    "client.multipart-only-with-include",
    "A8",
    ASSUMPTION,
    "with no successful INCLUDE the message is plain",
    "a status message is multipart/mixed only when an INCLUDE succeeded",
)
CLIENT_ACCEPT = _rule(
    "client.accept",
    "DM20-6.3-003",
    "MUST",
    "Accept application/dm20; application/tnds20",
    "every request's Accept lists application/dm20 and application/tnds20",
)
CLIENT_ACCEPT_SEPARATOR = _rule(
    "client.accept-separator",
    "A3",
    ASSUMPTION,
    "reports the ';' form as a draft defect (informational)",
    "an Accept that separates the media types with the seed's ';' (a draft defect, no failure)",
    Grade.INFO,
)
CLIENT_DEVICE_ID = _rule(
    "client.device-id",
    "DM20-6.3-005",
    "MUST",
    "X-OMADMDevID",
    "every request carries X-OMADMDevID",
)
CLIENT_DEVICE_ID_STABLE = _rule(
    "client.device-id-stable",
    "DM20-6.3-005",
    "MUST",
    "Unique identifier of the device.",
    "X-OMADMDevID is the same in every request of every session of a device",
)
CLIENT_BODY = _rule(
    "client.body",
    "P2.1",
    PROFILE_RULE,
    "Body: one JSON object",
    "the body of a first or status message is one JSON object of the profile's members",
)
CLIENT_FIRST_ONLY = _rule(
    "client.first-message-only",
    "P2.1",
    PROFILE_RULE,
    "DevInfo, MO, MOMeta may appear only in the first message",
    "DevInfo, MO and MOMeta appear in the first message of a session only",
)
CLIENT_STATUS_SHAPE = _rule(
    "client.status-shape",
    "P2.2",
    PROFILE_RULE,
    'A status is {"sc": <int>}',
    "each status is an object with an integer sc, optional URI (a list) and Reason (a string)",
)
CLIENT_DEVINFO_DEVID = _rule(
    "client.devinfo-devid",
    "A17",
    ASSUMPTION,
    "DevInfo, when present, must carry DevID",
    "a DevInfo carries DevID",
)
CLIENT_MULTIPART = _rule(
    "client.multipart",
    "A16",
    ASSUMPTION,
    "A multipart body follows RFC 2046",
    "a multipart/mixed status message can be read as RFC 2046 defines it",
)
CLIENT_MULTIPART_PARTS = _rule(
    "client.multipart-parts",
    "A8",
    ASSUMPTION,
    "part 1 is the application/dm20status JSON; then one application/tnds20 part",
    "part 1 of a multipart status message is dm20status, every other part tnds20",
)
CLIENT_INCLUDE_DOCUMENT = _rule(
    "client.include-document",
    "P4.3",
    PROFILE_RULE,
    "A tnds20 document is one JSON object mapping each ClientURI",
    "each INCLUDE part is a tnds20 document",
)
STATUS_COUNT = _rule(
    "status.count",
    "P1.3",
    PROFILE_RULE,
    "one status per command",
    "a status message carries one status per command of the message it answers (END excepted)",
)
STATUS_ORDER = _rule(
    "status.order",
    "DM20-6.3-006",
    "MUST",
    "The status MUST be ordered in the same order as the DM Commands had.",
    "the statuses fit their commands in command order, where another order would fit them",
)
STATUS_CODE = _rule(
    "status.code",
    "A5",
    ASSUMPTION,
    "Status codes",
    "each status code is one that the command's row of the profile allows (A5)",
)
STATUS_GET_URI = _rule(
    "status.get-uri",
    "DM20-6.2-005",
    "will",
    "return the location as Param1 in the status reporting",
    "the status of a GET that succeeded carries URI, where it stored",
)
INCLUDE_PARTS_MISSING = _rule(
    "include.parts-missing",
    "DM20-6.2-015",
    "will",
    "embed the requested [JSON] object in the status report",
    "every INCLUDE that succeeded has its tnds20 part in the status message",
)
INCLUDE_PARTS_EXTRA = _rule(
    "include.parts-extra",
    "A8",
    ASSUMPTION,
    "one application/tnds20 part per INCLUDE command that succeeded",
    "no tnds20 part beyond one per INCLUDE that succeeded",
)
INCLUDE_PARTS_ORDER = _rule(
    "include.parts-order",
    "A8",
    ASSUMPTION,
    "in command order",
    "the tnds20 parts follow the order of the INCLUDE commands they answer",
)
# Which INCLUDE succeeded is read from the status in its position: where a case shows the
# statuses are in another order, these two are judged again in the order the case shows.
INCLUDE_COUNT = (INCLUDE_PARTS_MISSING, INCLUDE_PARTS_EXTRA)
SESSION_CONTINUES = _rule(
    "session.continues",
    "DM20-6.3-001",
    "MUST",
    "MUST continue to send new HTTP POST",
    "the client POSTs the status message of every command message until it has received END",
)
SAME_URL = _rule(
    "session.same-url",
    "DM20-6.3-001",
    "MUST",
    "to the same URL",
    "every status message goes to the session URL (CONT aside)",
)
CONT_URL = _rule(
    "session.cont-url",
    "DM20-6.2-023",
    "will",
    "This is the new server URL that the DM Client will use for the DM Session.",
    "after CONT, the status message and every later request of the session go to its ServerURL",
)
NOTHING_AFTER_END = _rule(
    "session.after-end",
    "DM20-6.2-024",
    "will",
    "the DM Client will not continue the DM Session",
    "nothing more of a session after the message with END (no status message for it)",
)
NOTHING_AFTER_ABORT = _rule(
    "session.after-abort",
    "A1",
    ASSUMPTION,
    "the client aborts the session and sends nothing more",
    "nothing more of a session after the server answered it with anything but a command message",
)
SESSION_BY_POST = _rule(
    "session.post",
    "P1.1",
    PROFILE_RULE,
    "with an HTTP POST",
    "a session request is an HTTP POST",
)

# -- a DM server's answers, seed 6 and 6.2 and the profile's section 3 --------------------------
SERVER_HTTP_OK = _rule(
    "server.http-200",
    "P1.2",
    PROFILE_RULE,
    "The server answers 200 with a command message.",
    "the server answers every client message with HTTP 200",
)
SERVER_CONTENT_TYPE = _rule(
    "server.content-type",
    "DM20-6.2-002",
    "MUST",
    "Content-Type application/dm20",
    "every answer's Content-Type is application/dm20",
)
SERVER_COMMAND_MESSAGE = _rule(
    "server.command-message",
    "DM20-6-004",
    "defines",
    "The response to this message contains the DM commands.",
    "every answer's body is a command message",
)
SERVER_COMMAND_SHAPE = _rule(
    "server.command-shape",
    "P3.1",
    PROFILE_RULE,
    "Each command is an array of strings",
    "each command of a command message is an array of strings",
)
SERVER_COMMAND_NAME = _rule(
    "server.command-name",
    "A18",
    ASSUMPTION,
    "any other name (get included) is an unknown command",
    "every command name is one of the profile's, written exactly",
)
SERVER_URI = _rule(
    "server.uri",
    "A20",
    ASSUMPTION,
    "is malformed (400)",
    "every ClientURI, ServerURI and MOID a command carries fits its grammar",
)
SERVER_END_LAST = _rule(
    "server.end-last",
    "A2",
    ASSUMPTION,
    "END, when present, is the last command of its message.",
    "END is the last command of its message",
)
SERVER_SESSION_ENDS = _rule(
    "server.session-ends",
    "DM20-5.2-004",
    "will",
    "This will be repeated until the server does not want to perform any more management commands",
    "a session ends with END once the server's commands for the device are sent, not before",
)
SERVER_OWN_DEVICE = _rule(
    "server.own-device",
    "A15",
    ASSUMPTION,
    "the commands it has for a device",
    "the commands queued for a device reach that device (by its X-OMADMDevID), no other",
)
SERVER_QUEUE_ORDER = _rule(
    "server.queue-order",
    "A15",
    ASSUMPTION,
    "keeping their order",
    "the commands queued for a device arrive in the order they were queued",
)


def signature_rule(spec: CommandSpec) -> Rule:
    """The rule that a command carries the parameters of its signature row (seed 6.2 table)."""
    return Rule(
        f"server.signature.{spec.name}",
        spec.signature or SERVER_COMMAND_SHAPE.basis,
        "defines" if spec.signature else PROFILE_RULE,
        spec.name,
        f"a {spec.name} carries the parameters of its row of the 6.2 table",
    )


def in_force(findings: Iterable[Finding], profile: Profile) -> list[Finding]:
    """The findings the profile keeps. A what-if profile may relax assumptions or rules
    (`relaxed: [A2]`): no rule resting on them is then applied, whichever check made it."""
    return [f for f in findings if f.rule.basis not in profile.relaxed]


def resting_on(bases: Iterable[str]) -> list[Rule]:
    """The rules of the table that rest on any of `bases`."""
    wanted = set(bases)
    return [rule for rule in RULES.values() if rule.basis in wanted]
