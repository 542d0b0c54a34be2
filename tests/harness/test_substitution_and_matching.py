"""Placeholders (engine/substitute.py) and expectations (engine/matching.py), unit by unit."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.engine.matching import MATCHERS, MISSING, mismatches, pick
from conformance.engine.substitute import SubstitutionError, flatten, placeholders, substitute

NAMES: dict[str, Any] = {
    "server_url": "http://127.0.0.1:5000/dm",
    "levels": 2,
    "flag": True,
    "nothing": None,
    "uris": ["a/1", "a/2"],
    **flatten("ixit", {"device_id": "IMEI:1", "writable_moid": "urn:x:1.0"}),
    "status.not_found": 404,
}


# -- substitute ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("{levels}", 2),
        ("{flag}", True),
        ("{nothing}", None),
        ("{uris}", ["a/1", "a/2"]),
        ("{status.not_found}", 404),
        ("{ixit.device_id}", "IMEI:1"),
    ],
)
def test_a_whole_string_placeholder_keeps_its_type(text: str, value: Any) -> None:
    result = substitute(text, NAMES)
    assert result == value and type(result) is type(value)


def test_placeholders_inside_text_are_written_in() -> None:
    assert substitute("{server_url}/next?Levels={levels}", NAMES) == (
        "http://127.0.0.1:5000/dm/next?Levels=2"
    )
    assert substitute("{ixit.writable_moid}/{levels}", NAMES) == "urn:x:1.0/2"


def test_keys_lists_and_other_values_are_substituted_through() -> None:
    value = {"{ixit.writable_moid}/7": ["{levels}", 3, None, {"k": "{flag}"}], 5: 6}
    assert substitute(value, NAMES) == {"urn:x:1.0/7": [2, 3, None, {"k": True}], 5: 6}


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("{{levels}}", "{levels}"),
        ("{{{levels}}}", "{2}"),
        ("{{", "{"),
        ("}}{{", "}{"),
        ('{{"a": {levels}}}', '{"a": 2}'),
    ],
)
def test_doubled_braces_are_literal(text: str, result: str) -> None:
    assert substitute(text, NAMES) == result


def test_doubled_braces_hold_no_placeholder() -> None:
    assert placeholders("{{levels}} and {{ixit.device_id}}") == set()


@pytest.mark.parametrize("text", ["{nope}", "x{nope}y", "{ixit.missing}", "{server_url.x}"])
def test_an_unknown_placeholder_is_an_error_that_names_it(text: str) -> None:
    with pytest.raises(SubstitutionError) as caught:
        substitute(text, NAMES)
    name = text[text.index("{") + 1 : text.index("}")]
    assert f"{{{name}}}" in str(caught.value)
    assert "server_url" in str(caught.value)  # and says what is known


@pytest.mark.parametrize(
    "text",
    [
        "{ixit.__class__}",
        "{server_url.__class__}",
        "{levels.__class__.__mro__}",
        "{ixit.device_id.__len__}",
    ],
)
def test_attribute_lookups_are_unknown_names(text: str) -> None:
    with pytest.raises(SubstitutionError):
        substitute(text, NAMES)


@pytest.mark.parametrize(
    "text",
    ["{0}", "{a[0]}", "{uris[0]}", "{levels!r}", "{levels:>10}", "{}", "{ levels }", "{1+1}"],
)
def test_format_syntax_is_plain_text(text: str) -> None:
    """Nothing str.format would evaluate is a placeholder: it stays as written."""
    assert substitute(text, NAMES) == text
    assert placeholders(text) == set()


def test_substitution_never_reaches_object_attributes() -> None:
    class Loud:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"attribute {name} was looked up")

    names = {"obj": Loud()}
    assert substitute("{obj}", names) is names["obj"]
    with pytest.raises(SubstitutionError):
        substitute("{obj.secret}", names)


def test_placeholders_lists_every_name_keys_included() -> None:
    value = {"{ixit.a}": ["{b}", {"c": "x{d}y{{e}}"}], "f": 3}
    assert placeholders(value) == {"ixit.a", "b", "d"}


def test_flatten() -> None:
    assert flatten("ixit", {"a": 1, "b": "x"}) == {"ixit.a": 1, "ixit.b": "x"}


# -- mismatches: structure ----------------------------------------------------------------------
def test_mappings_match_partially() -> None:
    assert mismatches({"a": 1}, {"a": 1, "b": 2}) == []
    assert mismatches({}, {"a": 1}) == []
    assert mismatches({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}, "d": 3}) == []


def test_a_missing_key_and_a_different_value_are_named_by_place() -> None:
    problems = mismatches({"a": {"b": 1, "c": 2}}, {"a": {"b": 9}})
    assert len(problems) == 2
    assert problems[0].startswith("a.b:") and "expected 1, got 9" in problems[0]
    assert problems[1].startswith("a.c: missing")


def test_lists_match_item_by_item_with_the_same_length() -> None:
    assert mismatches([1, {"a": 2}], [1, {"a": 2, "b": 3}]) == []
    [short] = mismatches([1, 2], [1])
    assert "expected 2 items, got 1" in short
    assert mismatches([1], [1, 2]) != []
    [place] = mismatches({"l": [{"a": 1}, {"a": 2}]}, {"l": [{"a": 1}, {"a": 3}]})
    assert place.startswith("l[1].a:")


@pytest.mark.parametrize(
    ("expected", "actual"),
    [({"a": 1}, [1]), ([1], {"a": 1}), ({"a": 1}, "a"), ([], None)],
)
def test_the_shape_must_match(expected: Any, actual: Any) -> None:
    assert mismatches(expected, actual) != []


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (1, 1, True),
        (1, 1.0, True),
        (1, True, False),
        (True, 1, False),
        (0, False, False),
        ("1", 1, False),
        (None, None, True),
        (None, 0, False),
        ("x", "x", True),
    ],
)
def test_scalars_match_by_equality_of_the_same_kind(expected: Any, actual: Any, ok: bool) -> None:
    assert (mismatches(expected, actual) == []) is ok


# -- mismatches: every matcher ------------------------------------------------------------------
MATCHER_CASES = [
    # (matcher, actual, matches)
    ({"$any": True}, None, True),
    ({"$any": True}, {"x": 1}, True),
    ({"$any": True}, MISSING, False),
    ({"$absent": True}, MISSING, True),
    ({"$absent": True}, None, False),
    ({"$regex": "^IMEI:\\d+$"}, "IMEI:42", True),
    ({"$regex": "^IMEI:"}, "MEID:42", False),
    ({"$regex": "4"}, 42, False),
    ({"$regex": "x"}, MISSING, False),
    ({"$contains": "dm20"}, "application/dm20, application/tnds20", True),
    ({"$contains": "tnds"}, "application/dm20", False),
    ({"$contains": {"a": 1}}, [{"a": 2}, {"a": 1, "b": 2}], True),
    ({"$contains": {"a": 1}}, [{"a": 2}], False),
    ({"$contains": "x"}, {"x": 1}, False),
    ({"$type": "string"}, "s", True),
    ({"$type": "string"}, 1, False),
    ({"$type": "integer"}, 3, True),
    ({"$type": "integer"}, True, False),
    ({"$type": "integer"}, 3.0, False),
    ({"$type": "number"}, 3.5, True),
    ({"$type": "number"}, False, False),
    ({"$type": "boolean"}, False, True),
    ({"$type": "object"}, {}, True),
    ({"$type": "array"}, [], True),
    ({"$type": "array"}, (), False),
    ({"$len": 2}, [1, 2], True),
    ({"$len": 2}, "ab", True),
    ({"$len": 0}, {}, True),
    ({"$len": 1}, [], False),
    ({"$len": 0}, None, False),
    ({"$exact": {"a": 1}}, {"a": 1}, True),
    ({"$exact": {"a": 1}}, {"a": 1, "b": 2}, False),
    ({"$exact": [1, 2]}, [1, 2], True),
    ({"$exact": [1, 2]}, [2, 1], False),
    ({"$in": [200, 202]}, 202, True),
    ({"$in": [200, 202]}, 404, False),
    ({"$in": [{"a": 1}, "x"]}, {"a": 1, "b": 2}, True),
    ({"$in": [200]}, MISSING, False),
    ({"$in": 200}, 200, False),
]


@pytest.mark.parametrize(
    ("matcher", "actual", "ok"),
    MATCHER_CASES,
    ids=[f"{next(iter(m))}-{i}" for i, (m, _, _) in enumerate(MATCHER_CASES)],
)
def test_matcher(matcher: dict[str, Any], actual: Any, ok: bool) -> None:
    assert (mismatches({"v": matcher}, {} if actual is MISSING else {"v": actual}) == []) is ok


def test_every_matcher_is_covered() -> None:
    assert {next(iter(m)) for m, _, _ in MATCHER_CASES} == MATCHERS


def test_a_matcher_mismatch_names_its_place() -> None:
    [problem] = mismatches({"h": {"X-Id": {"$regex": "^IMEI:"}}}, {"h": {"X-Id": "MEID:1"}})
    assert problem.startswith("h.X-Id:") and "does not match" in problem


def test_a_mapping_with_a_dollar_key_and_others_is_no_matcher() -> None:
    assert mismatches({"$len": 1, "b": 2}, {"$len": 1, "b": 2}) == []
    assert mismatches({"$len": 1, "b": 2}, {"b": 2}) != []


@pytest.mark.parametrize(("value", "actual"), [({"a": 1}, {"a": True}), ([0], [False])])
def test_exact_tells_numbers_from_booleans(value: Any, actual: Any) -> None:
    assert mismatches(value, actual) != []  # what plain matching says
    assert mismatches({"$exact": value}, actual) != []


def test_unknown_type_name_is_a_mismatch_not_a_crash() -> None:
    problems = mismatches({"$type": "str"}, "x")
    assert problems and "str" in problems[0]


# -- pick ---------------------------------------------------------------------------------------
VIEW = {
    "url": "http://h/dm",
    "statuses": [{"code": 200, "uri": ["urn:x:1.0/7", "urn:x:1.0/8"]}, {"code": 404}],
    "headers": {"X-OMADMDevID": "IMEI:1"},
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("url", "http://h/dm"),
        ("statuses[0].uri[0]", "urn:x:1.0/7"),
        ("statuses[0].uri[1]", "urn:x:1.0/8"),
        ("statuses[1].code", 404),
        ("statuses[1]", {"code": 404}),
        ("headers.X-OMADMDevID", "IMEI:1"),
    ],
)
def test_pick(path: str, value: Any) -> None:
    assert pick(VIEW, path) == value


@pytest.mark.parametrize(
    "path", ["nope", "statuses[2].code", "statuses[1].uri[0]", "url.x", "statuses.code"]
)
def test_pick_of_nothing_is_a_key_error_naming_the_path(path: str) -> None:
    with pytest.raises(KeyError) as caught:
        pick(VIEW, path)
    assert repr(path) in str(caught.value)
