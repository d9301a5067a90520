"""The `load:` section: open or closed model, shapes, connections and workers."""

from __future__ import annotations

import textwrap

import pytest

from peakday.experiment.load_spec import Load, parse_rate_per_s
from peakday.experiment.units import SpecValueError
from peakday.experiment.validate import validate_text
from peakday.load.loadplan import LoadPlan, plan_from_load, target_at
from peakday.load.shapes import level_at


def validate_load(load_yaml: str) -> list[str]:
    text = "name: x\nload:\n" + textwrap.indent(textwrap.dedent(load_yaml), "  ")
    return [issue.format() for issue in validate_text(text, "x.yaml").issues]


@pytest.mark.parametrize(
    ("written", "per_s"),
    [(40, 40.0), (2.5, 2.5), ("40/s", 40.0), ("2400/min", 40.0), ("36000 / h", 10.0)],
)
def test_rates_read_with_or_without_a_unit(written: object, per_s: float) -> None:
    assert parse_rate_per_s(written) == pytest.approx(per_s)


@pytest.mark.parametrize("written", [0, -1, "fast", "40/day", True, float("nan")])
def test_bad_rates_say_how_to_write_one(written: object) -> None:
    with pytest.raises(SpecValueError, match="rate"):
        parse_rate_per_s(written)


def test_an_open_model_experiment_validates_and_plans_its_shape() -> None:
    assert (
        validate_load(
            """
        arrival_rate: 40/s
        max_concurrency: 200
        duration: 60s
        shape: {kind: peak-day, peak_multiple: 1.5, peak_at: 45s}
        connections: per-request
        workers: 2
        """
        )
        == []
    )
    load = Load.model_validate(
        {
            "arrival_rate": "40/s",
            "max_concurrency": 200,
            "duration": "60s",
            "shape": {"kind": "peak-day", "peak_multiple": 1.5, "peak_at": "45s"},
            "connections": "per-request",
            "workers": 2,
        }
    )

    plan = plan_from_load(load, "/m.jsonl")

    assert (plan.model, plan.max_concurrency, plan.connections, plan.workers) == (
        "open",
        200,
        "per-request",
        2,
    )
    assert level_at(plan.level_points, 45.0) == pytest.approx(60.0)
    assert target_at(plan, 10.0) == (200, 2000.0)  # the whole pool, spawned at once
    assert LoadPlan.from_json(plan.to_json()) == plan


def test_closed_model_follows_a_shape_as_a_user_count() -> None:
    load = Load.model_validate(
        {
            "users": 10,
            "duration": "30s",
            "shape": {"kind": "spike", "at": "10s", "duration": "5s", "multiple": 3},
        }
    )

    plan = plan_from_load(load, "/m.jsonl")

    assert plan.model == "closed"
    assert [target_at(plan, t) for t in (5.0, 12.0, 20.0)] == [(10, 10.0), (30, 10.0), (10, 10.0)]


@pytest.mark.parametrize(
    ("load_yaml", "words"),
    [
        ("users: 5\narrival_rate: 5\nmax_concurrency: 5\nduration: 10s\n", "not both"),
        ("spawn_rate: 5\nduration: 10s\n", "neither"),
        ("arrival_rate: 5\nduration: 10s\n", "max_concurrency"),
        (
            "arrival_rate: 5\nmax_concurrency: 5\nduration: 10s\n"
            "stages: [{until: 5s, users: 2, spawn_rate: 1}]\n",
            "open model",
        ),
        ("users: 5\nduration: 10s\nexternal_workers: 2\n", "master_bind"),
        ("users: 5\nduration: 10s\nexternal_workers: 1\nmaster_bind: 0.0.0.0:0\n", "1-65535"),
        ("users: 5\nduration: 10s\nexternal_workers: 1\nmaster_bind: 0.0.0.0:70000\n", "1-65535"),
        ("users: 5\nduration: 10s\nconnections: sometimes\n", "connections"),
        ("users: 5\nduration: 10s\nshape: {kind: wave}\n", "shape"),
        ("users: 5\nduration: 10s\nshape: {kind: peak-day, peak_at: 5s, curve: [0, 0]}\n", "curve"),
    ],
)
def test_load_mistakes_are_reported_with_a_hint(load_yaml: str, words: str) -> None:
    issues = validate_load(load_yaml)

    assert issues, load_yaml
    assert any(words in issue for issue in issues), issues


@pytest.mark.parametrize(
    ("shape", "key_path"),
    [
        (
            "{kind: stages, stages: [{until: 5s, target: 1}, {until: 4s, target: 2}]}",
            "stages[1].until",
        ),
        ("{kind: stages, stages: [{until: 20s, target: 1}]}", "stages[0].until"),
        ("{kind: spike, at: 12s, duration: 1s, multiple: 2}", "at"),
        ("{kind: peak-day, peak_at: 11s}", "peak_at"),
    ],
)
def test_shape_times_must_fall_inside_the_run(shape: str, key_path: str) -> None:
    text = f"name: x\nload:\n  users: 5\n  duration: 10s\n  shape: {shape}\n"

    issues = validate_text(text, "x.yaml").issues

    assert issues and all(issue.line == 5 for issue in issues), issues
    assert any(issue.key_path.startswith(f"load.shape.{key_path}") for issue in issues), issues
