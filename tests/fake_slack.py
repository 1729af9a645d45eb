"""A local stand-in for the Slack side: the Web API methods the app calls, response_url, and request signing.

Not the thing under test: the bolt app, our listeners and the Block Kit they send are. This server
only records what they send, as Slack would receive it, on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

BOT_USER = "UBOT0001"


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, *args, fake: "FakeSlack", **kwargs):
        self.fake = fake
        super().__init__(*args, **kwargs)

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctype = self.headers.get("Content-Type", "")
        body = json.loads(raw or b"{}") if "json" in ctype else dict(parse_qsl(raw.decode()))
        self.fake.record(self.path, dict(self.headers), body)
        if self.path.startswith("/response/"):  # response_url answers plain "ok"
            payload, ctype = b"ok", "text/plain"
        else:
            method = self.path.rsplit("/", 1)[-1]
            result = {"ok": True}
            if method == "auth.test":
                result.update(user_id=BOT_USER, bot_id="BBOT0001", team_id="T0001", team="Northwind",
                              user="glossary", url="https://northwind.slack.invalid/")
            elif method == "chat.postMessage":
                result.update(channel=body.get("channel"), ts=f"{time.time():.6f}", message={"text": body.get("text")})
            payload, ctype = json.dumps(result).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


class FakeSlack:
    """Records every call: `calls` is a list of (path, headers, body)."""

    def __init__(self):
        self.calls: list[tuple[str, dict, dict]] = []
        self._cond = threading.Condition()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, fake=self))
        host, port = self.httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.api_url = self.url + "/api/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="fake-slack")

    def record(self, path: str, headers: dict, body: dict) -> None:
        with self._cond:
            self.calls.append((path, headers, body))
            self._cond.notify_all()

    def response_url(self, name: str) -> str:
        return f"{self.url}/response/{name}"

    def wait_for(self, path: str, count: int = 1, timeout: float = 15.0) -> list[dict]:
        """The bodies posted to `path` once there are `count` of them (listeners run after the ack)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [b for p, _, b in self.calls if p == path]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {count} call(s) to {path} within {timeout}s; calls: "
                                         f"{[p for p, _, _ in self.calls]}")
                self._cond.wait(left)

    def paths(self) -> list[str]:
        with self._cond:
            return [p for p, _, _ in self.calls]

    def start(self) -> "FakeSlack":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None, content_type: str) -> dict:
    """Headers Slack sends: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}") in hex, and the timestamp."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}


def form(fields: dict) -> bytes:
    return urlencode(fields).encode()


def interactive(payload: dict) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()
