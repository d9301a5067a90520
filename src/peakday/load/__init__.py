"""Load generation: the plan and shape (pure), HDR metrics (pure), and a Locust plugin.

Only `locust_plugin.py` imports Locust (and so gevent's monkey-patching); it runs inside the Locust
subprocess and is never imported from here.
"""

from __future__ import annotations

from peakday.load.histograms import (
    FAILURE_KINDS,
    FailureKind,
    GeneratorSample,
    LatencySummary,
    MetricsLog,
    StepSecond,
    classify_failure,
    merge_by_key,
    merge_histograms,
    merge_step_seconds,
    parse_metrics_jsonl,
    summarize,
)
from peakday.load.loadplan import (
    PLAN_ENV_VAR,
    LoadPlan,
    LoadStage,
    plan_from_load,
    target_at,
)

__all__ = [
    "FAILURE_KINDS",
    "PLAN_ENV_VAR",
    "FailureKind",
    "GeneratorSample",
    "LatencySummary",
    "LoadPlan",
    "LoadStage",
    "MetricsLog",
    "StepSecond",
    "classify_failure",
    "merge_by_key",
    "merge_histograms",
    "merge_step_seconds",
    "parse_metrics_jsonl",
    "plan_from_load",
    "summarize",
    "target_at",
]
