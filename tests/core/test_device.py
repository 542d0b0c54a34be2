"""The device a client acts on, saved to and loaded from one JSON object."""

from __future__ import annotations

import json

from conformance.core.device import Device
from conformance.core.messages import Alert

from .conftest import CONF, PROFILE, make_device, sc

ALERT = Alert(PROFILE.alerts.generic, f"{CONF}/0/Reboot", "critical", {PROFILE.keys.result: 200})


def test_device_round_trips_through_json() -> None:
    device = make_device()
    device.defaults["urn:oma:mo:mms:1.0"] = "http://c.example/mms"
    device.undelivered.extend([ALERT, Alert("urn:x")])
    value = json.loads(json.dumps(device.to_json()))
    again = Device.from_json(value)
    assert again.to_json() == device.to_json()
    assert (again.device_id, again.devinfo, again.features, again.defaults) == (
        device.device_id,
        device.devinfo,
        device.features,
        device.defaults,
    )
    assert again.undelivered == [ALERT, Alert("urn:x")]
    assert again.tree.data == device.tree.data


def test_undelivered_alerts_keep_every_member() -> None:
    assert make_device().to_json()["undelivered"] == []
    device = make_device()
    device.undelivered.append(ALERT)
    [saved] = device.to_json()["undelivered"]
    assert saved == {
        "alert_type": PROFILE.alerts.generic,
        "source_uri": f"{CONF}/0/Reboot",
        "mark": "critical",
        "data": {PROFILE.keys.result: sc("ok")},
    }


def test_a_saved_device_without_the_optional_members() -> None:
    saved = make_device().to_json()
    for member in ("devinfo", "features", "defaults", "undelivered"):
        del saved[member]
    device = Device.from_json(saved)
    assert (device.devinfo, device.features, device.defaults, device.undelivered) == (
        {},
        frozenset(),
        {},
        [],
    )
