"""Typed experiment models (pure). Shape checks live here; cross-references in validate.py."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Strict,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from peakday.experiment.hints import did_you_mean
from peakday.experiment.load_spec import Load
from peakday.experiment.objectives import (
    AnyObjective,
    parse_share,
    parse_slo_objective,
    parse_target,
)
from peakday.experiment.units import (
    Metric,
    Objective,
    SpecValueError,
    parse_duration_s,
    parse_objective,
)

Seconds = Annotated[float, BeforeValidator(parse_duration_s), AllowInfNan(False)]
# Strict so YAML's yes/no/on/off (booleans) and quoted numbers are reported, not coerced to 1/0.
WholeNumber = Annotated[int, Strict()]
Number = Annotated[float, Strict(), AllowInfNan(False)]
Flag = Annotated[bool, Strict()]

ToxicType = Literal[
    "latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "down"
]
PHASES = ("baseline", "fault", "recovery", "all", "each-fault")
FAULT_PHASE_PREFIX = "fault:"


def _phase_readable(value: object) -> object:
    """A phase name, 'each-fault' (every fault window judged apart) or 'fault:NAME' (one window);
    whether NAME names a fault is checked in crossref.py."""
    if not isinstance(value, str):
        return value  # the str type check reports it
    if value in PHASES or (value.startswith(FAULT_PHASE_PREFIX) and value != FAULT_PHASE_PREFIX):
        return value
    raise SpecValueError(
        f"Unknown phase {value!r}.",
        f"{did_you_mean(value, PHASES)}Choose one of: baseline, fault, each-fault, "
        "fault:NAME (one fault's window), recovery or all.",
    )


Phase = Annotated[str, BeforeValidator(_phase_readable)]
Journey = Literal["shopper", "merchant", "pos"]
Platform = Literal["local", "docker", "external", "compose"]
# Platforms where the user's own system runs, driven by the user's own locustfile.
USER_SYSTEM_PLATFORMS = ("external", "compose")
ServiceAction = Literal["kill", "stop", "pause", "restart"]
# Service-level faults a storefront service plays through its admin endpoint
# (storefront/misbehaviour.py says what each does).
ServiceBehaviour = Literal["errors", "login_errors", "introspect_errors", "slow_user_store"]
StorefrontProfile = Literal["standard", "naive", "hardened"]

# Attributes each Toxiproxy toxic accepts (units as Toxiproxy documents them).
TOXIC_ATTRIBUTES: dict[str, frozenset[str]] = {
    "latency": frozenset({"latency", "jitter"}),  # ms
    "bandwidth": frozenset({"rate"}),  # KB/s
    "slow_close": frozenset({"delay"}),  # ms
    "timeout": frozenset({"timeout"}),  # ms, 0 = hold forever
    "reset_peer": frozenset({"timeout"}),  # ms
    "slicer": frozenset({"average_size", "size_variation", "delay"}),  # bytes, bytes, us
    "limit_data": frozenset({"bytes"}),
    "down": frozenset(),  # the proxy is disabled; not a toxic in Toxiproxy's API
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Fault(_Model):
    """A network fault (`proxy` + `toxic`) or a service fault (`service` + `action`).

    Exactly one of the two pairs is given; experiment/crossref.py reports anything else.
    Service actions and what ends them at `at + duration`: kill -> start again, stop -> start,
    pause -> unpause, restart -> nothing (the window is the time given to recover).
    """

    name: str | None = None
    at: Seconds
    duration: Seconds = Field(gt=0)
    proxy: str | None = None
    toxic: ToxicType | None = None
    attributes: dict[str, Number] = Field(default_factory=dict)
    stream: Literal["downstream", "upstream"] = "downstream"
    toxicity: Number = Field(default=1.0, ge=0.0, le=1.0)
    service: str | None = None
    action: ServiceAction | None = None
    # `service` + `behaviour` (+ attributes status/delay/jitter, toxicity = fraction)
    behaviour: ServiceBehaviour | None = None

    @property
    def end(self) -> float:
        return self.at + self.duration

    @property
    def is_service_fault(self) -> bool:
        """An action on a service's process or container (kill, stop, pause, restart)."""
        return (self.service is not None or self.action is not None) and self.behaviour is None

    @property
    def is_behaviour_fault(self) -> bool:
        """A service-level fault played by the service itself."""
        return self.behaviour is not None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.is_behaviour_fault:
            return f"{self.behaviour}@{self.service}"
        if self.is_service_fault:
            return f"{self.action}@{self.service}"
        return f"{self.toxic}@{self.proxy}"


