"""The YAML test cases shipped with the harness (installed as conformance.testcases)."""
