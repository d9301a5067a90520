"""Distributed Locust without processes: where the master listens, what the workers launcher is
given, stop order, worker.env, and `peakday run --master-bind/--expect-workers`."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from peakday.cli import main
from peakday.errors import EnvironmentProblem, UsageError
from peakday.experiment.loader import load_experiment
from peakday.experiment.overrides import apply_worker_options
from peakday.load.runner import Distribution, LocustProcess, distribution_for
from peakday.load.workers import LocalWorkers, WorkerLaunch, format_worker_env
from peakday.processes.children import ManagedProcess, ProcessGroup

REPO = Path(__file__).resolve().parents[3]
SMOKE = REPO / "experiments" / "smoke.yaml"
RUN_ENV = {"PEAKDAY_AUTH_URL": "http://127.0.0.1:40001", "PEAKDAY_CLIENT_RETRIES": "0"}


class FakePopen:
    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        return None


class FakeProcesses(ProcessGroup):
    """Records starts and stops instead of spawning anything."""

    def __init__(self, tmp_path: Path, fail_stop: bool = False) -> None:
        super().__init__(tmp_path / "pids.json")
        self.started: list[tuple[str, list[str], Mapping[str, str]]] = []
        self.stopped: list[str] = []
        self.fail_stop = fail_stop

    def start(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> ManagedProcess:
        self.started.append((name, list(argv), dict(env or {})))
        return ManagedProcess(name, FakePopen(len(self.started)), log_path, tuple(argv))  # type: ignore[arg-type]

    def stop(self, child: ManagedProcess, grace_s: float = 5.0) -> None:
        self.stopped.append(child.name)
        if self.fail_stop:
            raise OSError("no such process")


class FakeWorkers:
    """A launcher whose workers reach the master on 127.0.0.2 (say, a network gateway)."""

    def __init__(self, refuse: bool = False) -> None:
        self.launches: list[WorkerLaunch] = []
        self.stops = 0
        self.refuse = refuse

    def default_bind_host(self) -> str:
        return "127.0.0.2"

    def dial_host(self, bind_host: str) -> str:
        if self.refuse:
            raise UsageError(f"containers cannot reach {bind_host!r}")
        return "127.0.0.2" if bind_host == "0.0.0.0" else bind_host

    def start(self, launch: WorkerLaunch) -> None:
        self.launches.append(launch)

    def failure_detail(self) -> str:
        return ""

    def stop(self) -> None:
        self.stops += 1


def locust(
    tmp_path: Path,
    processes: ProcessGroup,
    distribution: Distribution,
    workers: FakeWorkers | None = None,
) -> LocustProcess:
    locustfile = tmp_path / "storefront.py"
    locustfile.touch()
    return LocustProcess(
        processes,
        tmp_path,
        locustfile,
        tmp_path / "load-plan.json",
        tmp_path / "metrics.jsonl",
        request_timeout_s=2.0,
        env=RUN_ENV,
        host="http://127.0.0.1:40004",
        distribution=distribution,
        workers=workers,
    )


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_master_listens_where_the_workers_launcher_says_and_workers_dial_it(
    tmp_path: Path,
) -> None:
    processes, workers = FakeProcesses(tmp_path), FakeWorkers()
    runner = locust(tmp_path, processes, Distribution(local_workers=2), workers)
    runner.start()

    ((name, argv, env),) = processes.started
    assert name == "locust-master"
    assert option(argv, "--master-bind-host") == "127.0.0.2"
    assert option(argv, "--expect-workers") == "2"
    port = int(option(argv, "--master-bind-port"))
    assert runner.master_address == f"127.0.0.2:{port}"
    assert env["PEAKDAY_LOAD_PLAN"].endswith("load-plan.json")
    (launch,) = workers.launches
    assert (launch.count, launch.master_host, launch.master_port) == (2, "127.0.0.2", port)
    assert dict(launch.env) == RUN_ENV, "workers get the run's settings, not the plan"


def test_an_explicit_bind_counts_local_and_external_workers(tmp_path: Path) -> None:
    processes, workers = FakeProcesses(tmp_path), FakeWorkers()
    dist = distribution_for(2, 3, "0.0.0.0:5557")
    locust(tmp_path, processes, dist, workers).start()

    argv = processes.started[0][1]
    assert option(argv, "--master-bind-host") == "0.0.0.0"
    assert option(argv, "--master-bind-port") == "5557"
    assert option(argv, "--expect-workers") == "5"
    assert [(w.count, w.master_host, w.master_port) for w in workers.launches] == [
        (2, "127.0.0.2", 5557)
    ]


def test_with_only_external_workers_nothing_is_launched_here(tmp_path: Path) -> None:
    processes, workers = FakeProcesses(tmp_path), FakeWorkers()
    locust(tmp_path, processes, distribution_for(0, 2, "127.0.0.1:5557"), workers).start()
    assert len(processes.started) == 1 and workers.launches == []


def test_a_bind_the_workers_cannot_reach_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    processes = FakeProcesses(tmp_path)
    runner = locust(
        tmp_path, processes, distribution_for(2, 0, "127.0.0.1:5557"), FakeWorkers(refuse=True)
    )
    with pytest.raises(UsageError):
        runner.start()
    assert processes.started == []


def test_without_a_launcher_workers_are_local_processes_dialling_loopback(
    tmp_path: Path,
) -> None:
    processes = FakeProcesses(tmp_path)
    locust(tmp_path, processes, distribution_for(2, 0, "0.0.0.0:5557")).start()

    names = [name for name, _, _ in processes.started]
    assert names == ["locust-master", "locust-worker-0", "locust-worker-1"]
    worker_argv = processes.started[1][1]
    assert "--worker" in worker_argv
    assert option(worker_argv, "--master-host") == "127.0.0.1"
    assert option(worker_argv, "--master-port") == "5557"


@pytest.mark.parametrize(
    ("bind_host", "dialled"),
    [("0.0.0.0", "127.0.0.1"), ("*", "127.0.0.1"), ("127.0.0.1", "127.0.0.1"),
     ("192.168.1.5", "192.168.1.5")],
    ids=["any-interface", "zmq-wildcard", "loopback", "one-interface"],
)  # fmt: skip
def test_local_workers_dial_the_interface_the_master_listens_on(
    tmp_path: Path, bind_host: str, dialled: str
) -> None:
    assert LocalWorkers(FakeProcesses(tmp_path)).dial_host(bind_host) == dialled


def test_the_master_stops_first_and_workers_stop_even_when_that_fails(tmp_path: Path) -> None:
    processes, workers = FakeProcesses(tmp_path, fail_stop=True), FakeWorkers()
    runner = locust(tmp_path, processes, Distribution(local_workers=1), workers)
    runner.start()
    with pytest.raises(OSError):
        runner.stop()
    assert processes.stopped == ["locust-master"] and workers.stops == 1


def test_worker_env_is_sorted_and_reads_back_through_the_shell() -> None:
    text = format_worker_env({"PEAKDAY_B": "http://127.0.0.1:1", "PEAKDAY_A": "/tmp/my run"})
    lines = text.splitlines()
    assert lines[0].startswith("# ")
    assert lines[1:] == ["PEAKDAY_A='/tmp/my run'", "PEAKDAY_B=http://127.0.0.1:1"]
    parsed = dict(shlex.split(line)[0].split("=", 1) for line in lines[1:])
    assert parsed == {"PEAKDAY_A": "/tmp/my run", "PEAKDAY_B": "http://127.0.0.1:1"}


def test_command_line_options_override_the_experiments_master_and_worker_count() -> None:
    spec = load_experiment(SMOKE)
    updated = apply_worker_options(spec, "127.0.0.1:5557", "2")
    assert updated.load.master_bind == "127.0.0.1:5557"
    assert updated.load.external_workers == 2
    assert updated.load.duration == spec.load.duration
    assert apply_worker_options(spec, None, None) is spec


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--master-bind", "5557"], ["--master-bind", "'5557'", "HOST:PORT", "Hint:"]),
        (["--master-bind", "0.0.0.0:70000"], ["--master-bind", "'0.0.0.0:70000'", "Hint:"]),
        (["--master-bind", "my host:5557", "--expect-workers", "1"], ["'my host:5557'"]),
        (
            ["--master-bind", "0.0.0.0:5557", "--expect-workers", "two"],
            ["--expect-workers", "'two'", "Hint:"],
        ),
        (
            ["--master-bind", "0.0.0.0:5557", "--expect-workers", "-1"],
            ["--expect-workers", "'-1'"],
        ),
        (["--expect-workers", "2"], ["--expect-workers 2", "master_bind", "Hint:"]),
        (["--master-bind", "0.0.0.0:5557"], ["0.0.0.0:5557", "no worker", "Hint:"]),
    ],
    ids=["no-port", "port-too-big", "space", "not-a-number", "negative", "no-bind", "no-worker"],
)
def test_bad_worker_options_are_usage_errors_naming_the_option(
    args: list[str], words: list[str], tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, ["run", str(SMOKE), "--out", str(tmp_path / "run"), *args])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert message.startswith("error:"), message
    for word in words:
        assert word in message, message
    assert not (tmp_path / "run").exists(), "nothing starts"


def test_run_help_shows_the_worker_options() -> None:
    text = CliRunner().invoke(main, ["run", "--help"]).output
    assert "--master-bind HOST:PORT" in text and "--expect-workers N" in text


def test_a_master_whose_external_workers_never_came_says_where_it_waited(tmp_path: Path) -> None:
    processes = FakeProcesses(tmp_path)
    runner = locust(tmp_path, processes, distribution_for(0, 2, "127.0.0.1:5557"), FakeWorkers())
    runner.start()
    runner.child.popen.poll = lambda: 1  # type: ignore[method-assign]
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "locust.log").write_text("Gave up waiting for workers to connect\n")

    with pytest.raises(EnvironmentProblem) as caught:
        runner.wait_started()

    message = str(caught.value)
    assert "exited after 0 s without starting the load" in message
    assert "master on 127.0.0.1:5557 waits up to 30 s for 2 workers (2 from elsewhere)" in message
    assert "Gave up waiting" in message and "Hint: start the workers" in message
