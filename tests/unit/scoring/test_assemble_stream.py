"""Assembling a run folder streams metrics.jsonl (TimelineBuilder, MetricsDigest) and writes the
same result.json, byte for byte, as merging every record of the file at once: partial records
of a (second, step) from two workers, a straggler written minutes after its second (beyond the
merge window), and a killed run without its end."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from peakday.assemble import assemble_result, assemble_run, environment_of, experiment_of
from peakday.assemble import run_info_of as info_of
from peakday.load.histograms import empty_histogram, encode_histogram
from peakday.load.records import StepSecond
from peakday.load.timeline import MERGE_WINDOW_S, TimelineBuilder, timeline_from_records
from peakday.results.columns import CompactTimeline
from peakday.results.encoding import result_json_chunks
from peakday.results.eventlog import read_jsonl
from peakday.results.folder import RunFolder
from unit.scoring.synthetic import LOGIN_FAULT, experiment, slo

T0 = 1_000_000.0
SECONDS = MERGE_WINDOW_S + 120
SPEC = experiment(
    faults=[LOGIN_FAULT],
    slos=[
        slo("login-fast", "login", "p95", "< 100ms", phase="baseline"),
        slo("search-ok", "search", "success_rate", ">= 95%"),
    ],
    duration=f"{SECONDS}s",
)


def histogram_b64(values_us: Iterable[int]) -> str:
    histogram = empty_histogram()
    for value in values_us:
        histogram.record_value(value)
    return encode_histogram(histogram)


def part(t_s: int, step: str, rng: random.Random, corrected: bool = False) -> dict[str, Any]:
    """One worker's partial record of a (second, step): a few requests, some failed."""
    values = [rng.randrange(1_000, 400_000) for _ in range(rng.randrange(1, 6))]
    failures = {"http_5xx": rng.randrange(0, 2), "timeout": rng.randrange(0, 2)}
    record = StepSecond(
        t_s,
        step,
        len(values),
        failures,
        histogram_b64(values),
        uncorrected_histogram_b64=histogram_b64(v // 2 for v in values) if corrected else "",
    )
    return record.to_json_dict()


def metrics_records(seconds: int, killed: bool) -> Iterator[dict[str, Any]]:
    """What two workers' plugins write, in the order the master writes it: each worker's
    records of second t a couple of seconds later, and some stragglers far later."""
    rng = random.Random(7)
    yield {"kind": "load_started", "wall": T0}
    for t in range(seconds):
        for worker, lag in (("w1", 2), ("w2", 3)):
            if t - lag >= 0:
                for step in ("login", "search"):
                    yield part(t - lag, step, rng, corrected=(worker == "w2" and t % 7 == 0))
            yield {"kind": "generator", "wall": T0 + t, "cpu_percent": 20.0, "lag_ms": 1.0,
                   "users": 10, "process": worker}  # fmt: skip
        if t == 40:
            yield part(38, "login", rng)  # a straggler within the window: merged while open
        if t == seconds - 10:
            yield part(5, "login", rng)  # minutes after second 5 was stored: merged at the end
            yield part(9, "checkout", rng)  # a (second, step) seen nowhere else, stored late
            yield {"kind": "metrics", "t_s": 11, "step": "login"}  # malformed: skipped
    if not killed:
        yield {"kind": "load_stopped", "wall": T0 + seconds + 0.3}


def write_folder(path: Path, killed: bool, seconds: int = SECONDS) -> RunFolder:
    folder = RunFolder(path)
    path.mkdir(parents=True)
    events: list[dict[str, Any]] = [
        {
            "kind": "run_started",
            "wall": T0 - 5,
            "run_id": "r1",
            "experiment": SPEC.model_dump(mode="json"),
        },
        {"kind": "load_started", "wall": T0},
        {"kind": "fault_applied", "wall": T0 + 40.2, "fault_index": 0, "label": "f"},
        {"kind": "fault_removed", "wall": T0 + 60.2, "fault_index": 0, "label": "f"},
    ]
    if not killed:
        events.append({"kind": "run_ended", "wall": T0 + seconds + 1, "status": "completed"})
    for name, records in (
        (folder.events, events),
        (folder.metrics, metrics_records(seconds, killed)),
    ):
        with open(name, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(record) + "\n" for record in records)
    return folder


def whole_file_json(folder: RunFolder) -> str:
    """result.json as assembling did before streaming: every record in memory, one merge."""
    experiment_ran, events = experiment_of(folder)
    metrics = list(read_jsonl(folder.metrics))
    result = assemble_result(
        experiment_ran,
        info_of(events),
        events,
        metrics,
        environment_of(events),
        timeline=timeline_from_records(metrics),
    )
    assert isinstance(result.timeline, tuple)
    return "".join(result_json_chunks(result))


def test_two_workers_and_a_straggler_minutes_late_give_the_whole_file_s_result_json(
    tmp_path: Path,
) -> None:
    folder = write_folder(tmp_path / "run", killed=False)
    streamed = assemble_run(folder)
    assert isinstance(streamed.timeline, CompactTimeline)
    assert "".join(result_json_chunks(streamed)) == whole_file_json(folder)
    rows = {(row.t_s, row.name): row for row in streamed.timeline}
    # second 5 of login: w1's part, w2's part and the straggler, all counted
    assert (9, "checkout") in rows
    assert rows[(5, "login")].requests > rows[(6, "login")].requests / 3
    assert streamed.run.status == "completed"
    assert streamed.load_health is not None and len(streamed.load_health.generator) == 2 * SECONDS


def test_a_killed_run_without_its_end_gives_the_whole_file_s_result_json(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "run", killed=True)
    streamed = assemble_run(folder)
    assert "".join(result_json_chunks(streamed)) == whole_file_json(folder)
    assert streamed.run.status == "interrupted"
    # the load ran as long as its per-second records go: w1's last is second SECONDS - 3
    assert streamed.run.load_ended_s == SECONDS - 2


steps = st.sampled_from(["a", "b", "c"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 30), steps, st.integers(1, 3)), min_size=1, max_size=60),
    st.integers(0, 4),
)
def test_any_order_and_any_window_give_the_rows_of_one_whole_merge(
    keys: list[tuple[int, str, int]], window_s: int
) -> None:
    rng = random.Random(len(keys))
    records = [part(t, step, rng, corrected=count == 3) for t, step, count in keys]
    builder = TimelineBuilder(window_s=window_s)
    for record in records:
        found = StepSecond.from_json_dict(record)
        builder.add(found)
    assert tuple(builder.finish()) == timeline_from_records(records)
