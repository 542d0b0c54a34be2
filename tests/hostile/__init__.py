"""The harness against broken and hostile implementations, interruptions and malformed input."""
