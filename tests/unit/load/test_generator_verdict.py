"""A saturated load generator makes the run inconclusive (exit code 4), whatever the SLOs say."""

from __future__ import annotations

from peakday.assemble import assemble_result
from peakday.experiment.models import Experiment
from peakday.load.metricsfile import GeneratorSample, generator_record, load_started_record
from peakday.load.records import StepSecondRecorder
from peakday.results.model import RunInfo
from peakday.results.outcome import exit_code_for

START = 1_000.0


def experiment() -> Experiment:
    return Experiment.model_validate(
        {
            "name": "gen",
            "load": {"users": 5, "duration": "10s"},
            "slos": [
                {
                    "name": "login-ok",
                    "request": "login",
                    "metric": "success_rate",
                    "objective": ">= 99%",
                }
            ],
        }
    )


def metrics(cpu_percent: float) -> list[dict[str, object]]:
    recorder = StepSecondRecorder()
    for t_s in range(10):
        for _ in range(20):
            recorder.record(t_s, "login", 10_000, None)
    samples = [GeneratorSample(START + i + 1, cpu_percent, 2.0, 5) for i in range(10)]
    return [
        load_started_record(START),
        *(record.to_json_dict() for record in recorder.drain_all()),
        *(generator_record(sample) for sample in samples),
    ]


def assemble(cpu_percent: float):  # type: ignore[no-untyped-def]
    run = RunInfo(id="r", platform="local", started_at="now", peakday_version="0")
    events = [{"kind": "load_started", "wall": START}]
    return assemble_result(experiment(), run, events, metrics(cpu_percent), {})


def test_a_healthy_generator_leaves_the_verdict_alone() -> None:
    result = assemble(cpu_percent=30.0)

    assert result.load_health is not None and result.load_health.trusted
    assert result.outcome == "pass"
    assert exit_code_for(result) == 0


def test_a_saturated_generator_makes_the_run_inconclusive_with_the_reason() -> None:
    result = assemble(cpu_percent=99.0)

    assert result.load_health is not None and not result.load_health.trusted
    assert "CPU" in result.load_health.reasons[0]
    assert (result.verdict, result.outcome) == ("inconclusive", "inconclusive")
    assert exit_code_for(result) == 4
