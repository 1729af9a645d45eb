"""The app factory: create_app(settings) loads everything once in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.web import openapi, ratelimit
from app.config import Settings
from app.observability import RequestMiddleware
from app.reload import Reloader
from app.search.embedder import Embedder
from app.service import ServiceError
from app.state import AppState, open_store, start
from app.store import Store

__all__ = ["create_app", "install_web", "open_store"]

log = logging.getLogger("glossary")


def _readable(errors: list[dict]) -> str:
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None, store: Store | None = None) -> FastAPI:
    """Build the service; the glossary, embedder and index are loaded once, at start."""
    settings = settings or Settings()
    state = AppState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, AppState]]:
        start(state, embedder=embedder, store=store)
        state.reloader = Reloader(state, settings)
        watcher = asyncio.create_task(state.reloader.watch()) if state.reloader.watches else None
        yield {"app_state": state}
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if state.store is not None:
            state.store.dispose()

    app = FastAPI(title="Glossary assistant", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Linked definitions of IT and procurement terms, with the company's rules.")
    # The typed state replaces Starlette's untyped attribute bag (nothing in Starlette reads app.state).
    app.state = state  # type: ignore[assignment]
    # Added first so it runs inside RequestMiddleware: a 429 is still timed, counted and logged.
    state.rate_limiter = ratelimit.install(app, settings)
    app.add_middleware(RequestMiddleware, metrics=state.metrics, max_body_bytes=settings.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return JSONResponse({"detail": _readable(errors), "errors": jsonable(errors)}, 422)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, exc.status)

    from app.web.routes import admin, api, ops

    app.include_router(api.router)
    app.include_router(ops.router)
    app.include_router(admin.router)
    install_web(app, settings)
    openapi.document_errors(app)
    openapi.install_docs(app)
    # Faces in chat tools and AI assistants (MCP, Slack, Teams): each only when configured.
    from app import faces

    faces.install(app, settings)

    return app


def install_web(app: FastAPI, settings: Settings) -> None:
    """Pages, the embeddable widget, their static files, CORS for widget hosts and security headers."""
    from app.web import security
    from app.web.routes import pages, widget
    from app.web.html import STATIC_DIR, VersionedStatic

    app.include_router(pages.router)
    app.include_router(widget.router)
    app.mount("/static", VersionedStatic(directory=STATIC_DIR), name="static")
    security.install(app, settings)


def jsonable(errors: list[dict]) -> list[dict]:
    return [{k: _encodable(v if isinstance(v, (str, int, float, list, type(None))) else str(v))
             for k, v in e.items() if k != "ctx"} for e in errors]


def _encodable(value):
    """Echoed input may hold lone surrogates (JSON \\ud800 escapes), which cannot be encoded as UTF-8."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_encodable(v) for v in value]
    if isinstance(value, dict):
        return {_encodable(str(k)): _encodable(v) for k, v in value.items()}
    return value