class ProxyEntry(_Model):
    """One proxy on the external platform: `name: upstream`, or the long form
    `name: {upstream: NAME, listen: "127.0.0.1:16379"}`, or `name: {existing: true}` to adopt a
    proxy that already exists on the user's own Toxiproxy server."""

    upstream: str | None = Field(default=None, min_length=1)  # a name under external.upstreams
    listen: str | None = None  # host:port the proxy listens on; None: a free loopback port
    existing: Flag = False  # adopt a proxy of that name on the user's server; never delete it

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: object) -> object:
        if isinstance(value, str):
            return {"upstream": value}
        if not isinstance(value, dict):
            raise SpecValueError(
                f"A proxy is an upstream name or a mapping, got {value!r}.",
                "Write shop_front: shop, or shop_front: {upstream: shop, listen: "
                "'127.0.0.1:16379'}.",
            )
        return value


class ToxiproxyServer(_Model):
    """A toxiproxy-server the user already runs; peakday drives it through its HTTP API."""

    api: str = Field(min_length=1)  # such as http://127.0.0.1:8474

    @field_validator("api")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parsed = urlsplit(value)
        try:
            port = parsed.port
        except ValueError:
            port = None
        if (
            parsed.scheme != "http"
            or not parsed.hostname
            or port is None
            or (parsed.path not in ("", "/") or parsed.query or parsed.fragment)
        ):
            raise SpecValueError(
                f"The Toxiproxy API must be an http://host:port URL, got {value!r}.",
                "Write toxiproxy: {api: 'http://127.0.0.1:8474'} (Toxiproxy's API speaks plain "
                "HTTP; its default port is 8474).",
            )
        return value

    @property
    def host(self) -> str:
        return urlsplit(self.api).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.api).port or 0


def _toxiproxy_choice(value: object) -> object:
    if isinstance(value, str) and value not in ("local", "docker"):
        raise SpecValueError(
            f"Unknown Toxiproxy {value!r}: give 'local' (peakday starts toxiproxy-server) or "
            "the API of a server you run.",
            f"Write toxiproxy: local, or toxiproxy: {{api: 'http://{value}'}} for your own server."
            if ":" in value and "://" not in value
            else "Write toxiproxy: local, or toxiproxy: {api: 'http://127.0.0.1:8474'} for your "
            "own server.",
        )
    return value


def _toxiproxy_kind(value: object) -> str:
    return "server" if isinstance(value, dict | ToxiproxyServer) else "name"


# Tagged, so a bad mapping is reported against ToxiproxyServer's keys only, not as a union.
ToxiproxyChoice = Annotated[
    Annotated[Literal["local", "docker"], Tag("name")] | Annotated[ToxiproxyServer, Tag("server")],
    Discriminator(_toxiproxy_kind),
    BeforeValidator(_toxiproxy_choice),
]


class External(_Model):
    """The user's own system (`platform: external`): peakday puts Toxiproxy in front of it."""

    upstreams: dict[str, str] = Field(min_length=1)  # name -> host:port the user runs
    proxies: dict[str, ProxyEntry] = Field(min_length=1)  # proxy name -> upstream (and listen)
    locustfile: str = Field(min_length=1)  # relative to the experiment file
    host: str = Field(min_length=1)  # a proxy name (its address) or a URL, Locust's --host
    # local: peakday starts toxiproxy-server; {api: URL}: the user's own server.
    # docker is refused by validation (platform_checks) until it is implemented.
    toxiproxy: ToxiproxyChoice = "local"
    allow_non_local_targets: Flag = False
    # Locust user class name -> weight; empty runs every class with the locustfile's own weights.
    user_classes: dict[str, Number] = Field(default_factory=dict)
    # request name or path (/login) -> proxy name, for locustfiles using peakday.routes.
    routes: dict[str, str] = Field(default_factory=dict)


