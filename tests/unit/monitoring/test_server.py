"""The Prometheus config peakday writes for its own server (pure)."""

from __future__ import annotations

import yaml

from peakday.monitoring.server import prometheus_config, storefront_rules


def test_every_service_is_scraped_each_second_at_metrics() -> None:
    config = yaml.safe_load(
        prometheus_config(
            {"auth": "http://127.0.0.1:4001", "checkout": "http://127.0.0.1:4002"},
            ["/run/prometheus/rules.yml"],
        )
    )
    assert config["global"] == {"scrape_interval": "1s", "evaluation_interval": "1s"}
    assert config["rule_files"] == ["/run/prometheus/rules.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["auth"]["static_configs"] == [
        {"targets": ["127.0.0.1:4001"], "labels": {"app": "auth"}}
    ]
    assert jobs["checkout"]["metrics_path"] == "/metrics"
    assert jobs["checkout"]["scrape_timeout"] == "900ms"  # below the interval, as required


def test_the_shipped_rules_name_the_storefront_alerts() -> None:
    rules = yaml.safe_load(storefront_rules())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert names == {"LoginErrorRate", "CheckoutErrors", "LabelFailures", "CheckoutLatencyHigh"}
