"""Traffic for the pretalx rehearsal (docs/own-stack.md): anonymous visitors on public pages and
organisers who sign in (CSRF token, then the form) and open the organiser area with that session.

Every request goes to pretalx through the `web_front` proxy (Locust's host); the session store
is not called from here at all: pretalx reaches it through `redis_sessions`, the proxy the fault
is on. Request names are what the experiment's SLOs name.
"""

from __future__ import annotations

import os
import re

from locust import HttpUser, between, task

ORGANISER_EMAIL = os.environ.get("ORGANISER_EMAIL", "organiser@example.org")
ORGANISER_PASSWORD = os.environ.get("ORGANISER_PASSWORD", "rehearsal-only-password")
# A hung session store makes pretalx hang, not fail: give up on a request after this long, as a
# browser's user would, so the hang shows as failed logins rather than as a stalled load.
REQUEST_TIMEOUT_S = float(os.environ.get("REQUEST_TIMEOUT_S", "4"))

# pretalx minifies its HTML: attributes are unquoted.
CSRF_TOKEN = re.compile(r"""name=["']?csrfmiddlewaretoken["']?[^>]*?value=["']?([^"' >]+)""")


class Visitor(HttpUser):
    """Someone reading the conference site, never signed in."""

    weight = 3
    wait_time = between(0.2, 0.5)

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="public_home", timeout=REQUEST_TIMEOUT_S)

    @task(1)
    def login_form(self) -> None:
        self.client.get("/orga/login/", name="public_login_form", timeout=REQUEST_TIMEOUT_S)


class Organiser(HttpUser):
    """An organiser who signs in afresh each time (a new browser session), then opens the
    organiser area; every step after the login needs the session pretalx keeps in Redis."""

    weight = 1
    wait_time = between(0.5, 1.0)

    @task
    def sign_in_and_look(self) -> None:
        self.client.cookies.clear()  # a new session: the login must write one to the store
        form = self.client.get("/orga/login/", name="login_form", timeout=REQUEST_TIMEOUT_S)
        found = CSRF_TOKEN.search(form.text or "")
        if found is None:
            return  # the form failed or changed: login_form's own failure already counts
        with self.client.post(
            "/orga/login/",
            data={
                "csrfmiddlewaretoken": found.group(1),
                "login_email": ORGANISER_EMAIL,
                "login_password": ORGANISER_PASSWORD,
            },
            headers={"Referer": f"{self.host}/orga/login/"},
            name="login",
            timeout=REQUEST_TIMEOUT_S,
            catch_response=True,
        ) as login:
            # A good login redirects into the organiser area; a rejected one shows the form again.
            # A timeout or a 5xx has no usable page: status_code is 0 or >= 500.
            if login.error is not None or login.status_code != 200:
                login.failure(f"HTTP {login.status_code}: {login.error}")
                return
            if "/orga/login" in login.url:
                login.failure("still on the login page: the credentials were not accepted")
                return
        with self.client.get(
            "/orga/event/", name="orga_dashboard", timeout=REQUEST_TIMEOUT_S, catch_response=True
        ) as dashboard:
            if dashboard.error is not None or dashboard.status_code != 200:
                dashboard.failure(f"HTTP {dashboard.status_code}: {dashboard.error}")
            elif "/orga/login" in dashboard.url:
                dashboard.failure("sent back to the login page: the session was lost")
