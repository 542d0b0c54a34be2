"""The dm20 pytest plugin: glue between pytest and the engine. Its hooks are in hooks.py (the
`pytest11` entry point: options, and collection only when asked); items.py holds the pytest nodes
(a case file, a case run) and recorder.py writes each record as it arrives, decides the gate and
writes the reports. The cases are loaded and run by conformance.engine."""
