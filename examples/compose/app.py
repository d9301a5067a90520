"""A user's app and the dependency it calls by service name (the compose platform's tests).

`app.py dep` answers GET / with 200. `app.py app` answers GET / by calling DEP_URL (from its
compose config, such as http://dep:9000/) with a 2 s timeout: 200 with the dependency's answer,
502 when the dependency cannot be reached.
"""

import os
import signal
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    role = "dep"

    def do_GET(self) -> None:
        if self.role == "dep" or self.path == "/health":
            self._answer(200, b"dep ok" if self.role == "dep" else b"ok")
            return
        try:
            with urllib.request.urlopen(os.environ["DEP_URL"], timeout=2) as response:
                self._answer(200, b"app got: " + response.read())
        except Exception as error:  # any failure of the dependency is a 502
            self._answer(502, f"dependency failed: {error}".encode())

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # pid 1: stop at once when told
    Handler.role = sys.argv[1]
    port = 8080 if Handler.role == "app" else 9000
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
