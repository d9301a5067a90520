"""Chooses the platform an experiment asks for."""

from __future__ import annotations

from peakday.errors import UsageError
from peakday.experiment.models import Experiment
from peakday.platforms.base import Platform
from peakday.platforms.local import LocalPlatform
from peakday.processes.children import ProcessGroup
from peakday.runconfig import RunConfig
from peakday.storefront.profiles import profile_argv, resilience_for
from peakday.topology import storefront_topology


def storefront_argv(experiment: Experiment) -> list[str]:
    """The resilience profile's flags for every storefront service."""
    storefront = experiment.storefront
    return profile_argv(resilience_for(storefront.profile, storefront.overrides()))


def workers_argv(experiment: Experiment) -> list[str]:
    """`--workers N` when the experiment asks for more than one process per service (local)."""
    workers = experiment.storefront.workers
    return [] if workers == 1 else ["--workers", str(workers)]


def make_platform(config: RunConfig, processes: ProcessGroup) -> Platform:
    name = config.experiment.platform
    if name == "local":
        return LocalPlatform(
            storefront_topology(),
            config.run_dir,
            config.tools_dirs,
            processes,
            storefront_extra=[
                *storefront_argv(config.experiment),
                *workers_argv(config.experiment),
            ],
        )
    if name == "docker":
        return make_docker_platform(config)
    if name == "external":
        from peakday.platforms.external import make_external_platform

        return make_external_platform(config, processes)
    if name == "compose":
        from peakday.platforms.compose_platform import make_compose_platform

        return make_compose_platform(config)
    raise UsageError(f"Unknown platform {name!r}. Hint: use local, docker, external or compose.")


def make_docker_platform(config: RunConfig) -> Platform:
    """Connects to the engine and checks both images are present before anything starts:
    a missing image is ImageMissing (exit 3) naming it and the command that builds it."""
    from peakday.images.build import prometheus_image, require_images, runtime_images
    from peakday.images.engine import connect_docker
    from peakday.platforms.docker import DockerPlatform
    from peakday.platforms.docker_client import DockerContainerEngine

    images = connect_docker()
    monitored = config.experiment.monitoring == "prometheus"
    require_images(images, [*runtime_images(), *([prometheus_image()] if monitored else [])])
    return DockerPlatform(
        storefront_topology(),
        config.run_dir,
        DockerContainerEngine(images.client),
        run_id=config.run_id,
        experiment=config.experiment.name,
        storefront_extra=storefront_argv(config.experiment),
    )
