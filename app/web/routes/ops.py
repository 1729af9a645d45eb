"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.web.deps import StateDep

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz() -> dict:
    """Alive: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(state: StateDep) -> Response | dict:
    """Ready when the glossary and index are loaded (answers need nothing else; the database is reported)."""
    resources, store = state.resources, state.store
    if resources is None:
        return JSONResponse({"status": "loading"}, 503)
    try:
        database = "ok" if store is not None and store.ping() else "none"
    except Exception:
        database = "unavailable"
    return {"status": "ready", "terms": len(resources.glossary), "database": database, "index": resources.index.manifest}


@router.get("/metrics", include_in_schema=False)
def metrics(state: StateDep) -> Response:
    """Prometheus text format."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
