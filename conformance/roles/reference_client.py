"""The reference client: the harness as a DM client (a simulated device) when the implementation
under test is a DM server. Its device is the sample client's factory device under the DUT's
device ID; it answers the server's commands with the core, step by step as a case says, with
statuses a case dictates where a negative test needs them."""

from __future__ import annotations

from dataclasses import replace

from conformance.core.client import ClientSession, Done, Send
from conformance.core.codec import encode_client_message
from conformance.core.device import Device
from conformance.core.messages import Alert, Status
from conformance.profiles import Profile
from conformance.roles.client_driver import Driver
from conformance.roles.exchange import HttpExchange
from conformance.roles.http import new_client
from conformance.samples.client import factory_device


def simulated_device(device_id: str, profile: Profile) -> Device:
    """The factory device of the sample client, under `device_id`."""
    device = factory_device()
    device.device_id = device_id
    device.devinfo = {**device.devinfo, profile.keys.devid: device_id}
    return device


class ReferenceClient:
    """One simulated device talking to the server under test, one session at a time."""

    def __init__(self, profile: Profile, device: Device, timeout_s: float) -> None:
        self.profile = profile
        self.device = device
        self.driver = Driver(profile, new_client(timeout_s), timeout_s)
        self.session: ClientSession | None = None
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
        self.session = ClientSession(self.profile, self.device, url, alerts=alerts)
        self.done = None
        return self._post(self.session.start(), headers, body)

    def send_statuses(self, statuses: tuple[Status, ...] | None = None) -> HttpExchange | None:
        """Execute the commands of the last answer and POST their statuses (or `statuses`).
        None when the session ended instead (END, or an answer the client refuses, A1)."""
        assert self.session is not None and self.last is not None
        self.driver.answer(self.session, self.last)
        action = self.driver.until_send(self.session)
        if isinstance(action, Done):
            self.done = action
            return None
        if statuses is None:
            return self._post(action, None, None)
        message = replace(action.message, statuses=statuses)
        content_type, body = encode_client_message(message, self.profile)
        headers = {self.profile.headers.content_type: content_type}
        return self._post(replace(action, body=body, message=message), headers, body)
