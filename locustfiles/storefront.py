"""Peak-day storefront journeys: shoppers, merchants and point-of-sale terminals.

Plain Locust, no peakday import, so it runs on its own:

    locust -f locustfiles/storefront.py --headless -u 20 -r 5 -t 1m

Every journey logs in through auth (by default via the `auth_login` Toxiproxy proxy) and keeps
logging in during the run, so an auth outage shows up on the `login` step and downstream.
Request names are the step names: login, checkout, label, pos_checkout.

Settings, read from the environment when each user starts:
    PEAKDAY_AUTH_URL           default http://127.0.0.1:18101 (Toxiproxy in front of auth)
    PEAKDAY_CHECKOUT_URL       default http://127.0.0.1:8102
    PEAKDAY_LABELS_URL         default http://127.0.0.1:8103
    PEAKDAY_REQUEST_TIMEOUT_S  default 10 (seconds, applied to every request)
"""

from __future__ import annotations

import os
import random
import uuid
from typing import Any

from locust import HttpUser, task
from locust.clients import ResponseContextManager


def _setting(name: str, default: str) -> str:
    return os.environ.get(name, default).rstrip("/")


def _access_token(response: ResponseContextManager) -> str | None:
    try:
        body = response.json()
    except ValueError:  # not JSON
        return None
    token = body.get("access_token") if isinstance(body, dict) else None
    return token if isinstance(token, str) and token else None


def _expect(response: ResponseContextManager, status: int) -> bool:
    """True when the response has the expected status; otherwise mark the request failed.

    With no response at all (timeout, refused, reset) Locust's status_code is 0: leave Locust's
    own exception in place, so the failure is reported as what it was rather than as our message.
    """
    if response.status_code == status:
        return True
    if response.status_code:
        response.failure(f"expected HTTP {status}, got HTTP {response.status_code}")
    return False


class StorefrontUser(HttpUser):
    """Shared by every journey: settings, logging in, and backing off while login fails."""

    abstract = True
    # Requests use absolute URLs to each service; this default only keeps Locust from asking.
    host = "http://127.0.0.1:8102"

    account_prefix = "shopper"  # seeded accounts are <prefix>-000 .. <prefix>-<pool_size - 1>
    pool_size = 100
    think_time_s = (0.2, 0.8)
    login_backoff_s = (1.0, 4.0)  # first wait after a failed login, and the longest

    def on_start(self) -> None:
        self.auth_url = _setting("PEAKDAY_AUTH_URL", "http://127.0.0.1:18101")
        self.checkout_url = _setting("PEAKDAY_CHECKOUT_URL", "http://127.0.0.1:8102")
        self.labels_url = _setting("PEAKDAY_LABELS_URL", "http://127.0.0.1:8103")
        self.timeout_s = float(_setting("PEAKDAY_REQUEST_TIMEOUT_S", "10"))
        self.username = f"{self.account_prefix}-{random.randrange(self.pool_size):03d}"
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
        credentials = {"username": self.username, "password": f"pw-{self.username}"}
        with self.client.post(
            f"{self.auth_url}/login",
            json=credentials,
            name="login",
            timeout=self.timeout_s,
            catch_response=True,
        ) as response:
            self.token = _access_token(response) if _expect(response, 200) else None
            if response.status_code == 200 and self.token is None:
                response.failure("login answered 200 without an access_token")
        self.failed_logins = 0 if self.token else self.failed_logins + 1
        return self.token is not None

    def logged_in(self) -> bool:
        """Log in first if there is no session; False means skip this turn (and back off)."""
        return self.token is not None or self.login()

    def post_with_token(self, url: str, name: str, body: dict[str, Any]) -> bool:
        """POST as the logged-in user, expecting 201; a 401 ends the session."""
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(
            url, json=body, headers=headers, name=name, timeout=self.timeout_s, catch_response=True
        ) as response:
            if response.status_code == 401:
                self.token = None  # expired or revoked: log in again next turn
            return _expect(response, 201)


class Shopper(StorefrontUser):
    """Logs in once, then checks out again and again (logging in again when told 401)."""

    weight = 6
    account_prefix = "shopper"
    pool_size = 100

    @task
    def checkout(self) -> None:
        if self.logged_in():
            self.post_with_token(
                f"{self.checkout_url}/checkout",
                "checkout",
                {"items": [{"sku": "SKU-1001", "quantity": 1}], "channel": "online"},
            )


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
    def create_label(self) -> None:
        if not self.logged_in():
            return
        self.post_with_token(
            f"{self.labels_url}/labels",
            "label",
            {
                "order_ref": f"ORD-{uuid.uuid4().hex[:12]}",
                "weight_g": random.randint(100, 5000),
                "service_level": random.choice(["ground", "express"]),
            },
        )
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
    def ring_up_sale(self) -> None:
        if not self.logged_in():
            return
        self.post_with_token(
            f"{self.checkout_url}/checkout",
            "pos_checkout",
            {"items": [{"sku": "SKU-1001", "quantity": 1}], "channel": "pos"},
        )
        self.sales_this_shift += 1
        if self.sales_this_shift >= self.sales_per_shift:
            self.sales_this_shift = 0
            self.token = None  # shift change: log in again
