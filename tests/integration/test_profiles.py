"""Resilience profiles under an introspection brownout, for real: the same experiment with the
naive and the hardened storefront; hardened keeps checkout up, naive does not.

The brownout is what experiments/auth-brownout.yaml rehearses, shortened: 300 +- 100 ms on
every token check (Toxiproxy latency on auth_introspect) and 30% of them answered 503 by auth
itself (a service-level fault through auth's admin endpoint).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from integration.peakday_process import start_run
from peakday.results.model import Result

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BROWNOUT = """
name: brownout-{profile}
platform: local
storefront: {{profile: {profile}}}
load:
  users: 12
  spawn_rate: 12
  duration: 24s
  warmup: 3s
  journeys: {{shopper: 1}}
faults:
  - {{name: introspect-slow, at: 8s, duration: 12s, proxy: auth_introspect, toxic: latency,
     attributes: {{latency: 300, jitter: 100}}}}
  - {{name: introspect-5xx, at: 8s, duration: 12s, service: auth, behaviour: introspect_errors,
     toxicity: 0.3, attributes: {{status: 503}}}}
slos:
  - {{name: checkout-holds, request: checkout, metric: success_rate, objective: ">= 99%",
     phase: fault}}
"""


def run_brownout(profile: str, tmp_path: Path) -> Result:
    experiment = tmp_path / f"brownout-{profile}.yaml"
    experiment.write_text(BROWNOUT.format(profile=profile))
    run_dir = tmp_path / profile
    run = start_run(["run", str(experiment), "--no-color"], run_dir)
    code, out, err = run.wait(timeout_s=120)
    assert code in (0, 1), out + err
    return Result.model_validate_json((run_dir / "result.json").read_text())


def checkout_success_during_fault(result: Result) -> float:
    rows = [r for r in result.timeline if r.name == "checkout" and 9 <= r.t_s < 20]
    requests = sum(r.requests for r in rows)
    assert requests > 20, rows
    return 1 - sum(r.failures for r in rows) / requests


def test_hardened_checkout_survives_an_introspection_brownout_that_naive_does_not(
    tmp_path: Path,
) -> None:
    naive = run_brownout("naive", tmp_path)
    hardened = run_brownout("hardened", tmp_path)
    assert naive.environment["storefront.profile"] == "naive"
    assert hardened.environment["storefront.retries"] == "2"
    naive_ok = checkout_success_during_fault(naive)
    hardened_ok = checkout_success_during_fault(hardened)
    assert hardened_ok >= 0.98, hardened_ok
    assert naive_ok <= 0.85, naive_ok
    assert {s.name: s.verdict for s in hardened.slos}["checkout-holds"] == "pass"
    assert {s.name: s.verdict for s in naive.slos}["checkout-holds"] == "fail"
    # Neither profile may lose or duplicate an order on the way.
    for result in (naive, hardened):
        assert result.integrity is not None and result.integrity.checked
        assert (result.integrity.lost, result.integrity.duplicated) == (0, 0)
