from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peakday.experiment.load_spec import Load
from peakday.load.loadplan import (
    LoadPlan,
    LoadStage,
    plan_from_load,
    plan_user_weights,
    target_at,
)


def make_plan(**overrides: object) -> LoadPlan:
    fields: dict[str, object] = {
        "metrics_file": "/tmp/metrics.jsonl",
        "duration_s": 60.0,
        "users": 50,
        "spawn_rate": 10.0,
    }
    fields.update(overrides)
    return LoadPlan(**fields)  # type: ignore[arg-type]


def test_json_round_trip_keeps_every_field() -> None:
    plan = make_plan(
        stages=((10.0, 5, 5.0), LoadStage(20.0, 20, 2.5)),
        weights={"Shopper": 6.0, "Merchant": 2.0, "PosTerminal": 0.0},
        request_timeout_s=3.5,
        flush_interval_s=0.5,
    )

    again = LoadPlan.from_json(plan.to_json())

    assert again == plan
    assert again.stages == (LoadStage(10.0, 5, 5.0), LoadStage(20.0, 20, 2.5))
    assert json.loads(plan.to_json())["stages"][0] == {
        "until_s": 10.0,
        "users": 5,
        "spawn_rate": 5.0,
    }


def test_defaults_when_json_leaves_them_out() -> None:
    plan = LoadPlan.from_json(
        json.dumps({"metrics_file": "m.jsonl", "duration_s": 5, "users": 1, "spawn_rate": 1})
    )

    assert plan.stages == ()
    assert dict(plan.weights) == {}
    assert plan.request_timeout_s == 10.0
    assert plan.flush_interval_s == 1.0


def test_plan_is_immutable() -> None:
    plan = make_plan(weights={"Shopper": 1.0})

    with pytest.raises(AttributeError):
        plan.users = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        plan.weights["Shopper"] = 2.0  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "must be a JSON object"),
        ("{", "not valid JSON"),
        ('{"metrics_file": "m", "duration_s": 1, "users": 1}', "incomplete"),
        (
            '{"metrics_file": "m", "duration_s": 1, "users": 1, "spawn_rate": 1, "speed": 2}',
            "unknown keys \\['speed'\\]",
        ),
        (
            '{"metrics_file": "m", "duration_s": 1, "users": 1, "spawn_rate": 1,'
            ' "stages": [[1, 2, 3]]}',
            "stage 0 must be an object",
        ),
        (
            '{"metrics_file": "m", "duration_s": 1, "users": 1, "spawn_rate": 1, "weights": [1]}',
            "weights must be an object",
        ),
    ],
    ids=["not-object", "not-json", "missing-key", "unknown-key", "stage-as-list", "weights-list"],
)
def test_from_json_explains_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LoadPlan.from_json(text)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"duration_s": 0}, "duration_s must be a number above 0"),
        ({"spawn_rate": float("nan")}, "spawn_rate must be a number above 0"),
        ({"users": -1}, "users must be a whole number"),
        ({"users": 2.5}, "users must be a whole number"),
        ({"request_timeout_s": 0}, "request_timeout_s"),
        ({"flush_interval_s": -1}, "flush_interval_s"),
        ({"metrics_file": ""}, "metrics_file"),
        ({"stages": ((10, 5, 1), (10, 6, 1))}, "stage 1 .* above the previous"),
        ({"stages": ((0, 5, 1),)}, "stage 0 .* above the previous"),
        ({"stages": ((5, -1, 1),)}, "stage 0 .* users"),
        ({"stages": ((5, 1, 0),)}, "stage 0 .* spawn_rate"),
        ({"weights": {"Shopper": -1.0}}, "weight of user class 'Shopper'"),
        ({"weights": {"Shopper": 0.0, "Merchant": 0.0}}, "at least one user class"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else None,
)
def test_invalid_plans_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_plan(**overrides)


def test_constant_load_holds_until_the_duration_then_stops() -> None:
    plan = make_plan(duration_s=30.0, users=40, spawn_rate=8.0)

    assert target_at(plan, 0.0) == (40, 8.0)
    assert target_at(plan, 29.999) == (40, 8.0)
    assert target_at(plan, 30.0) is None
    assert target_at(plan, 1e9) is None


