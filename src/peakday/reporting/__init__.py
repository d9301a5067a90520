"""Reports: pure renderers from a Result, and one writer that touches disk."""
