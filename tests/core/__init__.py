"""Unit tests of the sans-I/O protocol core (conformance.core)."""
