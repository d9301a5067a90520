from __future__ import annotations

from pathlib import Path

import pytest

from peakday.errors import UsageError
from peakday.images.build import MANAGED_LABEL
from peakday.load.workers import WorkerLaunch, plugin_path
from peakday.platforms import docker as docker_platform
from peakday.platforms.docker import DockerPlatform
from peakday.platforms.docker_names import RUN_LABEL, SERVICE_LABEL, run_labels
from peakday.platforms.docker_workers import (
    DockerWorkers,
    gather_confirmations,
    in_network_env,
    plan_worker_containers,
)
from peakday.topology import storefront_topology
from unit.platforms.fakes import FakeEngine, FakeToxiproxy

RUN_ID = "20251201T110000Z-abc123"
PREFIX = f"peakday-{RUN_ID.lower()}"
IMAGE = "peakday/storefront:test"
HOST_ENV = {
    "PEAKDAY_AUTH_URL": "http://127.0.0.1:40001",
    "PEAKDAY_CHECKOUT_URL": "http://127.0.0.1:40004",
    "PEAKDAY_LABELS_URL": "http://127.0.0.1:40005",
    "PEAKDAY_PROXY_AUTH_LOGIN": "127.0.0.1:40001",
    "PEAKDAY_PROXY_AUTH_INTROSPECT": "127.0.0.1:40002",
    "PEAKDAY_CLIENT_RETRIES": "1",
}


def launch(tmp_path: Path, count: int = 2, confirmations: bool = True) -> WorkerLaunch:
    locustfile = tmp_path / "locustfiles" / "storefront.py"
    locustfile.parent.mkdir(exist_ok=True)
    locustfile.touch()
    env = dict(HOST_ENV)
    if confirmations:
        env["PEAKDAY_CONFIRMATIONS_DIR"] = str(tmp_path / "run" / "confirmations")
    return WorkerLaunch(
        count=count,
        master_host="172.30.0.1",
        master_port=5557,
        locustfile=locustfile,
        env=env,
        log_dir=tmp_path / "run" / "logs",
        run_dir=tmp_path / "run",
    )


def planned(tmp_path: Path, count: int = 2, confirmations: bool = True):  # type: ignore[no-untyped-def]
    return plan_worker_containers(
        launch(tmp_path, count, confirmations),
        storefront_topology(),
        run_id=RUN_ID,
        labels=run_labels(RUN_ID, "workers", tmp_path / "run"),
        image=IMAGE,
        user="1000:1000",
    )


def test_worker_containers_are_named_and_labelled_like_the_runs_other_containers(
    tmp_path: Path,
) -> None:
    workers = planned(tmp_path)
    assert [w.spec.name for w in workers] == [
        f"{PREFIX}-locust-worker-0",
        f"{PREFIX}-locust-worker-1",
    ]
    for index, worker in enumerate(workers):
        spec = worker.spec
        assert spec.labels[MANAGED_LABEL] == "true" and spec.labels[RUN_LABEL] == RUN_ID
        assert spec.labels[SERVICE_LABEL] == f"locust-worker-{index}"
        assert spec.network == PREFIX and spec.image == IMAGE
        assert spec.hostname == f"locust-worker-{index}"
        assert spec.user == "1000:1000"
        assert dict(spec.ports) == {}, "workers publish nothing"
        assert worker.log_path == tmp_path / "run" / "logs" / f"locust-worker-{index}.log"


def test_workers_run_locust_on_the_mounted_locustfile_and_plugin_against_the_master(
    tmp_path: Path,
) -> None:
    (worker, _) = planned(tmp_path)
    assert worker.spec.command == (
        "locust",
        "-f", "/peakday/locustfile/storefront.py,/peakday/plugin/locust_plugin.py",
        "--worker",
        "--master-host", "172.30.0.1",
        "--master-port", "5557",
        "--loglevel", "WARNING",
    )  # fmt: skip
    assert dict(worker.spec.read_only_binds) == {
        str(
            (tmp_path / "locustfiles" / "storefront.py").resolve()
        ): "/peakday/locustfile/storefront.py",
        str(plugin_path().resolve()): "/peakday/plugin/locust_plugin.py",
    }


def test_workers_reach_the_storefront_by_in_network_names_not_published_ports(
    tmp_path: Path,
) -> None:
    env = planned(tmp_path)[0].spec.environment
    assert env["PEAKDAY_AUTH_URL"] == "http://toxiproxy:18101"
    assert env["PEAKDAY_CHECKOUT_URL"] == "http://checkout:8102"
    assert env["PEAKDAY_LABELS_URL"] == "http://labels:8103"
    assert env["PEAKDAY_PROXY_AUTH_LOGIN"] == "toxiproxy:18101"
    assert env["PEAKDAY_PROXY_AUTH_INTROSPECT"] == "toxiproxy:18102"
    assert env["PEAKDAY_CLIENT_RETRIES"] == "1"
    assert not any("127.0.0.1" in value for value in env.values()), env


def test_each_worker_writes_confirmations_to_its_own_folder_in_the_run(tmp_path: Path) -> None:
    workers = planned(tmp_path)
    folder = tmp_path / "run" / "confirmations"
    assert len(workers) == 2
    for index, worker in enumerate(workers):
        assert worker.confirmations_dir == folder / f"locust-worker-{index}"
        assert dict(worker.spec.binds) == {
            str(folder / f"locust-worker-{index}"): "/peakday/confirmations"
        }
        assert worker.spec.environment["PEAKDAY_CONFIRMATIONS_DIR"] == "/peakday/confirmations"


