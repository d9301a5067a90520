"""Builds the live dashboard's snapshots in a process of its own, so that tailing and scoring the
run (pure Python, CPU-bound) never holds the orchestrator's interpreter while the fault loop
waits for its next moment.

    python -m peakday.dashboard.worker RUN_FOLDER

writes one JSON snapshot a line on stdout: at most every 0.2 s when the folder's files grew, at
least once a second, and a last one from result.json once the run has written it. It exits
when its parent goes away (stdout closed, or re-parented) or on a line on stdin.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import time
from pathlib import Path
from typing import IO

from peakday.results.folder import RunFolder

from .reader import FolderReader
from .state import SnapshotBuilder

POLL_S = 0.2


def follow(folder: RunFolder, out: IO[str], parent: int, stdin: IO[str] | None) -> None:
    reader = FolderReader(folder)
    builder = SnapshotBuilder()
    last_wall = 0.0
    published_final = False
    pause_s = POLL_S
    while os.getppid() == parent:
        if stdin is not None and select.select([stdin], [], [], 0)[0]:
            return  # the parent asked us to stop (or closed our stdin)
        changed = reader.poll()
        final = reader.final_result()
        now = time.time()
        due = now - last_wall >= 1.0 and not published_final
        if changed or due or (final is not None and not published_final):
            started = time.perf_counter()
            snapshot = builder.build(reader.records, now, final)
            out.write(snapshot.model_dump_json() + "\n")
            out.flush()
            last_wall, published_final = now, final is not None
            # never more than about half a core, whatever a snapshot costs
            pause_s = max(POLL_S, time.perf_counter() - started)
        time.sleep(pause_s)


def main() -> None:
    folder = RunFolder(Path(sys.argv[1]))
    parent = int(sys.argv[2]) if len(sys.argv) > 2 else os.getppid()
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):  # the parent went away
        follow(folder, sys.stdout, parent, sys.stdin)


if __name__ == "__main__":
    main()
