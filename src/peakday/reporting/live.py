"""Progress during `peakday run`: a live rich view on a terminal, or plain periodic log lines.

Both implement the orchestrator's `Progress` protocol. The numbers they show come from
`LiveState`, which is pure and fed the per-second rows as the Locust plugin settles them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from peakday.experiment.models import Experiment
from peakday.results.model import TimelineRow

# Seconds of settled rows that "current" rps and error % are averaged over.
RATE_WINDOW_S = 3
# Seconds held behind the latest one: the rate window plus time for a second's late parts. Older
# seconds only count in the totals, so the view's memory does not grow with run length.
KEEP_SECONDS = RATE_WINDOW_S + 60
# The phase shown once every fault is off but the figures beside it still average fault seconds.
SETTLING_LABEL = "recovery (rates still include fault seconds)"
LOG_INTERVAL_S = 5.0


@dataclass(frozen=True)
class StepNow:
    step: str
    rps: float
    error_pct: float | None
    p95_ms: float | None
    requests: int  # since load start
    failures: int


class LiveState:
    """What the run is doing now, from ticks and settled per-second rows (pure, mutable)."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.elapsed_s = 0.0
        self.duration_s = experiment.load.duration
        self.active_faults: list[str] = []
        self._faults_seen: set[str] = set()
        # When any fault was on, as [start_s, end_s) of load time; end None while still on.
        self._fault_spans: list[tuple[float, float | None]] = []
        # step -> second -> (requests, failures, p95_ms); a second may arrive in parts.
        self._seconds: dict[str, dict[int, tuple[int, int, float | None]]] = {}
        self._totals: dict[str, tuple[int, int]] = {}  # step -> (requests, failures), whole run
        self._latest_s: int | None = None

    def tick(self, elapsed_s: float, duration_s: float, active_faults: list[str]) -> None:
        self.elapsed_s = elapsed_s
        self.duration_s = duration_s
        self.active_faults = list(active_faults)
        self._faults_seen.update(active_faults)
        open_span = bool(self._fault_spans) and self._fault_spans[-1][1] is None
        if active_faults and not open_span:
            self._fault_spans.append((elapsed_s, None))
        elif not active_faults and open_span:
            self._fault_spans[-1] = (self._fault_spans[-1][0], elapsed_s)

    def add_rows(self, rows: Sequence[TimelineRow]) -> None:
        for row in rows:
            requests_so_far, failures_so_far = self._totals.get(row.name, (0, 0))
            self._totals[row.name] = (
                requests_so_far + row.requests,
                failures_so_far + row.failures,
            )
            seconds = self._seconds.setdefault(row.name, {})
            if self._latest_s is not None and row.t_s < self._latest_s - KEEP_SECONDS:
                continue  # a late part of a second no rate looks at any more
            requests, failures, p95 = seconds.get(row.t_s, (0, 0, None))
            latest_p95 = row.p95_ms if row.p95_ms is not None else p95
            seconds[row.t_s] = (requests + row.requests, failures + row.failures, latest_p95)
            self._latest_s = max(row.t_s, self._latest_s if self._latest_s is not None else row.t_s)
        if self._latest_s is not None:
            oldest = self._latest_s - KEEP_SECONDS
            for seconds in self._seconds.values():
                for t_s in [t for t in seconds if t < oldest]:
                    del seconds[t_s]

    @property
    def phase(self) -> str:
        if self.elapsed_s < self.experiment.load.warmup:
            return "warmup"
        if self.active_faults:
            return "fault: " + ", ".join(self.active_faults)
        if self._faults_seen:
            # The rates shown are those of the latest settled seconds, which lag the clock: call
            # it recovery only once none of them was a fault second (a second belongs to the
            # window holding its middle, as in scoring).
            if any(self._was_fault_second(t) for t in self._rate_window()):
                return SETTLING_LABEL
            return "recovery"
        return "baseline"

    def _latest_settled_s(self) -> int | None:
        return self._latest_s

    def _rate_window(self) -> range:
        latest = self._latest_settled_s()
        if latest is None:
            return range(0)
        return range(latest - RATE_WINDOW_S + 1, latest + 1)

    def _was_fault_second(self, t_s: int) -> bool:
        middle = t_s + 0.5
        return any(
            start <= middle and (end is None or middle < end) for start, end in self._fault_spans
        )

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.duration_s - self.elapsed_s)

    def steps(self) -> list[StepNow]:
        rate_window = self._rate_window()
        out = []
        for step in sorted(self._seconds):
            seconds = self._seconds[step]
            window = [seconds.get(t, (0, 0, None)) for t in rate_window]
            requests = sum(w[0] for w in window)
            failures = sum(w[1] for w in window)
            p95s = [w[2] for w in window if w[2] is not None]
            out.append(
                StepNow(
                    step=step,
                    rps=requests / RATE_WINDOW_S if window else 0.0,
                    error_pct=100.0 * failures / requests if requests else None,
                    p95_ms=p95s[-1] if p95s else None,
                    requests=self._totals[step][0],
                    failures=self._totals[step][1],
                )
            )
        return out


