"""The robustness gate (marked `model`): the shipped glossary with the three public glossaries of
../shared/external imported, as a company bringing its own would, must answer as well as the shipped one."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.evaluate import EXTERNAL_FILES, evaluate, glossary_with_external, load_questions
from app.main import create_app
from tests.conftest import SHARED, SHIPPED_GLOSSARY

pytestmark = pytest.mark.model

DEV_SET = SHARED / "eval" / "dev_questions.jsonl"
ANSWERABILITY_SET = SHARED / "eval" / "dev_answerability.jsonl"
EXTERNAL = SHARED / "external"
needs_shared = pytest.mark.skipif(
    not DEV_SET.exists() or not all((EXTERNAL / name).exists() for name, _ in EXTERNAL_FILES),
    reason="../shared/eval or ../shared/external is not beside the repository")


@pytest.fixture(scope="session")
def external_client(real_embedder, tmp_path_factory):
    """The shipped glossary plus the external glossaries imported, with the real model."""
    tmp = tmp_path_factory.mktemp("external")
    glossary_dir = glossary_with_external(SHIPPED_GLOSSARY, EXTERNAL, tmp / "glossary")
    settings = Settings(glossary_dir=glossary_dir, index_dir=tmp / "index", database_url=f"sqlite:///{tmp / 'db.sqlite'}",
                        watch_glossary=False, rate_limit_per_minute=0)
    with TestClient(create_app(settings, embedder=real_embedder)) as c:
        yield c


@needs_shared
def test_importing_external_glossaries_keeps_the_dev_scores(model_client, external_client):
    """In-scope drops at most 1 point overall and 3 points in any kind; every out-of-scope item is still refused."""
    items = load_questions(DEV_SET)
    shipped, imported = evaluate(model_client, items), evaluate(external_client, items)
    assert len(external_client.get("/api/terms").json()["terms"]) > 1000
    detail = f"shipped:\n{shipped.text()}\n\nwith external:\n{imported.text()}"
    assert imported.in_scope() >= shipped.in_scope() - 0.01, detail
    before, after = shipped.by_kind(), imported.by_kind()
    for kind, (ok, total) in before.items():
        if kind != "out_of_scope":
            assert after[kind][0] / total >= ok / total - 0.03, f"{kind}\n{detail}"
    assert after["out_of_scope"][0] == after["out_of_scope"][1], detail


@needs_shared
@pytest.mark.skipif(not ANSWERABILITY_SET.exists(), reason="dev_answerability.jsonl is missing")
@pytest.mark.parametrize("which", ["model_client", "external_client"])
def test_answerability_targets(which, request):
    """>= 0.95 of the out-of-scope questions refused, >= 0.95 of the look-alikes answered."""
    client = request.getfixturevalue(which)
    report = evaluate(client, load_questions(ANSWERABILITY_SET))
    kinds = report.by_kind()
    refused, answered = kinds["out_of_scope"], kinds["lookalike"]
    assert refused[0] / refused[1] >= 0.95, report.text()
    assert answered[0] / answered[1] >= 0.95, report.text()
