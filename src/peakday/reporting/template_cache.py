"""The report template, compiled once per user instead of on every run.

Jinja turns report.html.j2 into Python source and compiles that on first use: about 50 ms of a
run's CPU, every run, for a template that changes only with peakday. Jinja's own bytecode cache
keeps the compiled code in its per-user folder (the system temp folder's `_jinja2-cache-<uid>`,
mode 0700, refused if another user owns it) under a key made of the template's name and source
checksum, so an edited template is compiled again, and Jinja checks its own and Python's
version before using a file. peakday's files there are named `peakday-<key>.cache` and nothing
else in that folder is touched.

A cache is only a saving: a folder that cannot be made, a file that cannot be read, written or
unmarshalled means compiling as before, never an error.
"""

from __future__ import annotations

import logging

import jinja2
from jinja2.bccache import Bucket

log = logging.getLogger(__name__)

CACHE_FILE_PATTERN = "peakday-%s.cache"


class QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """FileSystemBytecodeCache, where a cache that fails means compiling the template again."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError) as error:  # unreadable or corrupt
            log.debug("template cache: not used (%s)", error)
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as error:  # full disk, read-only folder: compile again next time
            log.debug("template cache: not written (%s)", error)


def template_cache(directory: str | None = None) -> jinja2.BytecodeCache | None:
    """The per-user cache (`directory` instead, for tests), or None when it cannot be had."""
    try:
        return QuietBytecodeCache(directory, CACHE_FILE_PATTERN)
    except (OSError, RuntimeError) as error:  # RuntimeError: Jinja found no safe folder
        log.debug("template cache: none (%s)", error)
        return None
