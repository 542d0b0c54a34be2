"""Reports of a run: per-case results, the conformance report, Allure extras."""
