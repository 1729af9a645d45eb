"""Operations: Prometheus metrics, JSON logs with a request id, and the middleware that feeds both."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Metrics:
    """One registry per app, so several apps (tests, replicas in one process) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("glossary_http_requests_total", "HTTP requests", ["route", "method", "status"], registry=r)
        self.latency = Histogram("glossary_http_request_seconds", "HTTP request latency", ["route"], registry=r,
                                 buckets=(0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.answers = Counter("glossary_answers_total", "Answers by intent and confidence", ["intent", "confident"], registry=r)
        self.unanswered = Counter("glossary_unanswered_total", "Questions answered with 'not in our glossary yet'", registry=r)
        self.index_terms = Gauge("glossary_index_terms", "Terms in the loaded index", registry=r)
        self.index_views = Gauge("glossary_index_views", "Embedded views in the loaded index", registry=r)
        self.index_build = Gauge("glossary_index_build_seconds", "Build time of the loaded index", registry=r)
        self.reloads = Counter("glossary_reloads_total", "Glossary reloads by result", ["result"], registry=r)

    def index_loaded(self, manifest: dict) -> None:
        self.index_terms.set(manifest.get("terms", 0))
        self.index_views.set(manifest.get("views", 0))
        self.index_build.set(manifest.get("build_seconds", 0))

    def answered(self, intent: str, confident: bool) -> None:
        self.answers.labels(intent, str(confident).lower()).inc()
        if intent == "unknown":
            self.unanswered.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id and any `extra` fields."""

    RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in self.RESERVED and not k.startswith("_")})
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send all logs (ours and uvicorn's) to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs each request instead


access_log = logging.getLogger("glossary.access")
MAX_LOGGED_PATH = 300


def new_request_id(header: str | None) -> str:
    """Reuse a well-formed X-Request-ID from the proxy, else make one."""
    return header if header and _SAFE_ID.match(header) else uuid.uuid4().hex[:16]


def route_label(scope: dict) -> str:
    """The route template (bounded cardinality), not the raw path."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def observe(metrics: Metrics, scope: dict, method: str, status: int, seconds: float) -> None:
    label = route_label(scope)
    metrics.requests.labels(label, method, str(status)).inc()
    metrics.latency.labels(label).observe(seconds)
    path = scope.get("path") or ""
    # A path can be as long as the header limit allows; the log keeps its start and its length.
    access_log.info("request", extra={"method": method, "route": label,
                                       "path": path if len(path) <= MAX_LOGGED_PATH else path[:MAX_LOGGED_PATH] + "…",
                                       "path_chars": len(path),
                                       "status": status, "ms": round(seconds * 1000, 2)})


class RequestMiddleware:
    """Pure ASGI middleware: request id, body-size limit (declared and streamed), timing, metrics, access log."""

    def __init__(self, app, *, metrics: Metrics, max_body_bytes: int):
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = new_request_id(headers.get("x-request-id"))
        token = request_id.set(rid)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + [(b"x-request-id", rid.encode())]
            await send(message)

        try:
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > self.max_body:
                await self._too_large(send_wrapper)
                return
            # Read the (small) body up front, counting what actually arrives: a client may send
            # chunks without a length or lie about it. Then replay it to the app.
            body, more, disconnected = [], scope.get("method") in ("POST", "PUT", "PATCH"), False
            size = 0
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected = True
                    break
                size += len(message.get("body", b""))
                if size > self.max_body:
                    await self._too_large(send_wrapper)
                    return
                body.append(message.get("body", b""))
                more = message.get("more_body", False)
            if scope.get("method") in ("POST", "PUT", "PATCH") and not disconnected:
                replay = [{"type": "http.request", "body": b"".join(body), "more_body": False}]

                async def receive_replay():
                    return replay.pop() if replay else await receive()

                await self.app(scope, receive_replay, send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        finally:
            observe(self.metrics, scope, scope.get("method", ""), status["code"], time.perf_counter() - started)
            request_id.reset(token)

    async def _too_large(self, send) -> None:
        body = json.dumps({"detail": f"request body is larger than {self.max_body} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
