"""Load for the compose example: GET / of the app, which calls its dependency `dep`."""

from locust import HttpUser, constant, task


class Caller(HttpUser):
    wait_time = constant(0.05)

    @task
    def call(self) -> None:
        self.client.get("/", name="call")
