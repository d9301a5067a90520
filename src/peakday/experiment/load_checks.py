"""Checks of a load shape against the run it shapes: inside the run, stages in order (pure)."""

from __future__ import annotations

from collections.abc import Iterator

from peakday.errors import SpecIssue
from peakday.experiment.load_spec import Load
from peakday.experiment.units import format_duration_s as fmt
from peakday.experiment.yaml_lines import Locator


def shape_issues(load: Load, locator: Locator) -> Iterator[SpecIssue]:
    shape = load.shape
    here = ("load", "shape")
    if shape is None:
        return
    if shape.kind == "stages":
        previous = 0.0
        for index, stage in enumerate(shape.stages):
            if stage.until <= previous:
                yield locator.issue(
                    (*here, "stages", index, "until"),
                    f"This stage ends at {fmt(stage.until)}, which is not after {fmt(previous)}.",
                    "List stages in order; each 'until' counts from the start of the load.",
                )
            previous = max(previous, stage.until)
        if shape.stages[-1].until > load.duration:
            yield locator.issue(
                (*here, "stages", len(shape.stages) - 1, "until"),
                f"The last stage ends at {fmt(shape.stages[-1].until)}, after the run ends at "
                f"{fmt(load.duration)} (load.duration).",
                "Shorten the stages or lengthen load.duration; time past the end never runs.",
            )
    elif shape.kind == "spike" and shape.at >= load.duration:
        yield locator.issue(
            (*here, "at"),
            f"The spike starts at {fmt(shape.at)}, after the run ends at {fmt(load.duration)}.",
            "Start the spike inside the run, after the warmup.",
        )
    elif shape.kind == "peak-day" and shape.peak_at > load.duration:
        yield locator.issue(
            (*here, "peak_at"),
            f"The peak is placed at {fmt(shape.peak_at)}, after the run ends at "
            f"{fmt(load.duration)}.",
            "Place the peak inside the run, where a fault can land on it.",
        )
