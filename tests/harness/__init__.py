"""Tests of the harness: CLI, plugin, reports, packaging, mutants, profiles, end to end."""