class Compose(_Model):
    """The user's own Docker Compose project (`platform: compose`): peakday brings it up with the
    real Compose CLI and puts Toxiproxy in front of each intercepted service, by network alias
    (docs/compose.md)."""

    file: str = Field(min_length=1)  # the project's compose file, relative to the experiment
    project: str | None = Field(default=None, min_length=1)  # None: the file's own name
    # service -> the port it listens on inside the project; proxies are named after services
    intercept: dict[str, WholeNumber] = Field(min_length=1)
    # Locust's --host: "service:port" (its published host port, read with `docker compose
    # port`) or a URL
    host: str = Field(min_length=1)
    locustfile: str = Field(min_length=1)  # relative to the experiment file
    user_classes: dict[str, Number] = Field(default_factory=dict)
    routes: dict[str, str] = Field(default_factory=dict)  # request name or path -> proxy
    pull: Flag = False  # let compose pull missing images (--pull)
    build: Flag = False  # let compose build images (--build)


SloMetric = Literal[
    "success_rate", "p50", "p90", "p95", "p99", "p999", "max", "rps", "error_budget", "value"
]
# Where an SLO's or stop condition's series comes from: the load generator, or a PromQL query.
SeriesSource = Literal["client", "prometheus"]
# How the per-second values of a server-side series make one value over a phase.
Aggregate = Literal["mean", "max", "min", "last"]


def server_series_name(name: str) -> str:
    """The timeline step holding the per-second values of a server-side SLO or stop condition."""
    return f"prometheus:{name}"


def _server_series_defaults(value: object) -> object:
    """`source: prometheus` entries name no request or metric: their series is their query."""
    if isinstance(value, dict) and value.get("source") == "prometheus":
        name = value.get("name")
        defaults = {"metric": "value"}
        if isinstance(name, str):
            defaults["request"] = server_series_name(name)
        return {**defaults, **value}
    return value


class BurnRateAlert(_Model):
    """A multi-window burn-rate condition (SRE workbook): fires when the error budget burns at
    least `factor` times too fast over both the long and the short window."""

    factor: Number = Field(gt=0)
    long: Seconds = Field(gt=0)
    short: Seconds = Field(gt=0)
    severity: Literal["fail", "warn"] = "fail"


class Slo(_Model):
    name: str
    request: str
    metric: SloMetric
    objective: str
    phase: Phase = "all"
    weight: Number = Field(default=1.0, ge=0)
    key: Flag = False  # a failed key SLO fails the run whatever the score
    warning: str | None = None  # a looser objective: missing `objective` but meeting this = warn
    target: str | None = None  # error_budget only: the success-rate target, such as "99.5%"
    burn_rate_alerts: tuple[BurnRateAlert, ...] | None = None  # error_budget only; None = defaults
    window: Seconds | None = Field(default=None, gt=0)  # judge every rolling window this long
    within: str | None = None  # share of windows (or seconds) that must meet the objective

    @field_validator("within")
    @classmethod
    def _within_readable(cls, value: str | None) -> str | None:
        if value is not None:
            parse_share(value)
        return value

    # source: prometheus -> `query` (PromQL, one value) evaluated each second (monitoring/).
    source: SeriesSource = "client"
    query: str | None = Field(default=None, min_length=1)
    aggregate: Aggregate = "mean"

    @model_validator(mode="before")
    @classmethod
    def _server_defaults(cls, value: object) -> object:
        return _server_series_defaults(value)

    @field_validator("objective", "warning")
    @classmethod
    def _objective_readable(cls, value: str | None, info: ValidationInfo) -> str | None:
        metric = info.data.get("metric")
        if metric is not None and value is not None:
            parse_slo_objective(value, metric)
        return value

    @field_validator("target")
    @classmethod
    def _target_readable(cls, value: str | None) -> str | None:
        if value is not None:
            parse_target(value)
        return value

    @property
    def parsed_objective(self) -> AnyObjective:
        return parse_slo_objective(self.objective, self.metric)

    @property
    def parsed_warning(self) -> AnyObjective | None:
        return None if self.warning is None else parse_slo_objective(self.warning, self.metric)

    @property
    def parsed_target(self) -> float | None:
        return None if self.target is None else parse_target(self.target)

    @property
    def parsed_within(self) -> float | None:
        return None if self.within is None else parse_share(self.within)


