"""Platforms: where the storefront runs (local processes, Docker containers, the user's system)."""
