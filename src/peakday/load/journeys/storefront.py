"""Peak-day storefront journeys: shoppers, merchants and point-of-sale terminals.

Plain Locust, runs on its own, with or without peakday installed:

    locust -f locustfiles/storefront.py --headless -u 20 -r 5 -t 1m

Every journey logs in through auth (by default via the `auth_login` Toxiproxy proxy) and keeps
logging in during the run, so an auth outage shows up on the `login` step and downstream.
Request names are the step names: login, checkout, label, pos_checkout. The users are
FastHttpUsers (geventhttpclient: several times less generator CPU per request than HttpUser's
requests). Where peakday is installed they are RoutedFastHttpUsers: a run routes the `login`
request to the auth_login proxy by name (PEAKDAY_ROUTES, PEAKDAY_PROXY_AUTH_LOGIN; see
docs/external.md), the way a user's own locustfile sends one route through its own proxy.
Without peakday they are plain FastHttpUsers and logins go to PEAKDAY_AUTH_URL, which a run
points at the same proxy.

Settings, read from the environment when each user starts:
    PEAKDAY_AUTH_URL           default http://127.0.0.1:18101 (Toxiproxy in front of auth);
                               where logins go when no route sends them elsewhere
    PEAKDAY_CHECKOUT_URL       default http://127.0.0.1:8102
    PEAKDAY_LABELS_URL         default http://127.0.0.1:8103
    PEAKDAY_REQUEST_TIMEOUT_S  default 10 (seconds: to connect, and for each read or write of
                               every request; read when a user is created)
    PEAKDAY_CONFIRMATIONS_DIR  unset: record nothing; else each 201 (order/label id and its
                               Idempotency-Key) goes to <dir>/<pid>.jsonl for reconciliation
                               (written within a second, and all of it when Locust stops)
    PEAKDAY_CLIENT_RETRIES     default 0: retries of a failed checkout/label, same key
    PEAKDAY_CONNECTIONS        default keep-alive: when a user opens new TCP connections
        keep-alive   reuse connections for the user's whole life (Locust's default)
        per-journey  close them after each journey (one task: a checkout, a label, a sale)
        per-request  close them after every request
Toxiproxy decides a toxic's `toxicity` per connection, so the mode decides what it applies to:
each user (keep-alive), each journey, or each request. See docs/load.md.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Mapping
from http.cookiejar import CookieJar
from typing import IO, Any, TypeVar

from locust import task
from locust.contrib.fasthttp import FastHttpSession
from locust.contrib.fasthttp import ResponseContextManager as Response
from locust.env import Environment

try:
    from peakday.load.locust_routes import RoutedFastHttpUser as JourneyUser
except ImportError:
    if os.environ.get("PEAKDAY_ROUTES"):
        raise  # a peakday run routes requests: its helper must load, not be skipped
    from locust import FastHttpUser as JourneyUser

# The request headers and bodies of the journeys are built once, not per request: Locust's
# `json=` would run json.dumps on every request for bodies that never change. These are the same
# bytes and headers `json=` sends (Locust adds Accept-Encoding, as before).
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
CHECKOUT_BODY = json.dumps({"items": [{"sku": "SKU-1001", "quantity": 1}], "channel": "online"})
POS_CHECKOUT_BODY = json.dumps({"items": [{"sku": "SKU-1001", "quantity": 1}], "channel": "pos"})
SERVICE_LEVELS = ("ground", "express")


def _setting(name: str, default: str) -> str:
    return os.environ.get(name, default).rstrip("/")


def _json(response: Response) -> object:
    """The body as JSON, or None when it is not JSON (or there is no body)."""
    try:
        return response.json()
    except (ValueError, TypeError):  # not JSON; TypeError: no body at all
        return None


def _access_token(response: Response) -> str | None:
    body = _json(response)
    token = body.get("access_token") if isinstance(body, dict) else None
    return token if isinstance(token, str) and token else None


User = TypeVar("User", bound="StorefrontUser")


def journey(turn: Callable[[User], None]) -> Callable[[User], None]:
    """A task that is one journey: with per-journey connections, close them when it ends."""

    @functools.wraps(turn)
    def one_journey(user: User) -> None:
        try:
            turn(user)
        finally:
            if user.close_per_journey:
                _close_connections(user.client)

    return one_journey


def _close_connections(client: FastHttpSession) -> None:
    """Close every connection the user's client holds; its next request opens a new one."""
    client.client.clientpool.close()


def _expect(response: Response, status: int) -> bool:
    """True when the response has the expected status; otherwise mark the request failed.

    With no response at all (timeout, refused, reset) Locust's status_code is 0: leave Locust's
    own exception in place, so the failure is reported as what it was rather than as our message.
    The same when the status line came but the body was cut off (FastHttpUser keeps the status).
    """
    status_code = response.status_code
    if status_code == status:
        return _whole_answer(response)
    if status_code:
        response.failure(f"expected HTTP {status}, got HTTP {status_code}")
    return False


