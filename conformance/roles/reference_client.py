"""The reference client: the harness as a DM client (a simulated device) when the implementation
under test is a DM server. Its device is simulated-device.yaml under a device ID of the case's
own; it answers the server's commands with the core, step by step as a case says, with statuses
a case dictates where a negative test needs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from importlib import resources
from typing import Any

from conformance.core.client import ClientSession, Done, Send
from conformance.core.codec import encode_client_message
from conformance.core.device import Device
from conformance.core.messages import Alert, ClientMessage, Command, Status
from conformance.inputs import load_yaml
from conformance.profiles import Profile
from conformance.roles.client_driver import Driver
from conformance.roles.exchange import HttpExchange
from conformance.roles.http import ClientTls, new_client


def _device_file() -> dict[str, Any]:
    with resources.as_file(resources.files(__package__) / "simulated-device.yaml") as path:
        return dict(load_yaml(path).data)


def simulated_device(device_id: str, profile: Profile) -> Device:
    """The simulated device (simulated-device.yaml), under `device_id`."""
    device = Device.from_json(_device_file())
    device.device_id = device_id
    device.devinfo = {**device.devinfo, profile.keys.devid: device_id}
    return device


def device_facts() -> dict[str, str]:
    """What server-role cases may name of the simulated device's tree: `{device.<fact>}`."""
    return dict(_device_file()["facts"])


class ReferenceClient:
    """One simulated device talking to the server under test, one session at a time."""

    def __init__(
        self, profile: Profile, device: Device, timeout_s: float, tls: ClientTls | None = None
    ) -> None:
        self.profile = profile
        self.device = device
        self.driver = Driver(profile, new_client(timeout_s, tls), timeout_s, tls=tls)
        self.session: ClientSession | None = None
        self.devinfo = True  # whether a first message carries the device information (seed 6: MAY)
        self.last: HttpExchange | None = None
        self.done: Done | None = None

    def close(self) -> None:
        self.driver.http.close()

    @property
    def exchanges(self) -> list[HttpExchange]:
        return self.driver.exchanges

    def _post(
        self, send: Send, headers: dict[str, str | None] | None, body: bytes | None
    ) -> HttpExchange:
        merged = dict(send.headers)
        for name, value in (headers or {}).items():
            found = next((k for k in merged if k.lower() == name.lower()), name)
            merged.pop(found, None)
            if value is not None:
                merged[name] = value
        self.last = self.driver.call("POST", send.url, merged, send.body if body is None else body)
        return self.last

    def send_first(
        self,
        url: str,
        alerts: tuple[Alert, ...] | None = None,
        headers: dict[str, str | None] | None = None,
        body: bytes | None = None,
    ) -> HttpExchange:
        """Open a session: POST the first message to `url`."""
        first = None if self.devinfo else ClientMessage(statuses=(), alerts=alerts)
        self.session = ClientSession(
            self.profile, self.device, url, alerts=alerts, first_message=first
        )
        self.done = None
        return self._post(self.session.start(), headers, body)

    def send_statuses(
        self, dictate: Callable[[tuple[Command, ...]], dict[int, Status]] | None = None
    ) -> HttpExchange | None:
        """Execute the commands of the last answer and POST their statuses; `dictate` may replace
        the status of some of them (by their index among the commands that get one). None when
        the session ended instead (END, or an answer the client refuses, A1)."""
        if self.session is None or self.last is None:
            raise RuntimeError("no session is open")
        self.driver.answer(self.session, self.last)
        action = self.driver.until_send(self.session)
        if isinstance(action, Done):
            self.done = action
            return None
        dictated = dictate(self._answered()) if dictate else {}
        if not dictated:
            return self._post(action, None, None)
        statuses = tuple(dictated.get(i, s) for i, s in enumerate(action.message.statuses))
        message = replace(action.message, statuses=statuses)
        content_type, body = encode_client_message(message, self.profile)
        headers: dict[str, str | None] = {self.profile.headers.content_type: content_type}
        return self._post(replace(action, body=body, message=message), headers, body)

    def _answered(self) -> tuple[Command, ...]:
        """The commands of the last answer that get a status (END does not)."""
        assert self.session is not None
        end = self.profile.for_action("end").name
        return tuple(c for c in self.session.received[-1].commands if c.name != end)
