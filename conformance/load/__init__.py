"""The load mode (`dm20-conformance load`): many simulated devices run conformant sessions against
a DM server under test at once, every exchange judged by the same core as the suite, with sessions
per second, latency percentiles and every non-conformant exchange by requirement as the result.
`runner` drives the devices (asyncio and httpx.AsyncClient); `stats` counts and reports."""

from conformance.load.runner import LoadError, LoadSettings, run_load
from conformance.load.stats import LoadStats

__all__ = ["LoadError", "LoadSettings", "LoadStats", "run_load"]
