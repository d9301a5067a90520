"""`python -m peakday` is the `peakday` command."""

from __future__ import annotations

from peakday.cli import main

main()
