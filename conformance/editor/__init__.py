"""The spec editor's workbench: the seed text with behaviour beside each sentence.

`seed` parses the seeds into blocks and finds quotes in them; `defects` loads the draft's own
defects (`catalog/defects.yaml`); `evidence` reads runs' report.json and finds where
implementations disagree; `draft_page` renders the annotated draft as one HTML page; `whatif`
reruns a run under a changed profile and compares; `command` adds `draft`, `defects` and
`whatif` to the command line. It stands on report and engine, as the plugin does."""
