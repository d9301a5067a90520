"""Child processes, generically: start and always stop them, poll until ready, find binaries."""
