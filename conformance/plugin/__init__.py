"""The dm20 pytest plugin. Its hooks are in hooks.py (the `pytest11` entry point); the work is
done in cases.py (loading), items.py (pytest nodes), client_role.py and server_role.py (the role
runners), runner.py (what both share) and session.py (the run's state)."""