def test_stages_apply_in_their_windows_and_the_plan_load_after_them() -> None:
    plan = make_plan(
        duration_s=60.0, users=50, spawn_rate=10.0, stages=((10.0, 5, 5.0), (20.0, 100, 20.0))
    )

    assert target_at(plan, 0.0) == (5, 5.0)
    assert target_at(plan, 9.99) == (5, 5.0)
    assert target_at(plan, 10.0) == (100, 20.0)
    assert target_at(plan, 19.99) == (100, 20.0)
    assert target_at(plan, 20.0) == (50, 10.0)
    assert target_at(plan, 60.0) is None


def test_a_stage_past_the_duration_is_cut_by_the_duration() -> None:
    plan = make_plan(duration_s=5.0, stages=((100.0, 7, 1.0),))

    assert target_at(plan, 4.9) == (7, 1.0)
    assert target_at(plan, 5.0) is None


@given(
    duration_s=st.floats(min_value=0.1, max_value=1e5),
    elapsed_s=st.floats(min_value=0.0, max_value=2e5),
    untils=st.lists(st.floats(min_value=0.01, max_value=1e5), max_size=5, unique=True),
)
def test_target_is_none_exactly_when_the_run_is_over(
    duration_s: float, elapsed_s: float, untils: list[float]
) -> None:
    stages = tuple(
        LoadStage(until, index, 1.0 + index) for index, until in enumerate(sorted(untils))
    )
    plan = make_plan(duration_s=duration_s, stages=stages)

    target = target_at(plan, elapsed_s)

    assert (target is None) == (elapsed_s >= duration_s)
    if target is not None:
        assert target in {(stage.users, stage.spawn_rate) for stage in stages} | {(50, 10.0)}


def test_weights_pick_classes_and_drop_zero_weights() -> None:
    plan = make_plan(weights={"Shopper": 6.0, "Merchant": 0.0, "PosTerminal": 2.0})

    weights = plan_user_weights(plan, ["Shopper", "Merchant", "PosTerminal", "Extra"])

    assert weights == {"Shopper": 6.0, "PosTerminal": 2.0}


def test_no_weights_leave_the_locustfile_alone() -> None:
    assert plan_user_weights(make_plan(), ["Shopper"]) is None


def test_weights_for_missing_classes_are_an_error_naming_what_exists() -> None:
    plan = make_plan(weights={"Shoper": 1.0})

    with pytest.raises(ValueError, match=r"\['Shoper'\].*Hint: .*\['Merchant', 'Shopper'\]"):
        plan_user_weights(plan, ["Shopper", "Merchant"])


def test_plan_from_load_maps_journeys_to_user_classes() -> None:
    load = Load.model_validate(
        {
            "users": 30,
            "spawn_rate": 5,
            "duration": "2m",
            "stages": [{"until": "30s", "users": 10, "spawn_rate": 2}],
            "journeys": {"shopper": 6, "merchant": 2, "pos": 0},
            "request_timeout": "2s",
        }
    )

    plan = plan_from_load(load, "/runs/x/metrics.jsonl")

    assert plan == LoadPlan(
        metrics_file="/runs/x/metrics.jsonl",
        duration_s=120.0,
        users=30,
        spawn_rate=5.0,
        stages=(LoadStage(30.0, 10, 2.0),),
        weights={"Shopper": 6.0, "Merchant": 2.0, "PosTerminal": 0.0},
        request_timeout_s=2.0,
        connections="per-journey",  # the spec's default
    )


def test_importing_the_pure_modules_keeps_gevent_and_locust_out() -> None:
    # The orchestrator imports these; gevent's monkey-patching must never reach it.
    code = (
        "import sys, peakday.load, peakday.load.histograms, peakday.load.loadplan,"
        " peakday.load.shapes, peakday.load.records, peakday.load.metricsfile,"
        " peakday.load.health, peakday.load.timeline, peakday.load.runner;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'locust', 'gevent'});"
        "assert not bad, bad"
    )

    subprocess.run([sys.executable, "-c", code], check=True)
