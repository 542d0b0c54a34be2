"""ClientURIs, MOIDs, ServerURIs and add_query (A12)."""

from __future__ import annotations

import pytest

from conformance.core.errors import ProtocolError
from conformance.core.uri import (
    ClientURI,
    add_query,
    check_moid,
    check_server_uri,
    parse_client_uri,
)

from .conftest import CONF, DEVINFO, PROFILE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{CONF}/0", ClientURI(CONF, "0")),
        (f"{CONF}/0/Sub/A", ClientURI(CONF, "0", ("Sub", "A"))),
        (f"{DEVINFO}/0?Levels=0", ClientURI(DEVINFO, "0", (), 0)),
        (f"{DEVINFO}/0?Levels=1", ClientURI(DEVINFO, "0", (), 1)),
        (f"{CONF}/0/Sub?Levels=2", ClientURI(CONF, "0", ("Sub",), 2)),
        ("*", ClientURI(None, None)),
        ("*?Levels=1", ClientURI(None, None, (), 1)),
        ("*?Levels=0", ClientURI(None, None, (), 0)),
        ("urn:x/inst with space/é", ClientURI("urn:x", "inst with space", ("é",))),
    ],
)
def test_parse_client_uri(text: str, expected: ClientURI) -> None:
    assert parse_client_uri(text, PROFILE) == expected


def test_parts_of_a_client_uri() -> None:
    uri = parse_client_uri(f"{CONF}/0/Sub/A?Levels=1", PROFILE)
    assert not uri.wildcard
    assert not uri.new_instance
    assert uri.target(PROFILE) == f"{CONF}/0/Sub/A"
    assert uri.nodes() == (CONF, "0", "Sub", "A")
    star = parse_client_uri("*?Levels=2", PROFILE)
    assert star.wildcard
    assert star.target(PROFILE) == PROFILE.client_uri.wildcard
    assert star.levels == 2


def test_levels_absent_is_none() -> None:
    assert parse_client_uri(f"{CONF}/0", PROFILE).levels is None
    assert parse_client_uri("*", PROFILE).levels is None


def test_empty_instance_only_where_allowed() -> None:
    uri = parse_client_uri(f"{CONF}/", PROFILE, allow_new_instance=True)
    assert uri == ClientURI(CONF, "")
    assert uri.new_instance
    with pytest.raises(ProtocolError, match="empty instance"):
        parse_client_uri(f"{CONF}/", PROFILE)
    # An empty instance with nodes below it is never allowed.
    with pytest.raises(ProtocolError, match="empty instance"):
        parse_client_uri(f"{CONF}//Name", PROFILE, allow_new_instance=True)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (CONF, "<MOID>/<InstanceID>"),
        ("", "<MOID>/<InstanceID>"),
        (f"{CONF}/0/", "empty node"),
        (f"{CONF}/0//Name", "empty node"),
        (f"{CONF}/0?Depth=1", "only query"),
        (f"{CONF}/0?Levels", "only query"),
        (f"{CONF}/0?", "only query"),
        (f"{CONF}/0?Levels=", "whole number"),
        (f"{CONF}/0?Levels=-1", "whole number"),
        (f"{CONF}/0?Levels=one", "whole number"),
        (f"{CONF}/0?Levels=1.5", "whole number"),
        (f"{CONF}/0?Levels=\u0662", "whole number"),
        (f"{CONF}/0?Levels=1&x=2", "whole number"),
        ("*?Levels=-1", "whole number"),
        ("mo:oma/0", "not a MOID"),
        ("urn:/0", "not a MOID"),
        ("http://x/0", "not a MOID"),
        ("*/0", "not a MOID"),
        ("urn:a b/0", "white space"),
        (f"{CONF}/../0", "'..'"),
        (f"{CONF}/0/..", "'..'"),
        (f"{CONF}/0/./x", "'.'"),
    ],
)
def test_bad_client_uris(text: str, what: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_uri(text, PROFILE, where="CMD[3] GET ClientURI")
    assert info.value.where == "CMD[3] GET ClientURI"
    assert what in info.value.what


def test_bad_client_uri_default_place() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_uri("nope", PROFILE)
    assert info.value.where == "ClientURI"
    assert "'nope'" in str(info.value)


@pytest.mark.parametrize("text", [DEVINFO, "urn:x", "URN:OMA:MO:X:1.0"])
def test_good_moids(text: str) -> None:
    assert check_moid(text) == text


@pytest.mark.parametrize("text", ["", "urn:", "oma:mo:x", f"{CONF}/0", "urn:a?b", "urn:a\tb"])
def test_bad_moids(text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        check_moid(text, "DEFAULT MOID")
    assert info.value.where == "DEFAULT MOID"


@pytest.mark.parametrize(
    "text", ["http://srv/dm", "https://srv.example:8443/a/b?c=d#e", "HTTP://SRV"]
)
def test_good_server_uris(text: str) -> None:
    assert check_server_uri(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "srv/dm",
        "/dm",
        "ftp://srv/x",
        "http:///dm",
        "http://[::1/x",
        "http://srv/a b",
        "mailto:a@b",
        f"{CONF}/0",
    ],
)
def test_bad_server_uris(text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        check_server_uri(text, "CMD[0] SHOW ServerURI")
    assert info.value.where == "CMD[0] SHOW ServerURI"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://c/mms", "http://c/mms?InitiatedBy=User"),
        ("http://c/mms?a=1", "http://c/mms?a=1&InitiatedBy=User"),
        ("http://c/mms#top", "http://c/mms?InitiatedBy=User#top"),
        ("http://c/mms?a=1#top", "http://c/mms?a=1&InitiatedBy=User#top"),
    ],
)
def test_add_query(url: str, expected: str) -> None:
    assert add_query(url, PROFILE.default_query.name, "User") == expected
