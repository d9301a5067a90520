"""Run artefacts on disk: the append-only event log and the saved result."""
