"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz() -> dict:
    """Alive: the process answers."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request):
    """Ready when the glossary and index are loaded (answers need nothing else; the database is reported)."""
    resources = getattr(request.app.state, "resources", None)
    if resources is None:
        return JSONResponse({"status": "loading"}, 503)
    store = getattr(request.app.state, "store", None)
    try:
        database = "ok" if store is not None and store.ping() else "none"
    except Exception:
        database = "unavailable"
    return {"status": "ready", "terms": len(resources.glossary), "database": database, "index": resources.index.manifest}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
