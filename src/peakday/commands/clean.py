"""`peakday clean`: remove what crashed runs left behind, and say what was removed."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("folders", nargs=-1, type=click.Path(path_type=Path))
@click.option("--all", "include_live", is_flag=True, help="Also remove runs still in progress.")
@click.option("--no-docker", is_flag=True, help="Do not look for containers and networks.")
def clean(folders: tuple[Path, ...], include_live: bool, no_docker: bool) -> None:
    """Remove containers, networks and processes (with their toxics) left by crashed runs.

    \b
    Containers and networks are found by the org.peakday.run label, processes by each run's
    pids.json (found through ~/.local/state/peakday, container labels, and FOLDERS; default
    ./results). On a Toxiproxy server you run yourself, the toxics a run added and the proxies
    it created are removed by its toxiproxy-ledger.jsonl, and nothing else on that server.
    A Compose project a run changed is restored by its compose/compose-ledger.json.
    Runs whose peakday process is still alive are left alone unless --all.
    Example:
      peakday clean
    """
    from peakday.errors import EnvironmentProblem
    from peakday.platforms.clean import (
        CleanReport,
        clean_docker,
        clean_ledgers,
        clean_processes,
        find_ledgers,
        find_pid_files,
        format_clean_report,
        pid_alive,
    )
    from peakday.processes.children import default_registry_dir

    removed = []
    kept = []
    problems: list[str] = []
    run_dirs: set[str] = set()
    if not no_docker:
        from peakday.images.engine import connect_docker
        from peakday.platforms.docker_client import DockerContainerEngine

        try:
            engine = DockerContainerEngine(connect_docker().client)
        except EnvironmentProblem:
            problems.append("no Docker engine answered, so containers were not looked for.")
        else:
            from peakday.platforms.compose_clean import clean_compose, find_compose_ledgers
            from peakday.platforms.compose_cli import SubprocessComposeCli

            # Projects first: their services sit on peakday's networks until restored.
            gone, left, trouble = clean_compose(
                find_compose_ledgers(engine, folders or (Path("results"),)),
                SubprocessComposeCli(),
                engine,
                include_live=include_live,
                pid_alive=pid_alive,
            )
            removed += gone
            kept += left
            problems += trouble
            gone, left, run_dirs = clean_docker(
                engine, include_live=include_live, pid_alive=pid_alive
            )
            removed += gone
            kept += left
    registry = default_registry_dir()
    pid_files = find_pid_files(registry, folders or (Path("results"),), run_dirs)
    # Ledgers first: their proxies forward to the user's services, while processes only
    # serve this run (and a ledger's pid file is emptied below).
    ledgers = find_ledgers(registry, folders or (Path("results"),), pid_files)
    gone, left, trouble = clean_ledgers(
        ledgers, registry, include_live=include_live, pid_alive=pid_alive
    )
    removed += gone
    kept += left
    problems += trouble
    gone, left = clean_processes(
        pid_files, registry, include_live=include_live, pid_alive=pid_alive
    )
    removed += gone
    kept += left
    report = CleanReport(tuple(removed), tuple(kept), tuple(problems))
    click.echo(format_clean_report(report))
    sys.exit(0)