def _whole_answer(response: Response) -> bool:
    """False when the transport failed, even after a status line (the body was cut off)."""
    return response.request_meta.get("exception") is None or response.status_code >= 300


def _client_retries() -> int:
    return int(os.environ.get("PEAKDAY_CLIENT_RETRIES", "0") or 0)


def _key_maker() -> Callable[[], str]:
    """Idempotency keys for one user: UUID-shaped, unique per request, made without a system
    call. The first 24 characters are a fresh uuid4's (74 random bits, so no two users share
    them); the last 12 hex digits count the user's requests. uuid4() per request cost about as
    much as the rest of the journeys' own code."""
    prefix = str(uuid.uuid4())[:24]
    counter = itertools.count()
    return lambda: f"{prefix}{next(counter):012x}"


class LazyCookieJar(CookieJar):
    """The standard CookieJar, skipping its work where there is none: no Cookie header to build
    while it holds no cookie, nothing to take from an answer without Set-Cookie. Locust's
    FastHttpSession calls both on every request (a lock, the time, the policy checks), about 4%
    of the journeys' CPU; the storefront sets no cookies. A service that does set one gets it
    back on the next request, as before."""

    def add_cookie_header(self, request: Any) -> None:
        if self._cookies:  # type: ignore[attr-defined]  # the stdlib's store: domain -> ...
            super().add_cookie_header(request)

    def extract_cookies(self, response: Any, request: Any) -> None:
        headers = response.info()
        if "Set-Cookie" in headers or "Set-Cookie2" in headers:  # case-insensitive headers
            super().extract_cookies(response, request)


class ConfirmationLog:
    """What the client was told, one JSON line per 201, in <folder>/<pid>.jsonl.

    peakday reconciles these with the stores after the run (lost and duplicated orders). One
    file per process, so Locust workers never interleave. Each line is written as it happens
    (line-buffered: one write per order), so a Locust process killed with SIGKILL loses no
    confirmation; the integrity check would otherwise count its orders as never confirmed.
    """

    def __init__(self) -> None:
        self.file: IO[str] | None = None

    def record(self, folder: str, line: Mapping[str, object]) -> None:
        if self.file is None:
            os.makedirs(folder, exist_ok=True)
            self.file = open(  # noqa: SIM115 - kept open for the life of the process
                os.path.join(folder, f"{os.getpid()}.jsonl"), "a", buffering=1, encoding="utf-8"
            )
        self.file.write(json.dumps(line) + "\n")


_confirmations = ConfirmationLog()  # one per process: its file is named after the process


def _record_confirmation(
    response: Response, folder: str, step: str, key: str, username: str
) -> None:
    """Record an order or label id the client was given, with its Idempotency-Key."""
    body = _json(response)
    record_id = body.get("order_id") or body.get("label_id") if isinstance(body, dict) else None
    if not isinstance(record_id, str):
        return
    headers = response.headers
    line = {
        "kind": "order" if record_id.startswith("ord_") else "label",
        "id": record_id,
        "key": key,
        "user": username,
        "step": step,
        "replayed": headers is not None and headers.get("Idempotent-Replayed") == "true",
        "wall": time.time(),
    }
    _confirmations.record(folder, line)


