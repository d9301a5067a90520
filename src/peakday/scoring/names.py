"""What to say when an SLO names a request that never ran: the names that did, and the nearest
one (a request name of a user's locustfile is known only once the run has sent it); pure."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from peakday.results.model import TimelineRow

# How alike two names must be (difflib's ratio) to suggest one for the other.
NEAR_MISS_CUTOFF = 0.75


def names_that_ran(rows: Iterable[TimelineRow]) -> list[str]:
    """The request names with at least one request, sorted."""
    return sorted({r.name for r in rows if r.requests > 0})


def did_you_mean(name: str, candidates: Sequence[str]) -> str | None:
    """The candidate closest to `name`, if one is close enough (case is ignored)."""
    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=NEAR_MISS_CUTOFF)
    return lowered[close[0]] if close else None


def never_ran_detail(step: str, rows: Sequence[TimelineRow]) -> str:
    """Why an SLO on `step` has no value when no `step` request ran at all."""
    ran = names_that_ran(rows)
    detail = f"no {step!r} requests in the whole run"
    if not ran:
        return f"{detail}; no request ran at all"
    detail += f"; requests that ran: {', '.join(ran)}"
    suggestion = did_you_mean(step, ran)
    return f"{detail}; did you mean {suggestion!r}?" if suggestion else detail
