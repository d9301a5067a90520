"""`monitoring: prometheus` on the docker platform: the container's spec, its config, and a
container that never gets ready (pure, with the in-memory engine)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from peakday.errors import EnvironmentProblem
from peakday.images.build import MANAGED_LABEL
from peakday.platforms.docker import DockerPlatform
from peakday.platforms.docker_client import ContainerSpec
from peakday.platforms.docker_names import RUN_LABEL, SERVICE_LABEL, run_labels
from peakday.platforms.docker_prometheus import (
    CONFIG_DIR,
    DockerPrometheus,
    prometheus_spec,
    scrape_targets,
)
from peakday.results.folder import RunFolder
from peakday.topology import storefront_topology
from unit.platforms.fakes import FakeEngine, FakeToxiproxy

RUN_ID = "20251201T110000Z-abc123"


def test_the_container_is_labelled_on_the_run_network_and_publishes_only_on_loopback(
    tmp_path: Path,
) -> None:
    spec = prometheus_spec(
        run_id=RUN_ID,
        image="peakday/prometheus:test",
        network="peakday-net",
        labels=run_labels(RUN_ID, "smoke", tmp_path),
        home=tmp_path / "prometheus",
        host_port=41000,
    )
    assert spec.name == f"peakday-{RUN_ID.lower()}-prometheus"
    assert spec.labels[MANAGED_LABEL] == "true" and spec.labels[RUN_LABEL] == RUN_ID
    assert spec.labels[SERVICE_LABEL] == "prometheus"
    assert spec.network == "peakday-net" and spec.network_of is None
    assert dict(spec.ports) == {9090: 41000}  # the engine adapter binds 127.0.0.1
    assert dict(spec.read_only_binds) == {str((tmp_path / "prometheus").resolve()): CONFIG_DIR}
    assert spec.binds == {}  # its data stays in the container, removed with it
    assert f"--config.file={CONFIG_DIR}/prometheus.yml" in (spec.command or ())


def test_it_scrapes_each_storefront_service_by_its_name_on_the_network() -> None:
    topology = storefront_topology()
    assert scrape_targets(topology) == {
        s.name: f"http://{s.name}:{s.default_port}" for s in topology.services
    }
    assert "auth" in scrape_targets(topology)


def test_a_container_that_never_gets_ready_is_an_environment_problem_and_is_recorded(
    tmp_path: Path,
) -> None:
    engine = FakeEngine()
    recorded: list[ContainerSpec] = []

    def run_container(spec: ContainerSpec) -> None:
        recorded.append(spec)
        engine.run(spec)

    server = DockerPrometheus(
        engine,
        storefront_topology(),
        run_id=RUN_ID,
        image="peakday/prometheus:test",
        network="peakday-net",
        labels=run_labels(RUN_ID, "smoke", tmp_path),
        run_container=run_container,
        ready_timeout_s=0.3,
    )
    folder = RunFolder(tmp_path / "run")
    with pytest.raises(EnvironmentProblem) as raised:
        server.start(folder, None)
    assert "did not answer 200" in str(raised.value) and "peakday images build" in str(raised.value)
    assert [s.name for s in recorded] == [f"peakday-{RUN_ID.lower()}-prometheus"]
    config = yaml.safe_load((folder.prometheus / "prometheus.yml").read_text())
    assert config["rule_files"] == [f"{CONFIG_DIR}/rules.yml"]
    targets = {c["job_name"]: c["static_configs"][0]["targets"] for c in config["scrape_configs"]}
    assert targets["auth"] == [f"auth:{storefront_topology().service('auth').default_port}"]
    assert "LoginErrorRate" in (folder.prometheus / "rules.yml").read_text()


def test_the_platform_removes_its_prometheus_container_on_stop(tmp_path: Path) -> None:
    engine = FakeEngine()
    platform = DockerPlatform(
        storefront_topology(),
        tmp_path,
        engine,
        run_id=RUN_ID,
        experiment="smoke",
        images=("s:test", "t:test"),
        toxiproxy_client=lambda host, port: FakeToxiproxy(host, port),
        prometheus="peakday/prometheus:test",
    )
    server = platform.prometheus_server()
    spec = prometheus_spec(
        run_id=RUN_ID,
        image="peakday/prometheus:test",
        network="n",
        labels={},
        home=tmp_path,
        host_port=1,
    )
    # as DockerPrometheus.start does: through the platform's recorder, before it runs
    server._run_container(spec)
    platform.stop()
    assert ("remove", spec.name) in engine.calls
    assert engine.status(spec.name) == "missing"