class StorefrontUser(JourneyUser):
    """Shared by every journey: settings, logging in, and backing off while login fails."""

    abstract = True
    # Requests use absolute URLs to each service; this default only keeps Locust from asking.
    host = "http://127.0.0.1:8102"

    account_prefix = "shopper"  # seeded accounts are <prefix>-000 .. <prefix>-<pool_size - 1>
    pool_size = 100
    think_time_s = (0.2, 0.8)
    login_backoff_s = (1.0, 4.0)  # first wait after a failed login, and the longest

    def __init__(self, environment: Environment) -> None:
        # FastHttpUser takes its timeouts when the user is made, not per request.
        self.timeout_s = float(_setting("PEAKDAY_REQUEST_TIMEOUT_S", "10"))
        self.network_timeout = self.connection_timeout = self.timeout_s
        super().__init__(environment)
        self.client.cookiejar = self.client.client.cookiejar = LazyCookieJar()

    def on_start(self) -> None:
        # Every setting is read here, once per user, never per request.
        self.auth_url = _setting("PEAKDAY_AUTH_URL", "http://127.0.0.1:18101")
        self.checkout_url = _setting("PEAKDAY_CHECKOUT_URL", "http://127.0.0.1:8102")
        self.labels_url = _setting("PEAKDAY_LABELS_URL", "http://127.0.0.1:8103")
        self.connections = _setting("PEAKDAY_CONNECTIONS", "keep-alive")
        self.close_per_journey = self.connections == "per-journey"
        self.close_per_request = self.connections == "per-request"
        self.client_retries = _client_retries()
        self.confirmations_dir = os.environ.get("PEAKDAY_CONFIRMATIONS_DIR", "")
        self.login_url = f"{self.auth_url}/login"
        self.checkout_endpoint = f"{self.checkout_url}/checkout"
        self.labels_endpoint = f"{self.labels_url}/labels"
        self.new_key = _key_maker()
        self.username = f"{self.account_prefix}-{random.randrange(self.pool_size):03d}"
        self.credentials = json.dumps(
            {"username": self.username, "password": f"pw-{self.username}"}
        )
        self.token: str | None = None
        self.failed_logins = 0
        if not self.login():
            self.wait()  # back off before the first turn instead of retrying at once

    def wait_time(self) -> float:
        """Think time, or a growing, jittered pause after failed logins so auth isn't hammered."""
        if self.failed_logins:
            first_s, longest_s = self.login_backoff_s
            backoff_s = min(longest_s, first_s * 2 ** (self.failed_logins - 1))
            return random.uniform(backoff_s / 2, backoff_s)
        return random.uniform(*self.think_time_s)

    def login(self) -> bool:
        with self.client.post(
            self.login_url,
            data=self.credentials,
            headers=JSON_HEADERS,
            name="login",
            catch_response=True,
        ) as response:
            self.token = _access_token(response) if _expect(response, 200) else None
            if response.status_code == 200 and self.token is None and _whole_answer(response):
                response.failure("login answered 200 without an access_token")
        self.failed_logins = 0 if self.token else self.failed_logins + 1
        self.request_done()
        return self.token is not None

    def logged_in(self) -> bool:
        """Log in first if there is no session; False means skip this turn (and back off)."""
        return self.token is not None or self.login()

    def post_with_token(self, url: str, name: str, body: str) -> bool:
        """POST `body` (JSON) as the logged-in user, expecting 201; a 401 ends the session.

        A failure with no answer, 429 or 5xx is retried PEAKDAY_CLIENT_RETRIES times with the
        same Idempotency-Key, as a careful client would (each attempt is its own request).
        """
        key = self.new_key()
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key, **JSON_HEADERS}
        for attempt in range(1 + self.client_retries):
            if attempt:
                time.sleep(random.uniform(0.05, 0.2) * 2**attempt)  # gevent-patched: yields
            with self.client.post(
                url,
                data=body,
                headers=headers,
                name=name,
                catch_response=True,
            ) as response:
                status = response.status_code
                if status == 401:
                    self.token = None  # expired or revoked: log in again next turn
                ok = _expect(response, 201)
                if ok and self.confirmations_dir:
                    _record_confirmation(response, self.confirmations_dir, name, key, self.username)
            self.request_done()
            if ok:
                return True
            if not _whole_answer(response):
                status = 0  # cut off: no answer
            if not (status in (0, 429) or status >= 500):
                return False
        return False

    def request_done(self) -> None:
        """With per-request connections, close the connection each request used."""
        if self.close_per_request:
            _close_connections(self.client)


class Shopper(StorefrontUser):
    """Logs in once, then checks out again and again (logging in again when told 401)."""

    weight = 6
    account_prefix = "shopper"
    pool_size = 100

    @task
    @journey
    def checkout(self) -> None:
        if self.logged_in():
            self.post_with_token(self.checkout_endpoint, "checkout", CHECKOUT_BODY)


class Merchant(StorefrontUser):
    """Prints shipping labels in admin sessions of a few labels, logging in for each session."""

    weight = 2
    account_prefix = "merchant"
    pool_size = 20
    labels_per_session = 5

    def on_start(self) -> None:
        self.labels_this_session = 0
        super().on_start()

    @task
    @journey
    def create_label(self) -> None:
        if not self.logged_in():
            return
        label = {
            "order_ref": f"ORD-{random.getrandbits(48):012x}",
            "weight_g": random.randint(100, 5000),
            "service_level": random.choice(SERVICE_LEVELS),
        }
        self.post_with_token(self.labels_endpoint, "label", json.dumps(label))
        self.labels_this_session += 1
        if self.labels_this_session >= self.labels_per_session:
            self.labels_this_session = 0
            self.token = None  # session over: the next label starts with a new login


class PosTerminal(StorefrontUser):
    """An in-store till: rings up sales, and the next cashier logs in every few sales."""

    weight = 2
    account_prefix = "pos"
    pool_size = 20
    sales_per_shift = 4

    def on_start(self) -> None:
        self.sales_this_shift = 0
        super().on_start()

    @task
    @journey
    def ring_up_sale(self) -> None:
        if not self.logged_in():
            return
        self.post_with_token(self.checkout_endpoint, "pos_checkout", POS_CHECKOUT_BODY)
        self.sales_this_shift += 1
        if self.sales_this_shift >= self.sales_per_shift:
            self.sales_this_shift = 0
            self.token = None  # shift change: log in again
