"""Load generation: plans and shapes (pure), HDR records and health (pure), and Locust-side code.

Pure modules: shapes, loadplan, histograms, failures, records, metricsfile, timeline, health.
Only `locust_plugin`, `locust_metrics`, `locust_arrivals` and `locust_routes` (RoutedHttpUser and
RoutedFastHttpUser, for locustfiles) import Locust (and so gevent's monkey-patching); they run
inside Locust subprocesses and are never imported from here.
"""

from __future__ import annotations

from peakday.load.failures import FAILURE_KINDS, FailureKind, classify_failure
from peakday.load.histograms import LatencySummary, merge_histograms, summarize
from peakday.load.loadplan import PLAN_ENV_VAR, LoadPlan, LoadStage, plan_from_load, target_at
from peakday.load.metricsfile import GeneratorSample, MetricsLog, parse_metrics_jsonl
from peakday.load.records import ArrivalSecond, StepSecond, merge_by_key, merge_step_seconds

__all__ = [
    "FAILURE_KINDS",
    "PLAN_ENV_VAR",
    "ArrivalSecond",
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
