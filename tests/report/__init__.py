"""Tests of what a run reports: Allure results, JUnit, the conformance report, the CI gate."""
