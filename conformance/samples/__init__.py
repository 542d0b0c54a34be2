"""The bundled sample implementations: a conforming DM client and a conforming DM server built on
the core, runnable as the DUT file contract says (sample-client.yaml, sample-server.yaml). They are
the suite's default implementations under test and the baseline its faulty variants (mutants)
and benign variants are made from. They depend on the core only, never on the harness."""
