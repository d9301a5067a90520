"""Re-scoring a saved run keeps the one outcome rule (`peakday score` uses rescore)."""

from __future__ import annotations

from peakday.results.loadhealth import LoadHealth
from peakday.scoring.evaluate import rescore
from unit.reporting.sample_results import load_smoke


def test_rescoring_a_run_whose_generator_was_saturated_keeps_it_inconclusive() -> None:
    saved = rescore(load_smoke())
    assert (saved.verdict, saved.outcome) == ("pass", "pass")  # the run itself held
    saturated = saved.model_copy(
        update={
            "load_health": LoadHealth(trusted=False, reasons=("generator at 100% CPU",)),
            "verdict": "inconclusive",
            "outcome": "inconclusive",
        }
    )
    again = rescore(saturated)
    assert (again.verdict, again.outcome) == ("inconclusive", "inconclusive")


def test_rescoring_a_run_whose_generator_kept_up_gives_the_slos_verdict() -> None:
    healthy = rescore(load_smoke()).model_copy(update={"load_health": LoadHealth(trusted=True)})
    assert rescore(healthy).outcome == "pass"
