"""Property-based API testing: schemathesis generates requests from the service's own OpenAPI schema.

Every operation gets schema-valid (positive) and schema-violating (negative) requests, sent
in-process to the real app (fixture glossary, fake embedder). No response may be a 5xx, every status
must be documented, and every body must match the documented schema. Examples are bounded and
derandomized: the whole file runs in well under a minute and the same way every time.

Not checked: `positive_data_acceptance`. Some schema-valid input is refused on purpose, by rules
that depend on settings rather than on the schema (a question that is empty once stripped, or
longer than GLOSSARY_MAX_QUESTION_CHARS; a conversation past GLOSSARY_MAX_TURNS); those are 422s
tested in tests/test_limits.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance, negative_data_rejection, response_headers_conformance, response_schema_conformance,
    status_code_conformance,
)
from schemathesis.checks import not_a_server_error

from app.config import Settings
from app.main import create_app
from tests.conftest import FIXTURE_GLOSSARY
from tests.fakes import FakeEmbedder

TOKEN = "schemathesis-admin-token"
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
               response_headers_conformance]
# The curator views answer with Markdown files and zip archives their schema does not describe yet;
# for them only "never a server error" is checked.
LENIENT = [not_a_server_error]
EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 20}


def _settings(tmp: Path) -> Settings:
    return Settings(glossary_dir=tmp / "glossary", index_dir=tmp / "index", database_url=f"sqlite:///{tmp / 'db.sqlite'}",
                    watch_glossary=False, rate_limit_per_minute=0, admin_token=TOKEN)


# Operations are listed at collection time from a schema built without starting the app; those
# without parameters or body have no invalid input to generate.
_PATHS = create_app(_settings(Path("/nonexistent"))).openapi()["paths"]
CASES = [pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode.value}")
         for path, operations in _PATHS.items() for method, operation in operations.items()
         for mode in GenerationMode
         if mode is GenerationMode.POSITIVE or operation.get("parameters") or operation.get("requestBody")]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schemathesis")
    shutil.copytree(FIXTURE_GLOSSARY, tmp / "glossary")
    app = create_app(_settings(tmp), embedder=FakeEmbedder())
    with TestClient(app, raise_server_exceptions=False) as client:
        # Something for the curator views and feedback to show.
        asked = client.post("/api/ask", json={"question": "What is the flux capacitor?"}).json()
        client.post("/api/feedback", json={"conversation_id": asked["conversation_id"], "rating": "down"})
        yield client, schemathesis.openapi.from_dict(app.openapi())


def send(client: TestClient, case):
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    headers = dict(kwargs.get("headers") or {})
    if case.path.startswith("/admin"):
        headers["Authorization"] = f"Bearer {TOKEN}"
    request = {"method": kwargs["method"], "url": kwargs["url"], "params": kwargs.get("params") or None,
               "headers": headers}
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        request["content"] = data if isinstance(data, (bytes, str)) else str(data)
    if kwargs.get("cookies"):
        client.cookies.clear()
        client.cookies.update(kwargs["cookies"])
    try:
        return client.request(**request)
    finally:
        client.cookies.clear()


@pytest.mark.parametrize("method, path, mode", CASES)
def test_api_matches_its_schema(service, method, path, mode):
    client, schema = service
    operation = schema[path][method]
    checks = LENIENT if path.startswith("/admin") else CONFORMANCE
    if mode is GenerationMode.NEGATIVE:
        checks = checks + [negative_data_rejection]

    @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        response = send(client, case)
        case.validate_response(response, checks=checks)

    try:
        check()
    except Unsatisfiable:
        pytest.skip("no schema-violating request can be generated for this operation")


def test_every_error_status_is_documented_with_the_readable_shape(service):
    _, schema = service
    raw = schema.raw_schema
    assert raw["components"]["schemas"]["Error"]["required"] == ["detail"]
    assert "HTTPValidationError" not in raw["components"]["schemas"]
    ask = raw["paths"]["/api/ask"]["post"]["responses"]
    assert {"200", "413", "422", "429", "503"} <= set(ask)
    assert "Retry-After" in ask["429"]["headers"]
    assert "404" in raw["paths"]["/api/terms/{slug}"]["get"]["responses"]
    assert "429" not in raw["paths"]["/api/terms"]["get"]["responses"]
