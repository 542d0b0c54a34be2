"""dm20-conformance: a conformance test harness for the OMA DM 2.0 draft protocol."""

__version__ = "0.1.0"