def format_log_line(state: LiveState) -> str:
    """One plain progress line: time, phase, per-step rps and error %, faults."""
    steps = "; ".join(f"{s.step} {s.rps:.1f} rps {_pct(s.error_pct)} err" for s in state.steps())
    faults = ", ".join(state.active_faults) or "none"
    return (
        f"{state.elapsed_s:5.0f}/{state.duration_s:.0f} s  {state.phase}"
        f"{'  | ' + steps if steps else ''}  | faults: {faults}"
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def render_live(state: LiveState) -> RenderableType:
    """The live view: header, progress bar, per-step table, active faults."""
    fraction = min(1.0, state.elapsed_s / state.duration_s) if state.duration_s else 0.0
    header = Text.assemble(
        (f"{state.experiment.name}", "bold"),
        "  phase ",
        (state.phase, "bold red" if state.active_faults else "bold cyan"),
        f"   {state.elapsed_s:.0f} s elapsed / {state.remaining_s:.0f} s remaining",
    )
    bar = ProgressBar(total=100.0, completed=fraction * 100.0, width=60)
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column, justify in (
        ("step", "left"), ("rps", "right"), ("error %", "right"), ("p95", "right"),
        ("requests", "right"), ("failed", "right"),
    ):  # fmt: skip
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for step in state.steps():
        error_style = "red" if step.error_pct else ""
        table.add_row(
            escape(step.step),
            f"{step.rps:.1f}",
            Text(_pct(step.error_pct), style=error_style),
            "—" if step.p95_ms is None else f"{step.p95_ms:.0f} ms",
            f"{step.requests:,}",
            f"{step.failures:,}",
        )
    faults = Text.assemble(
        "active faults: ",
        (", ".join(state.active_faults) or "none", "bold red" if state.active_faults else "dim"),
    )
    return Group(header, bar, table, faults)


class LiveProgress:
    """A rich Live view on stderr, refreshed on every tick; messages print above it."""

    wants_rows = True

    def __init__(self, console: Console, experiment: Experiment) -> None:
        self.state = LiveState(experiment)
        self._console = console
        self._live = Live(
            render_live(self.state), console=console, refresh_per_second=4, transient=True
        )

    def start(self) -> None:
        self._live.start()

    def stop(self) -> None:
        self._live.stop()

    def tick(self, elapsed_s: float, duration_s: float, active_faults: list[str]) -> None:
        self.state.tick(elapsed_s, duration_s, active_faults)
        self._live.update(render_live(self.state))

    def rows(self, latest: Sequence[TimelineRow]) -> None:
        self.state.add_rows(latest)

    def message(self, text: str) -> None:
        self._console.print(f"[dim]peakday:[/dim] {escape(text)}", highlight=False)


class LogProgress:
    """Plain lines every few seconds (not a terminal, --quiet, --no-color, NO_COLOR)."""

    def __init__(
        self,
        emit: Callable[[str], None],
        experiment: Experiment,
        quiet: bool = False,
        interval_s: float = LOG_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = LiveState(experiment)
        self._emit = emit
        self._quiet = quiet
        self.wants_rows = not quiet  # quiet: no line is printed, so the rows are not needed
        self._interval_s = interval_s
        self._clock = clock
        self._last: float | None = None

    def tick(self, elapsed_s: float, duration_s: float, active_faults: list[str]) -> None:
        self.state.tick(elapsed_s, duration_s, active_faults)
        now = self._clock()
        if self._quiet or (self._last is not None and now - self._last < self._interval_s):
            return
        self._last = now
        self._emit(format_log_line(self.state))

    def rows(self, latest: Sequence[TimelineRow]) -> None:
        self.state.add_rows(latest)

    def message(self, text: str) -> None:
        if not self._quiet:
            self._emit(f"peakday: {text}")


def wants_live(console: Console, *, quiet: bool, no_color: bool, environ: dict[str, str]) -> bool:
    """The live view only on a real terminal, and never when asked for plain or quiet output."""
    return console.is_terminal and not quiet and not no_color and "NO_COLOR" not in environ


@contextmanager
def progress_for(
    console: Console,
    experiment: Experiment,
    *,
    quiet: bool,
    no_color: bool,
    environ: dict[str, str],
) -> Iterator[LiveProgress | LogProgress]:
    """The progress reporter for a run; the live view is torn down even when the run raises."""
    if wants_live(console, quiet=quiet, no_color=no_color, environ=environ):
        live = LiveProgress(console, experiment)
        live.start()
        try:
            yield live
        finally:
            live.stop()
        return

    def emit(line: str) -> None:
        console.print(line, markup=False, highlight=False, soft_wrap=True)

    yield LogProgress(emit, experiment, quiet=quiet)
