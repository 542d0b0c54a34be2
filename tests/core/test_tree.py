"""The DM tree: extract with Levels and `*` (A7), replace, new instances, delete (A9), EXEC."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.core.device import Device
from conformance.core.errors import CommandFailure
from conformance.core.tree import Tree, prune
from conformance.core.uri import ClientURI, parse_client_uri

from .conftest import CONF, DEVICE_ID, DEVINFO, PROFILE, SECRET, make_device, make_tree, tree_data


def uri(text: str) -> ClientURI:
    return parse_client_uri(text, PROFILE)


def fails(status: str, call: Any) -> CommandFailure:
    """Run `call`, expect a CommandFailure with the profile status `status`."""
    with pytest.raises(CommandFailure) as info:
        call()
    assert info.value.status == status
    assert info.value.status in PROFILE.status
    return info.value


SUB = tree_data()[CONF]["0"]


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (0, {}),
        (1, {"Name": "zero", "Reboot": "", "Sub": {}}),
        (2, {"Name": "zero", "Reboot": "", "Sub": {"A": {}}}),
        (3, {"Name": "zero", "Reboot": "", "Sub": {"A": {"B": 1, "C": {}}}}),
        (None, SUB),
    ],
)
def test_extract_levels(tree: Tree, levels: int | None, expected: Any) -> None:
    query = "" if levels is None else f"?Levels={levels}"
    assert tree.extract(uri(f"{CONF}/0{query}"), PROFILE) == {f"{CONF}/0": expected}


def test_extract_leaf_ignores_levels(tree: Tree) -> None:
    assert tree.extract(uri(f"{CONF}/0/Name?Levels=0"), PROFILE) == {f"{CONF}/0/Name": "zero"}


def test_extract_is_a_copy(tree: Tree) -> None:
    document = tree.extract(uri(f"{CONF}/0"), PROFILE)
    document[f"{CONF}/0"]["Sub"]["A"]["B"] = 99
    assert tree.data[CONF]["0"]["Sub"]["A"]["B"] == 1


def test_extract_wildcard_leaves_out_private_mos(tree: Tree) -> None:
    document = tree.extract(uri("*"), PROFILE)
    assert document == {
        f"{DEVINFO}/0": tree_data()[DEVINFO]["0"],
        f"{CONF}/0": SUB,
        f"{CONF}/1": {"Name": "one"},
    }
    assert not any(key.startswith(SECRET) for key in document)


@pytest.mark.parametrize("levels", [0, 1, 2])
def test_extract_wildcard_counts_levels_from_each_instance(tree: Tree, levels: int) -> None:
    document = tree.extract(uri(f"*?Levels={levels}"), PROFILE)
    assert list(document) == [f"{DEVINFO}/0", f"{CONF}/0", f"{CONF}/1"]
    assert document[f"{CONF}/0"] == prune(SUB, levels)
    assert document[f"{DEVINFO}/0"] == prune(tree_data()[DEVINFO]["0"], levels)


def test_extract_errors(tree: Tree) -> None:
    fails("not_found", lambda: tree.extract(uri("urn:oma:mo:none:1.0/0"), PROFILE))
    fails("not_found", lambda: tree.extract(uri(f"{CONF}/7"), PROFILE))
    fails("not_found", lambda: tree.extract(uri(f"{CONF}/0/Name/x"), PROFILE))
    fails("forbidden", lambda: tree.extract(uri(f"{SECRET}/0"), PROFILE))
    fails("forbidden", lambda: tree.extract(uri(f"{SECRET}/9"), PROFILE))


def test_prune() -> None:
    value = {"a": {"b": {"c": 1}}, "d": 2}
    assert prune(value, 0) == {}
    assert prune(value, 1) == {"a": {}, "d": 2}
    assert prune(value, 2) == {"a": {"b": {}}, "d": 2}
    assert prune(value, None) == value
    assert prune(value, None) is not value
    assert prune("leaf", 0) == "leaf"


def test_exists(tree: Tree) -> None:
    assert tree.exists(uri(f"{CONF}/0/Sub/A/B"))
    assert not tree.exists(uri(f"{CONF}/0/Sub/A/X"))
    assert not tree.exists(uri("urn:none/0"))


def test_instances_in_tree_order(tree: Tree) -> None:
    assert tree.instances() == [(DEVINFO, "0"), (CONF, "0"), (CONF, "1")]


# -- writing -------------------------------------------------------------------------------------
def test_replace_existing_node_replaces_everything(tree: Tree) -> None:
    tree.replace(uri(f"{CONF}/0"), {"Name": "new"})
    assert tree.data[CONF]["0"] == {"Name": "new"}


def test_replace_creates_missing_child_of_existing_parent(tree: Tree) -> None:
    tree.replace(uri(f"{CONF}/5"), {"Name": "five"})
    tree.replace(uri(f"{CONF}/0/Sub/New"), "leaf")
    assert tree.data[CONF]["5"] == {"Name": "five"}
    assert tree.data[CONF]["0"]["Sub"]["New"] == "leaf"


def test_replace_stores_a_copy(tree: Tree) -> None:
    value = {"A": {"B": 1}}
    tree.replace(uri(f"{CONF}/1"), value)
    value["A"]["B"] = 2
    assert tree.data[CONF]["1"] == {"A": {"B": 1}}


def test_replace_errors(tree: Tree) -> None:
    fails("not_found", lambda: tree.replace(uri("urn:oma:mo:none:1.0/0"), {}))
    fails("not_found", lambda: tree.replace(uri(f"{CONF}/9/Name"), "x"))
    fails("not_found", lambda: tree.replace(uri(f"{CONF}/0/Name/x"), "x"))
    fails("forbidden", lambda: tree.replace(uri(f"{SECRET}/0"), {}))
    assert tree.data == tree_data()


def test_new_instance_ids(tree: Tree) -> None:
    assert tree.new_instance(CONF, {"Name": "two"}) == "2"
    del tree.data[CONF]["0"]
    assert tree.new_instance(CONF, {"Name": "again"}) == "0"
    assert tree.new_instance(CONF, {}) == "3"
    assert sorted(tree.data[CONF]) == ["0", "1", "2", "3"]
    assert tree.data[CONF]["0"] == {"Name": "again"}


def test_new_instance_errors(tree: Tree) -> None:
    fails("not_found", lambda: tree.new_instance("urn:oma:mo:none:1.0", {}))
    fails("forbidden", lambda: tree.new_instance(SECRET, {}))
    assert tree.data == tree_data()


def test_delete_subtree(tree: Tree) -> None:
    tree.delete(uri(f"{CONF}/0/Sub"))
    assert "Sub" not in tree.data[CONF]["0"]
    tree.delete(uri(f"{CONF}/1"))
    assert list(tree.data[CONF]) == ["0"]
    tree.delete(uri(f"{CONF}/0/Name"))
    assert tree.data[CONF]["0"] == {"Reboot": ""}


@pytest.mark.parametrize(
    "text",
    [f"{DEVINFO}/0", f"{DEVINFO}/0/Man", f"{CONF}/0/Sub", f"{CONF}/0"],
    ids=["permanent", "inside", "permanent-below", "ancestor"],
)
def test_delete_permanent_is_not_allowed(text: str) -> None:
    tree = Tree(tree_data(), permanent=[f"{DEVINFO}/0", f"{CONF}/0/Sub/A"])
    fails("not_allowed", lambda: tree.delete(uri(text)))
    assert tree.data == tree_data()


def test_delete_sibling_of_permanent_is_allowed() -> None:
    tree = Tree(tree_data(), permanent=[f"{CONF}/0/Sub/A"])
    tree.delete(uri(f"{CONF}/0/Name"))
    tree.delete(uri(f"{CONF}/1"))
    assert tree.data[CONF] == {"0": {"Reboot": "", "Sub": {"A": {"B": 1, "C": {"D": True}}}}}


def test_delete_errors(tree: Tree) -> None:
    fails("not_found", lambda: tree.delete(uri(f"{CONF}/9")))
    fails("not_found", lambda: tree.delete(uri(f"{CONF}/0/Nope")))
    fails("not_found", lambda: tree.delete(uri("urn:oma:mo:none:1.0/0")))
    fails("forbidden", lambda: tree.delete(uri(f"{SECRET}/0")))
    assert tree.data == tree_data()


def test_check_executable(tree: Tree) -> None:
    tree.check_executable(uri(f"{CONF}/0/Reboot"))
    fails("not_allowed", lambda: tree.check_executable(uri(f"{CONF}/0/Name")))
    fails("not_allowed", lambda: tree.check_executable(uri(f"{CONF}/0")))
    fails("not_found", lambda: tree.check_executable(uri(f"{CONF}/1/Reboot")))
    fails("forbidden", lambda: tree.check_executable(uri(f"{SECRET}/0/Key")))


# -- persistence ---------------------------------------------------------------------------------
def test_tree_json_round_trip(tree: Tree) -> None:
    value = tree.to_json()
    assert value["permanent"] == [f"{DEVINFO}/0"]
    assert value["executable"] == [f"{CONF}/0/Reboot"]
    assert value["private"] == [SECRET]
    again = Tree.from_json(value)
    assert again.to_json() == value
    assert again.data == tree.data
    fails("not_allowed", lambda: again.delete(uri(f"{DEVINFO}/0")))
    fails("forbidden", lambda: again.extract(uri(f"{SECRET}/0"), PROFILE))
    again.check_executable(uri(f"{CONF}/0/Reboot"))


def test_tree_from_empty_json() -> None:
    tree = Tree.from_json({})
    assert tree.data == {}
    assert tree.extract(uri("*"), PROFILE) == {}


def test_tree_copies_its_input() -> None:
    data = tree_data()
    tree = Tree(data)
    data[CONF]["0"]["Name"] = "changed"
    assert tree.data[CONF]["0"]["Name"] == "zero"


def test_device_json_round_trip() -> None:
    device = make_device(without=["SHOW"])
    device.defaults["urn:oma:mo:mms:1.0"] = "http://c/mms"
    value = device.to_json()
    assert value["device_id"] == DEVICE_ID
    assert "SHOW" not in value["features"]
    again = Device.from_json(value)
    assert again.device_id == device.device_id
    assert again.devinfo == device.devinfo
    assert again.features == device.features
    assert again.defaults == device.defaults
    assert again.tree.to_json() == device.tree.to_json()


def test_make_tree_is_fresh() -> None:
    first = make_tree()
    first.delete(uri(f"{CONF}/1"))
    assert f"{CONF}/1" in {f"{m}/{i}" for m, i in make_tree().instances()}
