"""A whole run against fakes at its seams (platform, Toxiproxy, load generator), in virtual time:
the teardown undoes in reverse start order on success, SLO failure, exception and interrupt,
and the result is assembled from the run folder's own files."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from peakday.errors import EnvironmentProblem, ToxiproxyError
from peakday.experiment.models import Experiment
from peakday.faults.toxiproxy import ToxicSpec
from peakday.faults.traffic import MetricsUnavailable
from peakday.load import StepSecond
from peakday.monitoring.api import PrometheusApi
from peakday.orchestrator import Run
from peakday.platforms.base import Endpoints
from peakday.processes.children import ProcessGroup
from peakday.results.eventlog import read_events, read_jsonl
from peakday.results.model import Result, TimelineRow
from peakday.runconfig import RunConfig
from peakday.scoring.manual import ManualAction, ManualStop, ManualStops
from peakday.seams import LoadRequest, RunSeams
from unit.scoring.synthetic import LOGIN_FAULT, experiment, row, slo

T0 = 1_000.0
DURATION_S = 30
SPEC = experiment(
    faults=[{**LOGIN_FAULT, "at": "10s", "duration": "5s"}],
    slos=[slo("login-fast", "login", "p95", "< 100ms", phase="all")],
    duration=f"{DURATION_S}s",
    warmup="2s",
    storefront={"integrity": False},
)


@dataclass
class World:
    """Virtual time and a journal of everything the fakes were asked to do."""

    now: float = T0 - 5.0
    journal: list[str] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.001)


class FakeToxiproxy:
    def __init__(self, world: World, fail_apply: bool = False) -> None:
        self.world = world
        self.fail_apply = fail_apply
        self.toxics: dict[str, list[str]] = {"auth_login": []}

    def version(self) -> str:
        return "2.12.0-fake"

    def create_proxy(self, name: str, listen: str, upstream: str) -> str:
        return listen

    def add_toxic(self, proxy: str, toxic: ToxicSpec) -> None:
        if self.fail_apply:
            raise ToxiproxyError("Toxiproxy refused the toxic")
        self.toxics[proxy].append(toxic.name)
        self.world.journal.append("toxic added")

    def remove_toxic(self, proxy: str, toxic_name: str) -> None:
        self.toxics[proxy].remove(toxic_name)
        self.world.journal.append("toxic removed")

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        pass

    def reset(self) -> None:
        self.world.journal.append("toxiproxy reset")

    def active_toxics(self) -> dict[str, list[str]]:
        return {proxy: list(names) for proxy, names in self.toxics.items()}


class FakePlatform:
    name = "local"
    runs_storefront = False  # no storefront knobs to look up

    def __init__(self, world: World, toxiproxy: FakeToxiproxy) -> None:
        self.world = world
        self._toxiproxy = toxiproxy

    def start(self) -> Endpoints:
        self.world.journal.append("platform started")
        return Endpoints(
            toxiproxy_api="127.0.0.1:1",
            services={"checkout": "http://127.0.0.1:2"},
            proxies={"auth_login": "127.0.0.1:3"},
        )

    def toxiproxy(self) -> FakeToxiproxy:
        return self._toxiproxy

    def services(self) -> None:
        return None

    def resource_probe(self) -> None:
        return None

    def load_workers(self) -> None:
        return None

    def prometheus_server(self) -> None:
        return None

    def stop(self) -> None:
        self.world.journal.append("platform stopped")


def record(r: TimelineRow) -> dict[str, object]:
    return StepSecond(r.t_s, r.name, r.requests, {}, r.histogram).to_json_dict()


class FakeLoad:
    """Writes the metrics a Locust run would have written, with logins at `login_ms`."""

    def __init__(
        self,
        world: World,
        request: LoadRequest,
        login_ms: float,
        interrupt_at_s: float | None,
    ) -> None:
        self.world = world
        self.metrics = request.config.folder.metrics
        self.login_ms = login_ms
        self.interrupt_at_s = interrupt_at_s

    @property
    def master_address(self) -> str:
        return ""

    @property
    def log_path(self) -> Path:
        return Path("locust.log")

    def start(self) -> None:
        self.world.journal.append("load started")
        lines: list[dict[str, Any]] = [{"kind": "load_started", "wall": T0}]
        lines += [record(row(t, "login", ms=self.login_ms)) for t in range(DURATION_S)]
        lines.append({"kind": "load_stopped", "wall": T0 + DURATION_S})
        self.metrics.write_text("".join(json.dumps(line) + "\n" for line in lines))

    def wait_started(self) -> float:
        self.world.now = T0
        return T0

    def alive(self) -> bool:
        if self.interrupt_at_s is not None and self.world.now >= T0 + self.interrupt_at_s:
            raise KeyboardInterrupt  # what SIGTERM or Ctrl-C raise in the orchestrator
        return self.world.now < T0 + DURATION_S

    def wait_finished(self, timeout_s: float) -> bool:
        return True

    def stop(self) -> None:
        self.world.journal.append("load stopped")


class FakeTraffic:
    """Toxiproxy's byte counters: `bytes_per_s` through auth_login from t = 0 on (virtual
    time); `available` false is a server started without -proxy-metrics."""

    def __init__(self, world: World, bytes_per_s: float, available: bool = True) -> None:
        self.world = world
        self.bytes_per_s = bytes_per_s
        self.available = available

    def read(self) -> dict[str, dict[str, float]]:
        if not self.available:
            raise MetricsUnavailable("Toxiproxy answered 404 at '/metrics' (fake).")
        total = self.bytes_per_s * max(0.0, self.world.now - T0)
        return {"auth_login": {"upstream_received": total, "downstream_received": total}}


class SilentProgress:
    wants_rows = True

    def tick(self, elapsed_s: float, duration_s: float, active_faults: list[str]) -> None:
        pass

    def message(self, text: str) -> None:
        pass

    def rows(self, latest: Any) -> None:
        pass


@dataclass
class RowsSeen(SilentProgress):
    wants_rows: bool = True
    seen: list[Any] = field(default_factory=list)

    def rows(self, latest: Any) -> None:
        self.seen.extend(latest)


def run(
    tmp_path: Path,
    world: World,
    *,
    login_ms: float = 20.0,
    fail_apply: bool = False,
    interrupt_at_s: float | None = None,
    traffic_bytes_per_s: float = 500.0,
    metrics_available: bool = True,
    manual_stops: ManualStops | None = None,
    spec: Experiment = SPEC,
    prometheus: PrometheusApi | None = None,
    progress: SilentProgress | None = None,
) -> Callable[[], Result]:
    config = RunConfig(
        experiment=spec,
        run_dir=tmp_path / "run",
        locustfile=tmp_path / "locustfile.py",
        tools_dirs=(),
        run_id="fake-run",
    )
    toxiproxy = FakeToxiproxy(world, fail_apply=fail_apply)

    def make_platform(config: RunConfig, processes: ProcessGroup) -> FakePlatform:
        return FakePlatform(world, toxiproxy)

    seams = RunSeams(
        make_platform,
        make_load=lambda request: FakeLoad(world, request, login_ms, interrupt_at_s),
        make_traffic_probe=lambda api, listen: FakeTraffic(
            world, traffic_bytes_per_s, available=metrics_available
        ),
        registry_dir=lambda: tmp_path / "registry",
        clock=world.clock,
        sleep=world.sleep,
        manual_stops=manual_stops,
    )
    if prometheus is not None:
        api = prometheus
        seams = dataclasses.replace(seams, make_prometheus_api=lambda url: api)
    return Run(config, seams, progress or SilentProgress()).execute


STARTS = ["platform started", "load started"]
UNDO_AFTER_FAULT = ["load stopped", "platform stopped"]


def test_a_passing_run_starts_platform_load_faults_and_undoes_them_in_reverse(
    tmp_path: Path,
) -> None:
    world = World()
    result = run(tmp_path, world)()
    assert world.journal == [*STARTS, "toxic added", "toxic removed", *UNDO_AFTER_FAULT]
    assert (result.outcome, result.run.status) == ("pass", "completed")
    assert result.faults[0].applied_at_s == pytest.approx(10.0, abs=0.05)
    saved = Result.model_validate_json((tmp_path / "run" / "result.json").read_text())
    assert saved == result
    assert saved.environment["toxiproxy"] == "2.12.0-fake"


def test_a_failed_slo_tears_down_in_the_same_order(tmp_path: Path) -> None:
    world = World()
    result = run(tmp_path, world, login_ms=400.0)()
    assert world.journal == [*STARTS, "toxic added", "toxic removed", *UNDO_AFTER_FAULT]
    assert result.outcome == "fail"


def test_an_exception_still_rolls_back_stops_load_then_platform(tmp_path: Path) -> None:
    world = World()
    with pytest.raises(EnvironmentProblem, match="Toxiproxy refused the toxic"):
        run(tmp_path, world, fail_apply=True)()
    assert world.journal == [*STARTS, *UNDO_AFTER_FAULT]
    saved = Result.model_validate_json((tmp_path / "run" / "result.json").read_text())
    assert (saved.run.status, saved.outcome) == ("error", "error")
    assert "Toxiproxy refused the toxic" in (saved.run.error or "")


def test_an_interrupt_during_a_fault_rolls_it_back_before_stopping_the_load(
    tmp_path: Path,
) -> None:
    world = World()
    result = run(tmp_path, world, interrupt_at_s=12.0)()
    assert world.journal == [*STARTS, "toxic added", "toxic removed", *UNDO_AFTER_FAULT]
    assert (result.run.status, result.outcome) == ("interrupted", "interrupted")
    kinds = [event.kind for event in read_events(tmp_path / "run" / "events.jsonl")]
    assert kinds.index("fault_removed") < kinds.index("toxics_after_rollback")
    assert kinds[-1] == "run_ended"


def test_events_are_typed_and_the_result_is_what_the_folder_assembles_to(tmp_path: Path) -> None:
    from peakday.assemble import assemble_run
    from peakday.results.folder import RunFolder

    result = run(tmp_path, World())()
    kinds = [record["kind"] for record in read_jsonl(tmp_path / "run" / "events.jsonl")]
    assert kinds == [
        "run_started",
        "platform_ready",
        "load_started",
        "baseline_checked",
        "fault_applied",
        "fault_removed",
        "toxics_after_rollback",
        "run_ended",
    ]
    assert assemble_run(RunFolder(tmp_path / "run")) == result


def test_the_traffic_sampler_records_each_proxy_and_the_result_carries_it(tmp_path: Path) -> None:
    result = run(tmp_path, World())()
    records = list(read_jsonl(tmp_path / "run" / "traffic.jsonl"))
    assert len(records) >= 2 and all(r["measured"] for r in records)
    assert set(records[-1]["proxies"]) == {"auth_login"}
    assert result.traffic is not None and result.traffic.measured
    assert [r.reach for r in result.fault_reach] == ["yes"]


def test_a_fault_on_a_proxy_that_carried_nothing_makes_the_run_inconclusive(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, World(), traffic_bytes_per_s=0.0)()
    assert (result.verdict, result.outcome) == ("inconclusive", "inconclusive")
    assert result.score is not None
    assert "reached no traffic" in result.score.reason
    assert "proxy auth_login received 0 bytes" in result.score.reason


def test_a_toxiproxy_without_metrics_leaves_the_proxy_fault_unmeasured_and_inconclusive(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, World(), metrics_available=False)()
    assert result.traffic is not None and not result.traffic.measured
    assert "404" in result.traffic.detail
    assert [r.reach for r in result.fault_reach] == ["not-measured"]
    assert result.outcome == "inconclusive"
    # read once at the start, then never again
    assert len(list(read_jsonl(tmp_path / "run" / "traffic.jsonl"))) == 1


class PressAt(ManualStops):
    """A stop button pressed (twice: a double click) at a moment of virtual time."""

    def __init__(self, world: World, at_s: float, action: ManualAction) -> None:
        super().__init__()
        self.world, self.at_s, self.action = world, at_s, action
        self.answers: list[bool] = []

    def take(self) -> tuple[ManualStop, ...]:
        if not self.answers and self.world.now >= T0 + self.at_s:
            stop = ManualStop(self.action, "alice (127.0.0.1, test)", self.world.now)
            self.answers = [self.press(stop), self.press(stop)]
        return super().take()


@pytest.mark.parametrize("action", ["end_faults", "end_run"])
def test_a_stop_button_rolls_back_at_once_and_the_run_is_aborted_by_a_manual_stop(
    tmp_path: Path, action: ManualAction
) -> None:
    world = World()
    presses = PressAt(world, 12.0, action)
    result = run(tmp_path, world, manual_stops=presses)()
    assert presses.answers == [True, False]  # the double press is one stop
    assert world.journal == [*STARTS, "toxic added", "toxic removed", *UNDO_AFTER_FAULT]
    assert result.faults[0].removed_at_s == pytest.approx(12.0, abs=0.05)  # not at 15 s
    assert result.outcome == "aborted"
    (stop,) = result.stops
    assert (stop.action, stop.manual_by) == (action, "alice (127.0.0.1, test)")
    assert stop.fired_at_s == pytest.approx(12.0, abs=0.05)
    if action == "end_run":
        assert result.run.status == "stopped"
        assert result.run.load_ended_s == pytest.approx(12.0, abs=0.05)
    else:
        assert result.run.status == "completed"
    assert presses.closed  # a press after the run is refused


@pytest.mark.parametrize("wants_rows", [True, False], ids=["shown", "quiet"])
def test_progress_gets_the_settled_rows_only_when_it_shows_them(
    tmp_path: Path, wants_rows: bool
) -> None:
    progress = RowsSeen(wants_rows=wants_rows)
    result = run(tmp_path, World(), progress=progress)()
    assert result.outcome == "pass"  # the quiet run is judged from the metrics file all the same
    assert bool(progress.seen) is wants_rows
