"""Scoring: phases from the fault schedule, SLO evaluation and verdicts (pure)."""
