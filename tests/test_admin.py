"""Curator views: locked without credentials, gaps grouped and exportable, feedback, health."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.glossary.loader import split_front_matter
from app.main import create_app
from tests.fakes import FakeEmbedder

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def admin(fixture_glossary, tmp_path):
    settings = Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "index", admin_token=TOKEN,
                        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", watch_glossary=False,
                        admin_trusted_header="X-Remote-User", admin_users=["carol"])
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize("path", ["/admin/gaps", "/admin/feedback", "/admin/health", "/admin/gaps/stubs.zip"])
def test_everything_under_admin_refuses_without_credentials(admin, path):
    assert admin.get(path).status_code == 401
    assert admin.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert admin.get(path, headers={"X-Remote-User": "mallory"}).status_code == 401
    assert admin.post("/admin/reload").status_code == 401
    assert admin.get(path, headers=AUTH).status_code == 200
    assert admin.get(path, headers={"X-Remote-User": "carol"}).status_code == 200


def test_disabled_without_configuration(client):
    r = client.get("/admin/gaps")
    assert r.status_code == 403 and "GLOSSARY_ADMIN_TOKEN" in r.json()["detail"]


def test_gaps_grouped_and_exported_as_stubs(admin):
    for q in ["What is a kickback clause?", "what is a kickback clause", "Where do I park my bicycle?",
              "What is a kickback clause in a contract?"]:
        assert admin.post("/api/ask", json={"question": q}).json()["confident"] is False
    groups = admin.get("/admin/gaps", headers=AUTH).json()["groups"]
    assert groups[0]["count"] == 3 and "kickback" in groups[0]["questions"][0].lower()
    assert sum(g["count"] for g in groups) == 4
    stub = admin.get(groups[0]["stub_url"], headers=AUTH)
    assert stub.status_code == 200 and stub.headers["content-type"].startswith("text/markdown")
    front, body, _ = split_front_matter(stub.text)
    assert "status: draft" in front and "## Definition" in body and "kickback" in front.lower()
    html = admin.get("/admin/gaps", headers={**AUTH, "Accept": "text/html"})
    assert "Gaps" in html.text and "Content-Security-Policy" in html.headers


def test_feedback_view_shows_question_terms_and_comment(admin):
    answer = admin.post("/api/ask", json={"question": "What is a statement of work?"}).json()
    admin.post("/api/feedback", json={"conversation_id": answer["conversation_id"], "turn": 1, "rating": "down",
                                      "comment": "<script>alert(1)</script> too long"})
    admin.post("/api/feedback", json={"conversation_id": answer["conversation_id"], "rating": "up"})
    items = admin.get("/admin/feedback", headers=AUTH).json()["feedback"]
    assert len(items) == 1 and items[0]["question"] == "What is a statement of work?"
    assert items[0]["terms"][0]["slug"] == "statement-of-work"
    html = admin.get("/admin/feedback", headers={**AUTH, "Accept": "text/html"}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; too long" in html and "<script>alert(1)" not in html


def test_health_lists_stale_and_never_linked_and_most_asked(admin):
    admin.post("/api/ask", json={"question": "What is SSO?"})
    admin.post("/api/ask", json={"question": "single sign-on please"})
    data = admin.get("/admin/health", headers=AUTH).json()
    assert data["most_asked"][0] == {"slug": "single-sign-on", "term": "Single Sign-On", "count": 2}
    assert any(t["slug"] == "vendor-master" for t in data["stale"])  # reviewed 2025-01-15
    assert "tail-spend" in {t["slug"] for t in data["never_linked"]}
    assert data["problems"] == [] and data["terms"] == 7


def test_browser_sign_in_sets_a_strict_cookie(admin):
    bad = admin.post("/admin/login", data={"token": "nope"})
    assert bad.status_code == 403
    ok = admin.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
    assert admin.get("/admin/health").status_code == 200  # the cookie now signs requests in


def test_curator_views_say_when_the_database_is_down(fixture_glossary, tmp_path):
    settings = Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "index", admin_token=TOKEN,
                        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", watch_glossary=False)
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        for path in ("/admin/gaps", "/admin/feedback", "/admin/health"):
            r = c.get(path, headers=AUTH)
            assert r.status_code == 503 and "database is unavailable" in r.json()["detail"], path
        ready = c.get("/readyz").json()
        assert ready["status"] == "ready" and ready["database"] == "unavailable"
