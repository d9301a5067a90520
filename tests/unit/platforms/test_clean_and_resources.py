from __future__ import annotations

import json
import socket
from pathlib import Path

from peakday.images.build import MANAGED_LABEL
from peakday.platforms.clean import (
    Cleaned,
    CleanReport,
    clean_docker,
    clean_processes,
    find_pid_files,
    format_clean_report,
)
from peakday.platforms.docker_client import ContainerSpec
from peakday.platforms.docker_names import HOST_LABEL, PID_LABEL, RUN_DIR_LABEL, RUN_LABEL
from peakday.platforms.resources import ResourceReading, cpu_percent, sample_records
from peakday.processes.children import ProcessGroup, registry_entry_name
from unit.platforms.fakes import FakeEngine


def labels(run: str, pid: int, run_dir: str = "/tmp/run") -> dict[str, str]:
    return {
        MANAGED_LABEL: "true",
        RUN_LABEL: run,
        PID_LABEL: str(pid),
        HOST_LABEL: socket.gethostname(),
        RUN_DIR_LABEL: run_dir,
    }


def add_run(engine: FakeEngine, run: str, pid: int) -> None:
    engine.create_network(f"peakday-{run}", labels(run, pid))
    for service in ("toxiproxy", "auth"):
        engine.run(
            ContainerSpec(f"peakday-{run}-{service}", "img", f"peakday-{run}", labels(run, pid))
        )


def test_clean_removes_runs_whose_orchestrator_is_gone_and_keeps_live_ones() -> None:
    engine = FakeEngine()
    add_run(engine, "dead", pid=111)
    add_run(engine, "live", pid=222)
    removed, kept, run_dirs = clean_docker(
        engine, include_live=False, pid_alive=lambda pid: pid == 222
    )
    assert sorted(c.name for c in removed) == [
        "peakday-dead",
        "peakday-dead-auth",
        "peakday-dead-toxiproxy",
    ]
    assert {c.name for c in kept} == {"peakday-live", "peakday-live-auth", "peakday-live-toxiproxy"}
    assert run_dirs == {"/tmp/run"}
    assert set(engine.containers) == {"peakday-live-toxiproxy", "peakday-live-auth"}


def test_clean_all_removes_live_runs_too() -> None:
    engine = FakeEngine()
    add_run(engine, "live", pid=222)
    clean_docker(engine, include_live=True, pid_alive=lambda pid: True)
    assert engine.containers == {} and engine.networks == {}


def test_processes_of_a_dead_run_are_killed_by_group_and_the_pid_file_emptied(
    tmp_path: Path,
) -> None:
    registry = tmp_path / "registry"
    pid_file = tmp_path / "run" / "pids.json"
    pid_file.parent.mkdir()
    pid_file.write_text(
        json.dumps(
            {
                "orchestrator_pid": 999_999,
                "children": [
                    {"name": "toxiproxy", "pid": 501, "argv": ["toxiproxy-server"]},
                    {"name": "locust", "pid": 502, "argv": ["python", "-m", "locust"]},
                    {"name": "auth", "pid": 503, "argv": ["python", "-m", "peakday.storefront"]},
                ],
            }
        )
    )
    registry.mkdir()
    (registry / registry_entry_name(pid_file)).write_text(json.dumps({"pid_file": str(pid_file)}))
    killed: list[int] = []
    found = find_pid_files(registry, [], [])
    assert found == [pid_file]
    removed, kept = clean_processes(
        found,
        registry,
        include_live=False,
        pid_alive=lambda pid: False,
        matches=lambda pid, argv: pid != 503,  # 503 now belongs to some other program
        kill_group=killed.append,
    )
    assert killed == [501, 502]
    assert [c.name for c in removed] == ["toxiproxy (pid 501)", "locust (pid 502)"]
    assert "every toxic" in removed[0].detail
    assert kept == []
    assert json.loads(pid_file.read_text())["children"] == []
    assert list(registry.iterdir()) == []


