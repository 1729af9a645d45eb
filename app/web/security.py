"""Response hardening shared by every route: security headers, the pages' CSP, CORS and widget origins."""

from __future__ import annotations

import json
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
                location = headers.get("location", "")
                if location.startswith(("http://", "https://")):
                    # Starlette's trailing-slash redirect builds an absolute URL from the Host header, which
                    # a client chooses: keep only the path, so a redirect never leaves this service.
                    rest = location.split("://", 1)[1]
                    headers["location"] = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", REFERRER_POLICY)
                headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'" if docs else DEFAULT_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)


UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CORS_PREFIXES = ("/api/", "/widget/api/")  # what the configured widget hosts may call from their pages


def cross_site(headers: dict[str, str], own: set[str]) -> bool:
    """True when a browser says the request comes from another site: Sec-Fetch-Site, else Origin.

    `own` holds this service's origins as host[:port] (the Host it was reached at, the public base
    URL). Clients that send neither header (curl, chat faces, the CLI) are not browsers: no CSRF.
    """
    fetch_site = headers.get("sec-fetch-site", "")
    if fetch_site in ("cross-site", "same-site"):
        return True
    origin = headers.get("origin", "")
    if not origin or fetch_site in ("same-origin", "none"):
        return False
    if origin == "null":
        return True
    netloc = origin.split("://", 1)[-1].lower()
    return netloc not in own


class SameOriginWrites:
    """Refuse state-changing requests a browser sends from another site (CSRF), with a readable 403.

    Pages, forms and every /admin POST must come from this service's own pages; the JSON API
    and widget API may also be called from the configured widget hosts (GLOSSARY_ALLOWED_ORIGINS).
    """

    def __init__(self, app: ASGIApp, *, allowed_origins: list[str], public_base_url: str = "") -> None:
        self.app = app
        self.allowed = allowed_origins
        base = normalize_origin("/".join(public_base_url.split("/", 3)[:3])) if public_base_url else None
        self.base = {base.split("://", 1)[1]} if base else set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        own = self.base | {headers.get("host", "").lower()}
        path = scope.get("path", "")
        if cross_site(headers, own) and not (path.startswith(CORS_PREFIXES)
                                             and origin_allowed(headers.get("origin"), self.allowed)):
            body = json.dumps({"detail": "cross-site request refused: this form or action only works from the "
                                         "glossary's own pages"}).encode()
            await send({"type": "http.response.start", "status": 403, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def install(app, settings) -> None:
    """Register CORS (only the configured widget hosts), the cross-site write check and the security headers."""
    from fastapi.middleware.cors import CORSMiddleware

    app.add_middleware(
        CORSMiddleware,
        allow_origins=[o for o in (normalize_origin(a) for a in settings.allowed_origins) if o],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        max_age=600,
    )
    app.add_middleware(SameOriginWrites, allowed_origins=settings.allowed_origins,
                       public_base_url=settings.public_base_url)
    app.add_middleware(SecurityHeaders, docs_paths=("/docs",))
