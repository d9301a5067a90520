"""The experiment: typed models (pure), validation (pure), loading from YAML (I/O)."""
