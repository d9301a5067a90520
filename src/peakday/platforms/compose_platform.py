"""The user's own Compose project (`platform: compose`): brought up with the real Compose CLI,
each intercepted service re-routed through a labelled Toxiproxy container by network alias
(compose_override.py), service faults and resource stats on the project's containers through
the docker platform's code, and the project restored as found (compose_restore.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from peakday.errors import ServiceStartError
from peakday.experiment.compose_checks import TOXIPROXY_SERVICE, host_service
from peakday.experiment.compose_project import ComposeProject, read_project
from peakday.experiment.models import Compose
from peakday.faults.services import ServiceController
from peakday.faults.toxiproxy import ToxiproxyApi, ToxiproxyHttpClient
from peakday.images.build import runtime_images
from peakday.platforms.base import Endpoints, Platform
from peakday.platforms.compose_cli import ComposeCli, ComposeTarget
from peakday.platforms.compose_override import (
    TOXIPROXY_API_PORT,
    override_text,
    render_intercept,
    toxiproxy_config_text,
)
from peakday.platforms.compose_restore import MISSING, ComposeLedger
from peakday.platforms.compose_session import ComposeSession
from peakday.platforms.docker_client import ContainerEngine
from peakday.platforms.docker_names import run_labels
from peakday.platforms.resources import ResourceProbe
from peakday.processes.waiting import http_ok, poll_until
from peakday.results.folder import RunFolder
from peakday.runconfig import RunConfig

log = logging.getLogger(__name__)

TOXIPROXY_HEALTH_TIMEOUT_S = 30.0


class ComposePlatform:
    name = "compose"
    runs_storefront = False

    def __init__(
        self,
        compose: Compose,
        run_dir: Path,
        cli: ComposeCli,
        engine: ContainerEngine,
        *,
        run_id: str,
        experiment: str,
        read: Callable[[Path, str | None], ComposeProject] = read_project,
        toxiproxy_client: Callable[[str, int], ToxiproxyApi] = ToxiproxyHttpClient,
    ) -> None:
        self._compose = compose
        # build_run_config made compose.file absolute
        self._user_file = Path(compose.file).resolve()
        self._folder = RunFolder(run_dir)
        self._cli = cli
        self._engine = engine
        self._session = ComposeSession(self._folder, cli, engine, toxiproxy_client)
        self._run_id = run_id
        self._experiment = experiment
        self._read = read

    def toxiproxy(self) -> ToxiproxyApi:
        return self._session.toxiproxy()

    def services(self) -> ServiceController:
        return self._session.services()

    def resource_probe(self) -> ResourceProbe:
        """The user's services' containers (not peakday's Toxiproxy)."""
        users = set(self._session.containers) - {TOXIPROXY_SERVICE}
        return self._session.resource_probe(users)

    def load_workers(self) -> None:
        return None

    def prometheus_server(self) -> None:
        return None

    @property
    def ledger(self) -> ComposeLedger | None:
        return self._session.ledger

    def start(self) -> Endpoints:
        compose = self._compose
        project = self._read(self._user_file, compose.project)
        user = ComposeTarget(project.name, (self._user_file,))
        before = self._cli.states(user)
        labels = run_labels(self._run_id, self._experiment, self._folder.path.resolve())
        config_path = self._folder.compose_toxiproxy_config.resolve()
        intercept = render_intercept(
            project,
            compose.intercept,
            labels=labels,
            toxiproxy_image=runtime_images()[1],
            toxiproxy_config_path=str(config_path),
        )
        override = self._folder.write_compose_file(
            self._folder.compose_override, override_text(intercept)
        )
        self._folder.write_compose_file(config_path, toxiproxy_config_text(intercept))
        ledger = ComposeLedger(
            project=project.name,
            user_file=str(self._user_file),
            override_file=str(override.resolve()),
            found={s: before[s].state if s in before else MISSING for s in project.services},
            touched=intercept.touched,
            networks=tuple(f"{project.name}_{n}" for n in intercept.networks),
        )
        target = self._session.up(ledger, pull=compose.pull, build=compose.build)
        api = self._cli.port(target, TOXIPROXY_SERVICE, TOXIPROXY_API_PORT)
        self._wait_toxiproxy(api)
        self._session.connect_toxiproxy(api)
        proxies = {
            name: self._cli.port(target, TOXIPROXY_SERVICE, listen)
            for name, listen in compose.intercept.items()
        }
        published = host_service(compose)
        locust_host = (
            compose.host
            if published is None
            else f"http://{self._cli.port(target, published[0], published[1])}"
        )
        return Endpoints(
            toxiproxy_api=api,
            services={},
            proxies=proxies,
            locust_host=locust_host,
            routes=dict(compose.routes),
        )

    def _wait_toxiproxy(self, api: str) -> None:
        url = f"http://{api}/version"
        if not poll_until(http_ok(url), timeout_s=TOXIPROXY_HEALTH_TIMEOUT_S, interval_s=0.1):
            name = self._session.containers.get(TOXIPROXY_SERVICE, TOXIPROXY_SERVICE)
            raise ServiceStartError(
                f"peakday's Toxiproxy container {name!r} did not answer 200 at {url} within "
                f"{TOXIPROXY_HEALTH_TIMEOUT_S:.0f} s. Last lines of its log:\n"
                f"{self._engine.logs_tail(name, 30)}\nHint: rebuild the image with "
                "'peakday images build --offline'."
            )

    def stop(self) -> None:
        """Restore the project as it was found (compose_restore.restore); safe to call twice."""
        for line in self._session.restore():
            log.info("compose: %s", line)


def make_compose_platform(config: RunConfig) -> Platform:
    """Connects to the engine and checks peakday's Toxiproxy image is here (never pulled)."""
    from peakday.images.build import require_images
    from peakday.images.engine import connect_docker
    from peakday.platforms.compose_cli import SubprocessComposeCli
    from peakday.platforms.docker_client import DockerContainerEngine

    compose = config.experiment.compose
    images = connect_docker()
    if compose is None:  # a storefront experiment: the repository's own compose file
        from peakday.platforms.compose import write_compose_files
        from peakday.platforms.compose_storefront import (
            STOREFRONT_COMPOSE_FILE,
            StorefrontComposePlatform,
        )
        from peakday.storefront.profiles import profile_argv, resilience_for
        from peakday.topology import storefront_topology

        require_images(images, runtime_images())
        # The repository's compose/ files, rendered from the same topology (a unit test keeps
        # the checked-in copies equal), so an installed peakday needs no checkout.
        topology = storefront_topology()
        compose_dir = RunFolder(config.run_dir).storefront_compose_dir
        compose_dir.mkdir(parents=True, exist_ok=True)
        write_compose_files(compose_dir, topology)
        return StorefrontComposePlatform(
            topology,
            compose_dir / STOREFRONT_COMPOSE_FILE.name,
            config.run_dir,
            SubprocessComposeCli(),
            DockerContainerEngine(images.client),
            run_id=config.run_id,
            experiment=config.experiment.name,
            storefront_extra=profile_argv(
                resilience_for(
                    config.experiment.storefront.profile, config.experiment.storefront.overrides()
                )
            ),
        )
    require_images(images, [runtime_images()[1]])
    return ComposePlatform(
        compose,
        config.run_dir,
        SubprocessComposeCli(),
        DockerContainerEngine(images.client),
        run_id=config.run_id,
        experiment=config.experiment.name,
    )
