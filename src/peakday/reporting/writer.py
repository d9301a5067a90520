"""The one module that writes reports to disk: report.html, summary.md/.svg and junit.xml.

Each file is written to a temporary name and renamed, so a reader (a CI step, a browser) never
sees half a report, and a re-render replaces the old one whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from peakday.reporting.html import render_html
from peakday.reporting.junit import render_junit
from peakday.reporting.markdown import render_markdown, render_summary_svg
from peakday.reporting.model import build_view
from peakday.reporting.resources import ResourceSeries, resource_series
from peakday.results.eventlog import read_jsonl
from peakday.results.folder import (
    JUNIT_XML,
    REPORT_HTML,
    SUMMARY_MD,
    SUMMARY_SVG,
    RunFolder,
    write_text_atomic,
)
from peakday.results.model import Result
from peakday.results.store import load_result

log = logging.getLogger(__name__)


def render_reports(result: Result, resources: Sequence[ResourceSeries] = ()) -> dict[str, str]:
    """File name -> content of every report (pure). The view is built once for all of them: a
    long run's per-step series are the costliest part of rendering."""
    view = build_view(result)
    return {
        REPORT_HTML: render_html(result, resources, view),
        SUMMARY_MD: render_markdown(result, view),
        SUMMARY_SVG: render_summary_svg(result, view),
        JUNIT_XML: render_junit(result),
    }


def read_resources(result: Result, run_dir: Path) -> tuple[ResourceSeries, ...]:
    """The services' CPU/memory samples the platform wrote beside the result, if any."""
    end_s = result.run.load_ended_s or result.experiment.load.duration
    records = read_jsonl(RunFolder(run_dir).resources)
    return resource_series(records, result.run.load_started_wall, end_s)


def write_reports(result: Result, run_dir: Path) -> list[Path]:
    """Render every report for `result` into `run_dir`; returns the paths written."""
    run_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_reports(result, read_resources(result, run_dir)).items():
        path = run_dir / name
        write_text_atomic(path, text)
        written.append(path)
    log.debug("wrote %s", ", ".join(str(p) for p in written))
    return written


def write_reports_if_result(run_dir: Path) -> list[Path]:
    """After a run that raised: render what its result.json holds, if it wrote one; never raises.

    The error the run raised is what the user needs to see, so a failure here is only logged.
    """
    try:
        return write_reports(load_result(run_dir), run_dir)
    except Exception as error:  # reporting must not mask the run's own error
        log.debug("no reports for %s: %s", run_dir, error)
        return []


def write_reports_or_warn(result: Result, run_dir: Path, warn: Callable[[str], None]) -> None:
    """End of `peakday run`: a report that cannot be rendered must not hide the run's verdict."""
    try:
        write_reports(result, run_dir)
    except Exception as error:
        log.debug("rendering reports failed", exc_info=True)
        warn(
            f"warning: could not write the reports in {str(run_dir)!r}: {error!r}. "
            f"Hint: result.json is saved; retry with 'peakday report {run_dir}'."
        )
