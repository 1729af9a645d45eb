"""HTML plumbing for pages and the widget: the Jinja environment and content-hashed static URLs."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.web.security import page_csp

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES_DIR = HERE / "templates"
IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=None)
def asset_hash(name: str) -> str:
    """A short content hash of a static file, computed once per process."""
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR.resolve() not in path.parents or not path.is_file():
        raise FileNotFoundError(f"no static file {name!r} in {STATIC_DIR}")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The versioned URL of a static file: a new hash for new content, so it can be cached forever."""
    return f"/static/{name}?v={asset_hash(name)}"


class VersionedStatic(StaticFiles):
    """Static files; a request that names the current hash may be cached for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            query = scope.get("query_string", b"").decode("latin-1")
            try:
                current = asset_hash(path)
            except FileNotFoundError:
                current = None
            versioned = current is not None and f"v={current}" in query.split("&")
            response.headers["Cache-Control"] = IMMUTABLE if versioned else "no-cache"
        return response


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The page templates' environment: autoescaping on, undefined names are errors."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = static_url
    return env


def render(template: str, context: dict, *, status_code: int = 200, frame_ancestors: str = "'none'",
           headers: dict | None = None) -> Response:
    """Render an HTML template with the pages' strict Content-Security-Policy."""
    html = environment().get_template(template).render(**context)
    response = Response(html, status_code=status_code, media_type="text/html")
    response.headers["Content-Security-Policy"] = page_csp(frame_ancestors)
    response.headers["Cache-Control"] = "no-cache"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
