"""The ceiling of bench_load.py, a locustfile: a bare Locust FastHttpUser that POSTs what a
simulated device's first message is (same URL, headers and body, one device ID per user) and
reads the answer, with no judging and no session. Against the sample server each such POST is a
whole session: it ends the session at once for a device with nothing queued. Only Locust imports
this file."""

from __future__ import annotations

import itertools

from locust import FastHttpUser, constant, task
from locust.env import Environment

from conformance.core.client import ClientSession
from conformance.load.cycle import device_prefix, worker_device_id
from conformance.profiles import load_profile
from conformance.roles.reference_client import simulated_device

PROFILE = load_profile()
PREFIX = device_prefix(None)
NUMBERS = itertools.count()


class BareDevice(FastHttpUser):
    """POSTs a device's first message, again and again, as fast as answered."""

    wait_time = constant(0)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        worker = max(getattr(environment.runner, "worker_index", 0), 0)
        device_id = worker_device_id(PREFIX, worker, next(NUMBERS))
        first = ClientSession(PROFILE, simulated_device(device_id, PROFILE), str(self.host)).start()
        self.url, self.body = first.url, first.body
        self.headers = {**first.headers, "Accept-Encoding": "identity"}  # as a DmDevice sends

    @task
    def post(self) -> None:
        self.client.post(self.url, data=self.body, headers=self.headers, name="exchange")