def test_clean_returns_once_the_killed_children_have_exited(tmp_path: Path) -> None:
    """SIGKILL is not instant: clean waits (bounded) until each killed child is gone."""
    pid_file = tmp_path / "pids.json"
    pid_file.write_text(
        json.dumps({"orchestrator_pid": 4242, "children": [{"name": "auth", "pid": 7, "argv": []}]})
    )
    asked: list[int] = []

    def alive(pid: int) -> bool:  # the orchestrator is gone; auth takes three looks to die
        asked.append(pid)
        return pid == 7 and asked.count(7) < 3

    removed, _ = clean_processes(
        [pid_file], tmp_path, include_live=False, pid_alive=alive,
        matches=lambda pid, argv: True, kill_group=lambda pid: None,
    )  # fmt: skip
    assert [c.name for c in removed] == ["auth (pid 7)"]
    assert asked.count(7) == 3, "clean returned while the killed child was still alive"

    pid_file.write_text(
        json.dumps({"orchestrator_pid": 4242, "children": [{"name": "auth", "pid": 7, "argv": []}]})
    )
    clean_processes(
        [pid_file], tmp_path, include_live=False, pid_alive=lambda pid: pid == 7,
        matches=lambda pid, argv: True, kill_group=lambda pid: None, wait_s=0.1,
    )  # fmt: skip  # a child that never dies: the wait is bounded


def test_a_live_run_keeps_its_processes(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids.json"
    pid_file.write_text(
        json.dumps({"orchestrator_pid": 4242, "children": [{"name": "auth", "pid": 7, "argv": []}]})
    )
    killed: list[int] = []
    removed, kept = clean_processes(
        [pid_file], tmp_path, include_live=False, pid_alive=lambda pid: True,
        matches=lambda pid, argv: True, kill_group=killed.append,
    )  # fmt: skip
    assert removed == [] and killed == [] and [c.name for c in kept] == ["auth (pid 7)"]


def test_the_process_group_registers_its_pid_file_while_children_run(tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    group = ProcessGroup(tmp_path / "run" / "pids.json", registry_dir=registry)
    child = group.start("sleeper", ["sleep", "30"], tmp_path / "sleep.log")
    (entry,) = registry.iterdir()
    assert json.loads(entry.read_text())["pid_file"] == str(tmp_path / "run" / "pids.json")
    group.stop(child, grace_s=1)
    assert list(registry.iterdir()) == []


def test_clean_report_says_what_was_removed_and_what_was_left() -> None:
    text = format_clean_report(
        CleanReport(
            removed=(Cleaned("container", "peakday-x-auth", "exited, run x"),),
            kept=(Cleaned("network", "peakday-y", "run y is still going"),),
        )
    )
    assert "Removed 1:" in text and "peakday-x-auth" in text and "--all" in text
    assert "Nothing to clean" in format_clean_report(CleanReport((), ()))


def test_cpu_percent_counts_one_busy_core_as_100() -> None:
    before = ResourceReading(cpu_seconds=10.0, memory_bytes=1)
    after = ResourceReading(cpu_seconds=10.5, memory_bytes=1)
    assert cpu_percent(before, after, wall_delta_s=1.0) == 50.0
    assert cpu_percent(None, after, 1.0) is None
    assert cpu_percent(after, before, 1.0) is None  # restarted: counters began again


def test_sample_records_mark_a_service_that_is_down() -> None:
    records = sample_records(
        100.0,
        {"auth": ResourceReading(1.0, 0)},
        {"auth": None, "checkout": ResourceReading(2.0, 64_000_000)},
        1.0,
    )
    assert records == [
        {"wall": 100.0, "service": "auth", "up": False, "cpu_percent": None, "memory_mb": None},
        {"wall": 100.0, "service": "checkout", "up": True, "cpu_percent": None, "memory_mb": 64.0},
    ]
