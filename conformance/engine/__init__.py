"""The engine: loads and checks test cases and runs them in the harness's role, without pytest.
The step kinds are registered once (steps.py); the two role runners (client_role.py,
server_role.py) carry them out over the roles' I/O; a run leaves a CaseRecord (records.py) and
tells its listeners (events.py) what happened. The plugin and the command line stand on it."""
