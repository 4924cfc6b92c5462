"""A real HTTP receiver on 127.0.0.1 (a free port) for webhook tests.

`Receiver.plan` is the list of answers to give, in order (the last repeats):
an int status, ("redirect", url), ("hang", seconds). Every request is kept
(headers, body) and, when `secret` is set, verified with the reference
`standardwebhooks` library.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: dict | None = None
    error: str = ""


@dataclass
class Receiver:
    plan: list = field(default_factory=lambda: [200])
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def answer(self):
        index = min(len(self.received) - 1, len(self.plan) - 1)
        return self.plan[index]


def start(plan=None, secret=None) -> Receiver:
    receiver = Receiver(plan=list(plan or [200]), secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            item = Received(self.path, headers, body)
            if receiver.secret:
                try:
                    item.verified = Webhook(receiver.secret).verify(body, headers)
                except Exception as exc:  # recorded; the test asserts on it
                    item.error = f"{type(exc).__name__}: {exc}"
            receiver.received.append(item)
            answer = receiver.answer()
            if isinstance(answer, tuple) and answer[0] == "hang":
                time.sleep(answer[1])
                answer = 200
            if isinstance(answer, tuple) and answer[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", answer[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(answer)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server.daemon_threads = True
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver


def stop(receiver: Receiver) -> None:
    receiver.server.shutdown()
    receiver.server.server_close()
