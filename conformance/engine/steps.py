"""The step kinds of the case format, registered once. Each kind says which role's cases may use
it, the key that starts it (`expect: request`), its other keys as JSON Schema, and one line for
people. Everything else is made from this table: the step definitions of
schemas/testcase.schema.json (`python -m conformance.engine.steps --write` writes it; a test
fails when the file and this table part), the step table of testcases/README.md (likewise), the
loader's checks, and the runners' dispatch (kind `expect request` runs `step_expect_request`).

A step either sends, or expects what the other side does; `one_of` and `any_order` hold
branches of steps, for the places where the draft allows several behaviours (A13, A14)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLIENT, SERVER = "client", "server"

ID_PATTERN = r"^DM20-[CS]-[A-Z0-9]+(-[A-Z0-9]+)*$"
BASIS_PATTERN = r"^(DM20-[56](\.[1-5])?-[0-9]{3}|A[0-9]+|P[0-9]+\.[0-9]+)$"


@dataclass(frozen=True)
class StepKind:
    """One kind of step."""

    key: str  # "expect request": the trigger key and its value, or the trigger key alone
    roles: tuple[str, ...]
    summary: str
    fields: dict[str, Any] = field(default_factory=dict)  # JSON Schema of its other keys
    required: tuple[str, ...] = ()
    value_schema: dict[str, Any] | None = None  # for a trigger without a fixed value
    hooks: tuple[str, ...] = ()  # DUT commands it runs
    branches: bool = False  # its value is a list of branches of steps

    @property
    def trigger(self) -> str:
        return self.key.split(" ")[0]

    @property
    def value(self) -> str | None:
        parts = self.key.split(" ", 1)
        return parts[1] if len(parts) == 2 else None

    @property
    def handler(self) -> str:
        """The runner method that carries it out."""
        return "step_" + re.sub(r"[^a-z]+", "_", self.key)

    @property
    def definition(self) -> str:
        return "step_" + re.sub(r"[^a-z]+", "_", self.key)


REQUEST_EXPECTATIONS: dict[str, Any] = {
    "url": {"type": ["string", "object"], "description": "the URL it went to, or a matcher of it"},
    "headers": {"$ref": "#/$defs/headers"},
    "headers_absent": {"type": "array", "items": {"type": "string"}},
    "statuses": {"type": "array", "items": {"$ref": "#/$defs/status"}},
    "includes": {"type": "array"},
    "alerts": {"$ref": "#/$defs/alerts"},
    "devinfo": {"type": "object"},
    "body": {},
    "save": {"$ref": "#/$defs/save"},
}
CONTENT_EXPECTATIONS: dict[str, Any] = {
    "path": {"type": "string"},
    "method": {"type": "string", "description": "GET, PUT or POST"},
    "headers": {"$ref": "#/$defs/headers"},
    "headers_absent": {"type": "array", "items": {"type": "string"}},
    "body": {},
    "absent": {"type": "boolean", "description": "the client must NOT make this request"},
    "save": {"$ref": "#/$defs/save"},
}
GRACE = {"grace_s": {"type": "number", "minimum": 0, "maximum": 30}}

KINDS: tuple[StepKind, ...] = (
    StepKind(
        "open session",
        (CLIENT,),
        "runs the DUT's `session` command and expects the first message of the session it opens "
        "(`start: session` + `expect: request` with `first: true`); takes the keys of "
        "`expect: request` but `first` and `statuses`",
        {k: v for k, v in REQUEST_EXPECTATIONS.items() if k not in ("statuses", "includes")},
        hooks=("session",),
    ),
    StepKind(
        "start",
        (CLIENT,),
        "runs the DUT's `session` command, or `config_request` (with `moid`, `initiated_by`) for "
        "a configuration request (DEFAULT, A12)",
        {"moid": {"type": "string"}, "initiated_by": {"type": "string"}},
        value_schema={"enum": ["session", "config_request"]},
    ),
    StepKind(
        "expect request",
        (CLIENT,),
        "the next message of the session the case talks to; with `first: true`, the first "
        "message of the next session the client opens (an alert session, a configuration "
        "session). Optional: `url`, `statuses: [{code, uri, reason}]` (`code` a profile status "
        "name such as `not_found`, a number, or `{$in: [ok, accepted]}`), `includes`, "
        "`alerts: [{type, source, data}]`, `devinfo`, `body`, `headers`, `headers_absent`, `save`",
        {**REQUEST_EXPECTATIONS, "first": {"type": "boolean"}},
    ),
    StepKind(
        "send commands",
        (CLIENT,),
        "answers the message the case last took with a command message (`commands`)",
        {"commands": {"$ref": "#/$defs/commands"}},
        required=("commands",),
    ),
    StepKind(
        "send answer",
        (CLIENT,),
        "answers it with raw HTTP (`status`, `headers`, `body`): negative tests of A1",
        {
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "body": {},
        },
    ),
    StepKind(
        "expect fetch",
        (CLIENT,),
        "the client fetched `{content_url}/<path>` (`headers`, `save`); `absent: true`: it did not",
        CONTENT_EXPECTATIONS,
        required=("path",),
    ),
    StepKind(
        "expect upload",
        (CLIENT,),
        "the client uploaded to `{content_url}/<path>` (`method`, `body`, `headers`); "
        "`absent: true`: it did not",
        CONTENT_EXPECTATIONS,
        required=("path",),
    ),
    StepKind(
        "expect browse",
        (CLIENT,),
        "the client's browser loaded `{web_url}/<path>` (`headers_absent`); `absent: true`: it "
        "did not",
        CONTENT_EXPECTATIONS,
        required=("path",),
    ),
    StepKind(
        "expect end",
        (CLIENT,),
        "the session the case talks to is over: nothing more of it arrives and the client's "
        "processes exit; sessions the client opens meanwhile (alerts it may send, seed 5.2, A10) "
        "are answered with END",
        GRACE,
    ),
    StepKind(
        "close session",
        (CLIENT,),
        "answers with `[[END]]` and expects the end (`send: commands` + `expect: end`)",
        GRACE,
    ),
    StepKind(
        "one_of",
        (CLIENT,),
        "branches (`name`, `steps`) of which exactly one happens: the first whose first step "
        "matches what the client does is run (e.g. A13: a client refuses or accepts content)",
        branches=True,
    ),
    StepKind(
        "any_order",
        (CLIENT,),
        "branches (`name`, `steps`) that all happen, in whatever order the client does them "
        "(e.g. A14: the Generic Alert session before or after the status message)",
        branches=True,
    ),
    StepKind(
        "enqueue",
        (SERVER,),
        "has the server queue these commands for the simulated device (the DUT's `enqueue` "
        "hook); the server spreads them over the session's messages as it likes (A15)",
        value_schema={"$ref": "#/$defs/commands"},
        hooks=("enqueue",),
    ),
    StepKind(
        "run session",
        (SERVER,),
        "the simulated device opens a session (at `url`, default `{server_url}`, with `alerts`; "
        "or, with `configure: {moid, initiated_by}`, at the ServerURL a DEFAULT gave it, A12), "
        "executes every command and answers by itself until END, then opens the sessions it owes "
        "(A10). Checks that the device received `contains` in this order over the session, "
        "however the server grouped them (A15), and none of `lacks`; `answers: [{command, code, "
        "reason}]` dictates the status of a command; `device: other` makes a second simulated "
        "device (an X-OMADMDevID of its own) open the session; `devinfo: false` leaves the "
        "device information out of its first messages (seed 6: they MAY carry it)",
        {
            "url": {"type": "string"},
            "device": {"enum": ["other"]},
            "devinfo": {"type": "boolean"},
            "lacks": {"$ref": "#/$defs/commands"},
            "configure": {
                "type": "object",
                "additionalProperties": False,
                "required": ["moid", "initiated_by"],
                "properties": {"moid": {"type": "string"}, "initiated_by": {"type": "string"}},
            },
            "alerts": {"type": "array", "items": {"$ref": "#/$defs/alert"}},
            "contains": {"$ref": "#/$defs/commands"},
            "answers": {"type": "array", "items": {"$ref": "#/$defs/answer"}},
            "save": {"$ref": "#/$defs/save"},
        },
    ),
)

BY_KEY = {kind.key: kind for kind in KINDS}
TRIGGERS = tuple(dict.fromkeys(kind.trigger for kind in KINDS))
COMMON = {"name": {"type": "string"}, "verifies": {"$ref": "#/$defs/verifies"}}


def kind_of(step: dict[str, Any]) -> StepKind | None:
    """The kind of a step as written (None if it has no known trigger or value)."""
    for trigger in TRIGGERS:
        if trigger in step:
            value = step[trigger]
            exact = BY_KEY.get(f"{trigger} {value}") if isinstance(value, str) else None
            return exact or BY_KEY.get(trigger)
    return None


def _definition(kind: StepKind) -> dict[str, Any]:
    if kind.branches:
        trigger_schema: dict[str, Any] = {
            "type": "array",
            "minItems": 2,
            "items": {"$ref": "#/$defs/branch"},
        }
    elif kind.value is not None:
        trigger_schema = {"const": kind.value}
    else:
        trigger_schema = kind.value_schema or {}
    return {
        "description": f"{'/'.join(kind.roles)} role: {kind.summary}",
        "type": "object",
        "additionalProperties": False,
        "required": [kind.trigger, *kind.required],
        "properties": {kind.trigger: trigger_schema, **kind.fields, **COMMON},
    }


def _step_schema() -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    for kind in KINDS:
        condition: dict[str, Any] = {"required": [kind.trigger]}
        if kind.value is not None:
            condition["properties"] = {kind.trigger: {"const": kind.value}}
        rules.append({"if": condition, "then": {"$ref": f"#/$defs/{kind.definition}"}})
    for trigger in TRIGGERS:
        values = [k.value for k in KINDS if k.trigger == trigger and k.value is not None]
        if values:
            rules.append(
                {
                    "if": {"required": [trigger]},
                    "then": {"properties": {trigger: {"enum": values}}},
                }
            )
    return {
        "type": "object",
        "oneOf": [{"required": [trigger]} for trigger in TRIGGERS],
        "allOf": rules,
    }


CASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "requirements", "steps"],
    "properties": {
        "id": {"type": "string", "pattern": ID_PATTERN},
        "title": {"$ref": "#/$defs/text"},
        "description": {"type": "string"},
        "role": {
            "enum": [CLIENT, SERVER],
            "description": "default: the folder the file is in (client/ or server/)",
        },
        "overrides": {
            "type": "boolean",
            "description": "a vendor case (--cases) that takes the place of the official case "
            "with the same id",
        },
        "requirements": {
            "description": "what the case verifies: catalog sentences, or an assumption or rule "
            "of the profile where the draft is silent",
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": BASIS_PATTERN},
        },
        "assumptions": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "pattern": r"^(A[0-9]+|P[0-9]+\.[0-9]+)$"},
        },
        "requires": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "pattern": "^!?[A-Za-z0-9_]+$"},
            "description": "features the DUT must declare; '!X': only for DUTs without X",
        },
        "parametrize": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[a-z_][a-z0-9_]*$"},
            "additionalProperties": {"type": "array", "minItems": 1},
        },
        "content": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z0-9_.-]+$"},
            "additionalProperties": {"$ref": "#/$defs/content"},
        },
        "pages": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z0-9_.-]+$"},
            "additionalProperties": {"type": "string"},
        },
        "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
    },
}

SHARED_DEFS: dict[str, Any] = {
    "text": {"type": "string", "minLength": 1},
    "content": {
        "description": "A document the harness serves at {content_url}/<name>: a tnds20 "
        "document, or a raw answer.",
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["raw"],
                "properties": {
                    "raw": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["body"],
                        "properties": {
                            "status": {"type": "integer", "minimum": 100, "maximum": 599},
                            "content_type": {"type": "string"},
                            "body": {"type": "string"},
                        },
                    }
                },
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["upload_status"],
                "properties": {
                    "upload_status": {"type": "integer", "minimum": 100, "maximum": 599}
                },
            },
            {
                "type": "object",
                "not": {"anyOf": [{"required": ["raw"]}, {"required": ["upload_status"]}]},
            },
        ],
    },
    "verifies": {
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"type": "string", "pattern": BASIS_PATTERN},
    },
    "save": {
        "type": "object",
        "propertyNames": {"pattern": "^[a-z_][a-z0-9_]*$"},
        "additionalProperties": {"type": "string", "minLength": 1},
    },
    "headers": {"type": "object", "additionalProperties": {}},
    "commands": {
        "type": "array",
        "minItems": 1,
        "items": {"type": "array", "minItems": 1, "items": {"type": "string"}},
    },
    "status": {
        "type": "object",
        "additionalProperties": False,
        "required": ["code"],
        "properties": {"code": {}, "uri": {}, "reason": {}},
    },
    "answer": {
        "type": "object",
        "additionalProperties": False,
        "required": ["command", "code"],
        "properties": {
            "command": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            "code": {"oneOf": [{"type": "integer"}, {"type": "string", "minLength": 1}]},
            "reason": {"type": "string"},
        },
    },
    "alerts": {
        "description": "these alerts exactly, or {$contains: alert}: that one among others",
        "oneOf": [
            {"type": "array", "items": {"$ref": "#/$defs/alert"}},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["$contains"],
                "properties": {"$contains": {"$ref": "#/$defs/alert"}},
            },
        ],
    },
    "alert": {
        "type": "object",
        "additionalProperties": False,
        "required": ["type"],
        "properties": {"type": {"$ref": "#/$defs/text"}, "source": {}, "mark": {}, "data": {}},
    },
    "branch": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "steps"],
        "properties": {
            "name": {"$ref": "#/$defs/text"},
            "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
        },
    },
}


def testcase_schema() -> dict[str, Any]:
    """The whole case schema, made from this module's tables."""
    defs = {"case": CASE_SCHEMA, **SHARED_DEFS, "step": _step_schema()}
    defs.update({kind.definition: _definition(kind) for kind in KINDS})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://dm20-conformance/schemas/testcase.schema.json",
        "title": "dm20-conformance test case",
        "description": "One YAML file holds one case (a mapping) or several (a list of mappings "
        "whose ids share a prefix). A step either sends, or expects what the other side does. "
        "Generated from conformance/engine/steps.py; see testcases/README.md.",
        "if": {"type": "array"},
        "then": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/case"}},
        "else": {"$ref": "#/$defs/case"},
        "$defs": defs,
    }


def schema_text() -> str:
    return json.dumps(testcase_schema(), indent=2, ensure_ascii=False) + "\n"


def readme_table(role: str) -> str:
    """The Markdown table of the steps of `role`, as testcases/README.md shows it."""
    rows = ["| step | what it does |", "|---|---|"]
    for kind in KINDS:
        if role in kind.roles:
            written = f"{kind.trigger}: {kind.value}" if kind.value else f"{kind.trigger}: …"
            rows.append(f"| `{written}` | {kind.summary} |")
    return "\n".join(rows)


SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / "testcase.schema.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="print or write the case schema")
    parser.add_argument("--write", action="store_true", help=f"write {SCHEMA_FILE}")
    parser.add_argument("--readme", choices=[CLIENT, SERVER], help="print a README step table")
    args = parser.parse_args(argv)
    if args.readme:
        print(readme_table(args.readme))
    elif args.write:
        SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    else:
        sys.stdout.write(schema_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
