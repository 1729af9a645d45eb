"""The OpenAPI schema says what the service really answers, errors included.

FastAPI documents a 422 as `{"detail": [ValidationError]}`, but this service answers every error
with a readable `{"detail": "…"}` (a 422 adds the raw `errors`). This replaces that schema and
adds the other error statuses each operation can give: 400 (a body that is not JSON or UTF-8),
404 (unknown path parameter), 413 (body over GLOSSARY_MAX_BODY_BYTES), 429 (rate limit, with
Retry-After), 503 (still loading, or the feedback store is down), 401/403 for the curator views.
tests/test_schemathesis.py holds the service to it.
"""

from __future__ import annotations

from fastapi import FastAPI

from app.web.ratelimit import LIMITED

ERROR = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in words."},
        "errors": {"type": "array", "items": {"type": "object"}, "description": "422 only: each invalid field."},
    },
}
REF = {"$ref": "#/components/schemas/Error"}
DESCRIPTIONS = {
    "400": "Request cannot be parsed (or a curator header was sent twice)",
    "401": "Curator sign-in required",
    "403": "Wrong credentials, or the curator views are disabled",
    "404": "Not found",
    "413": "Request body too large",
    "422": "Invalid input",
    "429": "Too many requests from this client",
    "503": "Not available right now (still loading, or storage is down)",
}


def _error(status: str) -> dict:
    response = {"description": DESCRIPTIONS[status], "content": {"application/json": {"schema": REF}}}
    if status == "429":
        response["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
    return response


def document_errors(app: FastAPI) -> None:
    """Wrap app.openapi so the generated schema documents the service's error responses."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Error"] = ERROR
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                statuses = set()
                if operation.get("parameters") or operation.get("requestBody"):
                    statuses.add("422")
                if "{" in path:
                    statuses.add("404")
                if operation.get("requestBody"):
                    statuses |= {"400", "413"}  # a body that is not JSON / UTF-8; one over the size limit
                if (method.upper(), path) in LIMITED:
                    statuses.add("429")
                if path != "/healthz":
                    statuses.add("503")
                if path.startswith("/admin"):
                    statuses |= {"400", "401", "403", "429"}  # a repeated user header; sign-in back-off
                if path == "/api/feedback":
                    statuses.add("404")  # no such conversation or turn
                responses = operation.setdefault("responses", {})
                for status in sorted(statuses):
                    responses[status] = _error(status)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


DOCS_ASSETS = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    """Serve the interactive API docs at /docs from the installed swagger-ui-bundle, not a CDN.

    FastAPI's default page loads swagger-ui from jsDelivr without Subresource Integrity, so
    whoever serves that file runs script on our origin; the files now come from this service.
    """
    from fastapi.openapi.docs import get_swagger_ui_html
    from starlette.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} · API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")
