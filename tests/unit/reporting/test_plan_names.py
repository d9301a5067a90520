"""`peakday plan` says plainly which names it checked and which it cannot check before a run."""

from __future__ import annotations

from peakday.experiment.models import Experiment
from peakday.reporting.plan import format_plan, named_things_issues
from peakday.topology import storefront_topology


def external(fault_proxy: str = "shop_front") -> Experiment:
    return Experiment.model_validate(
        {
            "name": "mine",
            "platform": "external",
            "external": {
                "upstreams": {"shop": "127.0.0.1:8080"},
                "proxies": {"shop_front": "shop"},
                "locustfile": "shop_locust.py",
                "host": "shop_front",
            },
            "load": {"users": 1, "spawn_rate": 1, "duration": 60, "warmup": 5},
            "faults": [{"name": "slow", "at": 20, "duration": 10, "proxy": fault_proxy,
                        "toxic": "latency", "attributes": {"latency": 100}}],
            "slos": [{"name": "login-ok", "request": "login", "metric": "success_rate",
                      "objective": ">= 99%"},
                     {"name": "typo", "request": "logn", "metric": "p95", "objective": "< 1s"}],
        }
    )  # fmt: skip


def test_on_external_the_request_names_are_not_claimed_to_exist() -> None:
    text = format_plan(external(), "mine.yaml", storefront_topology())
    assert "all exist" not in text
    assert "Checked now: fault proxies shop_front against external.proxies: all defined." in text
    assert "Not checkable now: request names login, logn." in text
    assert "shop_locust.py" in text
    assert "After the run: every applied fault must have reached traffic" in text


def test_on_external_a_fault_proxy_that_is_not_defined_is_a_problem() -> None:
    spec = external().model_copy(
        update={"faults": (external().faults[0].model_copy(update={"proxy": "nope"}),)}
    )
    assert named_things_issues(spec, storefront_topology()) == [
        "fault 'slow': no proxy 'nope' in external.proxies"
    ]
    assert "PROBLEMS: fault 'slow': no proxy 'nope'" in format_plan(spec, "x.yaml")


def test_on_the_storefront_steps_are_checked_against_its_journeys() -> None:
    spec = external().model_copy(
        update={"platform": "local", "external": None,
                "faults": (external().faults[0].model_copy(update={"proxy": "auth_login"}),)}
    )  # fmt: skip
    text = format_plan(spec, "x.yaml")
    assert "Checked now: proxies auth_login; services auth; steps login, logn" in text
    assert "PROBLEMS: 'typo': no step 'logn'" in text
    assert "Not checkable" not in text
