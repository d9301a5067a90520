"""The Prometheus HTTP API, behind a small Protocol (`PrometheusApi`).

`PrometheusHttp` is the real one (GET /api/v1/query and /api/v1/alerts, a timeout on every
call); unit tests pass a fake. Only instant queries are used: each second of a run is read at
its end, so a value is what the query gave at that moment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import requests

DEFAULT_TIMEOUT_S = 2.0


class QueryError(Exception):
    """Prometheus refused the query (bad PromQL); the message is Prometheus's own text."""


class QueryShapeError(Exception):
    """The query gave several series where one value was wanted."""


@dataclass(frozen=True)
class AlertState:
    """One active alert: `state` pending or firing, `active_at` when it went pending (Unix s)."""

    alert: str
    state: str
    active_at: float | None


class PrometheusApi(Protocol):
    def value(self, query: str, at: float | None = None) -> float | None:
        """The query's one value at `at` (Unix s; None: now); None when it matched nothing.
        Raises QueryError for bad PromQL, QueryShapeError for several series, any other
        exception when the server did not answer."""
        ...

    def alerts(self) -> tuple[AlertState, ...]:
        """Every pending or firing alert now."""
        ...

    def alert_holds(self) -> dict[str, float]:
        """Each alerting rule's `for:` in seconds, by alert name."""
        ...


def one_value(data: Any) -> float | None:
    """The single value of a /api/v1/query `data` object (pure); None for an empty vector."""
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return _number(result[1])
    if kind == "vector" and isinstance(result, list):
        if not result:
            return None
        if len(result) > 1:
            labels = ", ".join(str(r.get("metric", {})) for r in result[:3])
            more = ", ..." if len(result) > 3 else ""
            raise QueryShapeError(
                f"the query gives {len(result)} series ({labels}{more}), not one value"
            )
        sample = result[0].get("value")
        return _number(sample[1]) if isinstance(sample, list) and len(sample) == 2 else None
    raise QueryShapeError(f"the query gives a {kind}, not an instant vector or a scalar")


def _number(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def parse_alerts(payload: Any) -> tuple[AlertState, ...]:
    """The alerts of a /api/v1/alerts answer (pure); malformed entries are skipped."""
    from datetime import datetime

    found = []
    for entry in (payload.get("data") or {}).get("alerts") or []:
        name = (entry.get("labels") or {}).get("alertname")
        state = entry.get("state")
        if not isinstance(name, str) or state not in ("pending", "firing"):
            continue
        active_at = None
        raw = entry.get("activeAt")
        if isinstance(raw, str):
            try:
                active_at = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
            except ValueError:
                active_at = None
        found.append(AlertState(alert=name, state=state, active_at=active_at))
    return tuple(found)


def parse_alert_holds(payload: Any) -> dict[str, float]:
    """alert name -> `for:` seconds from a /api/v1/rules answer (pure)."""
    holds: dict[str, float] = {}
    for group in (payload.get("data") or {}).get("groups") or []:
        for rule in group.get("rules") or []:
            if rule.get("type") == "alerting" and isinstance(rule.get("name"), str):
                duration = _number(rule.get("duration"))
                holds[rule["name"]] = duration if duration is not None else 0.0
    return holds


class PrometheusHttp:
    """PrometheusApi over HTTP; `base_url` such as http://127.0.0.1:9090."""

    def __init__(self, base_url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        # Imported here: a run without monitoring must not pay for requests (issue #16).
        import requests

        self.base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._session: requests.Session = requests.Session()
        self._session.trust_env = False  # never route loopback through an HTTP(S)_PROXY

    def value(self, query: str, at: float | None = None) -> float | None:
        params = {"query": query}
        if at is not None:
            params["time"] = f"{at:.3f}"
        response = self._session.get(
            f"{self.base_url}/api/v1/query", params=params, timeout=self._timeout_s
        )
        try:
            payload = response.json()
        except ValueError:
            response.raise_for_status()
            raise
        if payload.get("status") != "success":
            if payload.get("errorType") in ("bad_data", "execution"):
                raise QueryError(str(payload.get("error") or payload))
            response.raise_for_status()
            raise QueryError(str(payload.get("error") or payload))
        return one_value(payload.get("data") or {})

    def alerts(self) -> tuple[AlertState, ...]:
        response = self._session.get(f"{self.base_url}/api/v1/alerts", timeout=self._timeout_s)
        response.raise_for_status()
        return parse_alerts(response.json())

    def alert_holds(self) -> dict[str, float]:
        response = self._session.get(
            f"{self.base_url}/api/v1/rules", params={"type": "alert"}, timeout=self._timeout_s
        )
        response.raise_for_status()
        return parse_alert_holds(response.json())

    def ready(self) -> bool:
        import requests

        try:
            response = self._session.get(f"{self.base_url}/-/ready", timeout=self._timeout_s)
        except requests.RequestException:
            return False
        return response.status_code == 200