def test_without_integrity_nothing_is_mounted_for_confirmations(tmp_path: Path) -> None:
    (worker,) = planned(tmp_path, count=1, confirmations=False)
    assert dict(worker.spec.binds) == {} and worker.confirmations_dir is None
    assert "PEAKDAY_CONFIRMATIONS_DIR" not in in_network_env(storefront_topology(), HOST_ENV)


def test_confirmations_are_gathered_into_the_runs_folder_named_after_the_worker(
    tmp_path: Path,
) -> None:
    worker_dir = tmp_path / "confirmations" / "locust-worker-1"
    worker_dir.mkdir(parents=True)
    (worker_dir / "1.jsonl").write_text('{"kind": "order"}\n')
    gather_confirmations(worker_dir)
    assert sorted(p.name for p in (tmp_path / "confirmations").iterdir()) == [
        "locust-worker-1-1.jsonl"
    ]


def docker_workers(engine: FakeEngine) -> DockerWorkers:
    engine.create_network(PREFIX, {})
    return DockerWorkers(
        engine,
        storefront_topology(),
        run_id=RUN_ID,
        labels=run_labels(RUN_ID, "workers", Path("/tmp")),
        image=IMAGE,
        user="1000:1000",
    )


@pytest.mark.parametrize(
    ("bind_host", "dialled"),
    [("0.0.0.0", "172.30.0.1"), ("*", "172.30.0.1"), ("172.30.0.1", "172.30.0.1"),
     ("10.1.2.3", "10.1.2.3")],
    ids=["any-interface", "zmq-wildcard", "gateway", "another-address"],
)  # fmt: skip
def test_containers_dial_the_networks_gateway_for_a_master_listening_there(
    bind_host: str, dialled: str
) -> None:
    workers = docker_workers(FakeEngine())
    assert workers.default_bind_host() == "172.30.0.1"
    assert workers.dial_host(bind_host) == dialled


@pytest.mark.parametrize("bind_host", ["127.0.0.1", "localhost"])
def test_a_master_on_loopback_is_refused_because_containers_cannot_reach_it(
    bind_host: str,
) -> None:
    with pytest.raises(UsageError) as caught:
        docker_workers(FakeEngine()).dial_host(bind_host)
    message = str(caught.value)
    assert repr(bind_host) in message and "172.30.0.1" in message and "Hint:" in message
    assert caught.value.exit_code == 2


def test_stop_keeps_logs_gathers_confirmations_and_removes_every_worker(tmp_path: Path) -> None:
    engine = FakeEngine()
    workers = docker_workers(engine)
    workers.start(launch(tmp_path))
    names = [f"{PREFIX}-locust-worker-0", f"{PREFIX}-locust-worker-1"]
    assert list(engine.containers) == names
    folder = tmp_path / "run" / "confirmations"
    (folder / "locust-worker-0" / "1.jsonl").write_text("{}\n")
    engine.state[names[1]] = "exited"  # left when the master quit

    workers.stop()

    assert engine.containers == {}
    assert ("stop", names[0]) in engine.calls and ("stop", names[1]) not in engine.calls
    assert sorted(p.name for p in folder.iterdir()) == ["locust-worker-0-1.jsonl"]
    logs = tmp_path / "run" / "logs"
    assert "ModuleNotFoundError" in (logs / "locust-worker-1.log").read_text()
    workers.stop()  # safe twice


def test_a_worker_that_could_not_be_removed_is_tried_again(tmp_path: Path) -> None:
    engine = FakeEngine()
    workers = docker_workers(engine)
    workers.start(launch(tmp_path, count=2))
    stuck = f"{PREFIX}-locust-worker-1"
    engine.fail_remove.add(stuck)
    workers.stop()
    assert list(engine.containers) == [stuck]
    engine.fail_remove.clear()
    workers.stop()
    assert engine.containers == {}


def test_failure_detail_names_dead_workers_with_their_logs(tmp_path: Path) -> None:
    engine = FakeEngine()
    workers = docker_workers(engine)
    workers.start(launch(tmp_path, count=2))
    assert workers.failure_detail() == ""
    engine.state[f"{PREFIX}-locust-worker-0"] = "exited"
    detail = workers.failure_detail()
    assert f"{PREFIX}-locust-worker-0" in detail and "is exited" in detail
    assert "ModuleNotFoundError" in detail and "worker-1" not in detail


def test_the_platform_removes_worker_containers_before_its_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docker_platform, "http_ok", lambda url: lambda: True)
    engine = FakeEngine()
    platform = DockerPlatform(
        storefront_topology(),
        tmp_path / "run",
        engine,
        run_id=RUN_ID,
        experiment="workers",
        images=(IMAGE, "peakday/toxiproxy:test"),
        toxiproxy_client=FakeToxiproxy,
    )
    platform.start()
    workers = platform.load_workers()
    assert platform.load_workers() is workers
    workers.start(launch(tmp_path, count=1))
    worker = f"{PREFIX}-locust-worker-0"
    assert engine.containers[worker].image == IMAGE

    platform.stop()  # as after an exception, before Locust's own teardown ran

    assert engine.containers == {} and engine.networks == {}
    removals = [name for call, name in engine.calls if call.startswith("remove")]
    assert removals[0] == worker and removals[-1] == PREFIX
