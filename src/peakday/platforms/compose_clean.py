"""`peakday clean` for the compose platform: restore each user project a dead run left changed,
by the ledger in its run folder (compose_restore.py), before its labelled containers and
networks are removed."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from pathlib import Path

from peakday.images.build import MANAGED_LABEL
from peakday.platforms.clean import Cleaned
from peakday.platforms.compose_cli import ComposeCli
from peakday.platforms.compose_restore import mark_restored, read_ledger, restore
from peakday.platforms.docker_client import ContainerEngine
from peakday.platforms.docker_names import RUN_DIR_LABEL, RUN_LABEL
from peakday.results.folder import COMPOSE_DIR, COMPOSE_LEDGER_FILE, RunFolder


def find_compose_ledgers(engine: ContainerEngine | None, folders: Iterable[Path]) -> list[Path]:
    """Ledgers in the run folders named by peakday's labels, and under `folders`."""
    run_dirs: set[str] = set()
    if engine is not None:
        wanted = {MANAGED_LABEL: "true", RUN_LABEL: ""}
        labelled = [c.labels for c in engine.find_containers(wanted)]
        labelled += [n.labels for n in engine.find_networks(wanted)]
        run_dirs = {labels[RUN_DIR_LABEL] for labels in labelled if labels.get(RUN_DIR_LABEL)}
    paths: dict[Path, None] = {}
    for run_dir in run_dirs:
        candidate = RunFolder(Path(run_dir)).compose_ledger
        if candidate.is_file():
            paths[candidate.resolve()] = None
    ledger = f"{COMPOSE_DIR}/{COMPOSE_LEDGER_FILE}"
    for folder in folders:
        for pattern in (ledger, f"*/{ledger}", f"*/*/{ledger}"):
            for path in folder.glob(pattern):
                paths[path.resolve()] = None
    return list(paths)


def clean_compose(
    ledgers: Iterable[Path],
    cli: ComposeCli,
    engine: ContainerEngine,
    *,
    include_live: bool,
    pid_alive: Callable[[int], bool],
) -> tuple[list[Cleaned], list[Cleaned], list[str]]:
    removed: list[Cleaned] = []
    kept: list[Cleaned] = []
    problems: list[str] = []
    for path in ledgers:
        try:
            ledger = read_ledger(path)
        except (OSError, ValueError, KeyError, TypeError) as error:
            problems.append(f"the compose ledger {path} could not be read: {error}")
            continue
        if ledger.restored:
            continue
        here = ledger.host == socket.gethostname()
        if not include_live and here and pid_alive(ledger.orchestrator_pid):
            kept.append(Cleaned("project", ledger.project, "its run is going"))
            continue
        try:
            done = restore(ledger, cli, engine)
        except Exception as exc:
            problems.append(
                f"the compose project {ledger.project!r} (ledger {path}) could not be restored: "
                f"{exc} Run 'peakday clean' again once Docker answers."
            )
            continue
        mark_restored(path, ledger)
        removed.extend(Cleaned("project", ledger.project, line) for line in done)
    return removed, kept, problems