class StopCondition(_Model):
    """Like a cloud FIS stop alarm: `when` holds for `sustained` seconds -> roll back faults."""

    name: str
    request: str
    metric: Metric
    when: str  # the breach, such as "< 90%" for success_rate
    sustained: Seconds = Field(default=10.0, gt=0)
    action: Literal["end_faults", "end_run"] = "end_faults"
    source: SeriesSource = "client"
    query: str | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _server_defaults(cls, value: object) -> object:
        return _server_series_defaults(value)

    @field_validator("when")
    @classmethod
    def _when_readable(cls, value: str, info: ValidationInfo) -> str:
        metric = info.data.get("metric")
        if metric is not None:
            parse_objective(value, metric)
        return value

    @property
    def parsed_when(self) -> Objective:
        return parse_objective(self.when, self.metric)


class MatrixRules(_Model):
    """When a step counts as degraded or broken during a fault, against its baseline."""

    degraded_latency_ratio: Number = Field(default=1.5, ge=1)
    degraded_latency_margin_ms: Number = Field(default=50.0, ge=0)
    degraded_success_drop_pp: Number = Field(default=1.0, ge=0, le=100)
    degraded_throughput_ratio: Number = Field(default=0.5, ge=0, le=1)
    broken_success_rate_pct: Number = Field(default=90.0, ge=0, le=100)
    broken_throughput_ratio: Number = Field(default=0.1, ge=0, le=1)


class Scoring(_Model):
    pass_score: Number = Field(default=90.0, ge=0, le=100)
    warn_score: Number = Field(default=75.0, ge=0, le=100)
    recovery_hold: Seconds = Field(default=5.0, gt=0)
    continue_if_baseline_not_met: Flag = False
    compare_to: str | None = Field(default=None, min_length=1)
    matrix: MatrixRules = Field(default_factory=MatrixRules)


class Storefront(_Model):
    """The mock storefront's resilience profile and knobs (docs/storefront.md).

    Unset knobs keep the profile's value; storefront/profiles.py holds the profiles.
    """

    profile: StorefrontProfile = "standard"
    auth_timeout: Seconds | None = Field(default=None, gt=0, le=300)
    retries: WholeNumber | None = Field(default=None, ge=0, le=10)
    retry_backoff: Seconds | None = Field(default=None, ge=0, le=10)
    retry_budget: Number | None = Field(default=None, ge=0, le=10)
    breaker_failures: WholeNumber | None = Field(default=None, ge=0)
    breaker_reset: Seconds | None = Field(default=None, gt=0, le=600)
    introspect_cache_ttl: Seconds | None = Field(default=None, ge=0, le=3600)
    introspect_stale: Seconds | None = Field(default=None, ge=0, le=86_400)
    max_in_flight: WholeNumber | None = Field(default=None, ge=0)
    # Reconcile what clients were told with what the stores hold, judged as integrity SLOs.
    integrity: Flag = True
    # Times a journey retries a failed checkout/label POST with the same Idempotency-Key.
    client_retries: WholeNumber = Field(default=0, ge=0, le=5)
    # Server processes per service sharing its port (local platform; docs/storefront.md).
    workers: WholeNumber = Field(default=1, ge=1, le=64)

    def overrides(self) -> dict[str, float | int]:
        """The knobs set here, by their storefront/profiles.py names."""
        names = {
            "auth_timeout": "auth_timeout_s",
            "retry_backoff": "retry_backoff_s",
            "breaker_reset": "breaker_reset_s",
            "introspect_cache_ttl": "introspect_cache_ttl_s",
            "introspect_stale": "introspect_stale_s",
        }
        knobs = ("retries", "retry_budget", "breaker_failures", "max_in_flight", *names)
        return {
            names.get(knob, knob): getattr(self, knob)
            for knob in knobs
            if getattr(self, knob) is not None
        }


