"""The app factory: create_app(settings) loads everything once in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app import openapi, ratelimit
from app.answer.conversation import StoredConversations
from app.config import Settings
from app.observability import Metrics, RequestMiddleware
from app.reload import Reloader
from app.resources import load_resources, new_conversations
from app.search.embedder import Embedder

log = logging.getLogger("glossary")


def _readable(errors: list[dict]) -> str:
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None, store=None) -> FastAPI:
    """Build the service; the glossary, embedder and index are loaded once, at start."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.resources = load_resources(settings, embedder=embedder)
        app.state.metrics.index_loaded(app.state.resources.index.manifest)
        app.state.store = store if store is not None else open_store(settings)
        app.state.conversations = StoredConversations(app.state.store, app.state.memory_conversations,
                                                      settings.conversation_ttl_seconds, log)
        app.state.reloader = Reloader(app.state, settings)
        watcher = asyncio.create_task(app.state.reloader.watch()) if settings.watch_glossary else None
        yield
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if app.state.store is not None:
            app.state.store.dispose()

    app = FastAPI(title="Glossary assistant", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Linked definitions of IT and procurement terms, with the company's rules.")
    app.state.settings = settings
    app.state.memory_conversations = new_conversations(settings)
    app.state.conversations = app.state.memory_conversations
    app.state.metrics = Metrics()
    # Added first so it runs inside RequestMiddleware: a 429 is still timed, counted and logged.
    ratelimit.install(app, settings)
    app.add_middleware(RequestMiddleware, metrics=app.state.metrics, max_body_bytes=settings.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _readable(exc.errors()), "errors": jsonable(exc.errors())}, 422)

    from app.routes import admin, api, ops

    app.include_router(api.router)
    app.include_router(ops.router)
    app.include_router(admin.router)
    install_web(app, settings)
    openapi.document_errors(app)
    openapi.install_docs(app)

    return app


def install_web(app: FastAPI, settings: Settings) -> None:
    """Pages, the embeddable widget, their static files, CORS for widget hosts and security headers."""
    from app import security
    from app.routes import pages, widget
    from app.web import STATIC_DIR, VersionedStatic

    app.include_router(pages.router)
    app.include_router(widget.router)
    app.mount("/static", VersionedStatic(directory=STATIC_DIR), name="static")
    security.install(app, settings)


def open_store(settings: Settings):
    """Open the database; if it cannot be reached yet, serve anyway (the store retries on use)."""
    from app.store import Store

    store = Store(settings.database_url)
    try:
        store.purge_question_text(settings.question_retention_days)
    except Exception:
        log.warning("could not apply the question retention period now; will retry", exc_info=True)
    return store


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
