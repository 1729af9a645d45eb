"""Response hardening shared by every route: security headers, the pages' CSP, CORS and widget origins."""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Every HTML page: scripts and styles only from our own files (no inline code, no style attributes),
# and DOM sinks only through the one Trusted Types policy that passes the server's sanitized HTML.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; manifest-src 'self'; "
    "require-trusted-types-for 'script'; trusted-types glossary"
)
# Anything else (JSON, scripts, files): nothing may be loaded or run from it, nobody may frame it.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"
REFERRER_POLICY = "strict-origin-when-cross-origin"

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?$", re.I)


def page_csp(frame_ancestors: str = "'none'") -> str:
    """The Content-Security-Policy of an HTML page; only the widget frame names ancestors."""
    return f"{PAGE_POLICY}; frame-ancestors {frame_ancestors}"


def normalize_origin(value: str | None) -> str | None:
    """Return `scheme://host[:port]` in lower case, or None when `value` is not an origin."""
    if not value:
        return None
    value = value.strip().rstrip("/")
    if not _ORIGIN.match(value):
        return None
    scheme, rest = value.split("://", 1)
    return f"{scheme.lower()}://{rest.lower()}"


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    """True when `origin` is one of the configured host origins (exact match, case-insensitive)."""
    origin = normalize_origin(origin)
    return origin is not None and origin in {normalize_origin(a) for a in allowed}


class SecurityHeaders:
    """Add nosniff, a referrer policy and a default CSP to every response that does not set its own.

    The interactive API docs load their own inline code, so they only get frame-ancestors 'none'.
    """

    def __init__(self, app: ASGIApp, docs_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.docs_paths = tuple(p for p in docs_paths if p)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "").startswith(self.docs_paths) if self.docs_paths else False

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", REFERRER_POLICY)
                headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'" if docs else DEFAULT_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app, settings) -> None:
    """Register CORS (only the configured widget hosts) and the security headers on `app`."""
    from fastapi.middleware.cors import CORSMiddleware

    app.add_middleware(
        CORSMiddleware,
        allow_origins=[o for o in (normalize_origin(a) for a in settings.allowed_origins) if o],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        max_age=600,
    )
    app.add_middleware(SecurityHeaders, docs_paths=(app.docs_url or "", app.redoc_url or ""))