class PrometheusServer(_Model):
    """A Prometheus server the user already runs (`monitoring: {prometheus: URL}`)."""

    prometheus: str = Field(min_length=1)

    @field_validator("prometheus")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parsed = urlsplit(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise SpecValueError(
                f"The Prometheus server must be an http(s):// URL, got {value!r}.",
                "Write monitoring: {prometheus: 'http://127.0.0.1:9090'}, or monitoring: "
                "prometheus to let peakday start its own.",
            )
        return value.rstrip("/")


def _monitoring_kind(value: object) -> str:
    return "server" if isinstance(value, dict | PrometheusServer) else "name"


# `prometheus`: peakday starts its own server; {prometheus: URL}: the user's.
MonitoringChoice = Annotated[
    Annotated[Literal["prometheus"], Tag("name")] | Annotated[PrometheusServer, Tag("server")],
    Discriminator(_monitoring_kind),
]


class ExpectedAlert(_Model):
    """An alerting rule that should fire during a fault (and clear after it)."""

    fault: str = Field(min_length=1)  # a fault's name
    alert: str = Field(min_length=1)  # the rule's `alert:` name
    weight: Number = Field(default=1.0, ge=0)
    key: Flag = False


class Alerts(_Model):
    """Which Prometheus alerts a game day expects; judged from the server's alert states."""

    # A Prometheus rules file, relative to the experiment file; None: peakday's storefront rules.
    rules: str | None = Field(default=None, min_length=1)
    expect: tuple[ExpectedAlert, ...] = ()
    # Weight of the check that no alert fires during the baseline (0 turns it off).
    false_positive_weight: Number = Field(default=1.0, ge=0)


class Experiment(_Model):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    platform: Platform = "local"
    external: External | None = None  # required by, and only used with, platform: external
    compose: Compose | None = None  # required by, and only used with, platform: compose
    load: Load
    faults: tuple[Fault, ...] = ()
    slos: tuple[Slo, ...] = ()
    stop_conditions: tuple[StopCondition, ...] = ()
    scoring: Scoring = Field(default_factory=Scoring)
    storefront: Storefront = Field(default_factory=Storefront)

    @property
    def on_user_system(self) -> bool:
        """The user's own system runs (external, compose), not the storefront."""
        if self.platform == "compose":  # without a compose section: the storefront's own file
            return self.compose is not None
        return self.platform in USER_SYSTEM_PLATFORMS

    @property
    def user_classes(self) -> dict[str, float] | None:
        """The Locust classes to run on the user's system; None: the storefront's journeys."""
        if self.platform == "compose" and self.compose is not None:
            return dict(self.compose.user_classes)
        if self.platform == "external" and self.external is not None:
            return dict(self.external.user_classes)
        return None

    # Server-side signals: `prometheus` (peakday starts one) or {prometheus: URL}.
    monitoring: MonitoringChoice | None = None
    alerts: Alerts | None = None  # needs monitoring

    @property
    def server_series(self) -> dict[str, str]:
        """Timeline step -> PromQL query, for every `source: prometheus` SLO and stop condition."""
        entries: list[Slo | StopCondition] = [*self.slos, *self.stop_conditions]
        return {e.request: e.query for e in entries if e.source == "prometheus" and e.query}
