"""The app factory: create_app(settings) loads everything once in the lifespan."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.config import Settings
from app.observability import Metrics, RequestMiddleware
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
        if store is not None:
            app.state.store = store
        else:
            from app.store import Store

            app.state.store = Store(settings.database_url)
        yield
        app.state.store.dispose()

    app = FastAPI(title="Glossary assistant", version="0.1.0", lifespan=lifespan,
                  description="Linked definitions of IT and procurement terms, with the company's rules.")
    app.state.settings = settings
    app.state.conversations = new_conversations(settings)
    app.state.metrics = Metrics()
    app.add_middleware(RequestMiddleware, metrics=app.state.metrics, max_body_bytes=settings.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _readable(exc.errors()), "errors": jsonable(exc.errors())}, 422)

    from app.routes import api, ops

    app.include_router(api.router)
    app.include_router(ops.router)

    return app


def jsonable(errors: list[dict]) -> list[dict]:
    return [{k: (v if isinstance(v, (str, int, float, list, type(None))) else str(v)) for k, v in e.items() if k != "ctx"}
            for e in errors]
