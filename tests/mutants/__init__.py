"""Faulty variants of the bundled sample client and server: each breaks exactly one requirement,
in a way a real implementation might. They are the harness's own test fixtures: the kill matrix
runs the suite against each and expects a failing case that names the requirement it breaks."""
