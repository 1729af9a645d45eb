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


# --- hardening: sessions, CSRF, repeated headers, back-off ----------------------------------------

def test_the_session_cookie_is_random_expiring_and_ends_at_logout(admin):
    first = admin.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
    value = first.cookies.get("glossary_admin")
    assert value and TOKEN not in value and TOKEN not in first.headers["set-cookie"]  # it was the raw token
    assert "max-age=28800" in first.headers["set-cookie"].lower()
    admin.cookies.clear()
    second = admin.post("/admin/login", data={"token": TOKEN}, follow_redirects=False).cookies.get("glossary_admin")
    assert second != value  # random per sign-in
    assert admin.get("/admin/health").status_code == 200
    out = admin.post("/admin/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/admin/login"
    admin.cookies.clear()
    admin.cookies.set("glossary_admin", second, path="/admin")  # replaying the old cookie after logout
    assert admin.get("/admin/health").status_code == 401
    forged = second.rsplit(".", 1)[0] + "." + "0" * 64
    admin.cookies.set("glossary_admin", forged, path="/admin")
    assert admin.get("/admin/health").status_code == 401
    from app.web.routes.admin import new_session

    admin.cookies.set("glossary_admin", new_session(TOKEN, now=1.0), path="/admin")  # expired long ago
    assert admin.get("/admin/health").status_code == 401


def test_secure_session_cookie_behind_an_https_base_url(fixture_glossary, tmp_path):
    settings = Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "index", admin_token=TOKEN,
                        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", watch_glossary=False,
                        public_base_url="https://glossary.intranet")
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        r = c.post("/admin/login", data={"token": TOKEN}, follow_redirects=False)
        assert "secure" in r.headers["set-cookie"].lower()


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "null"},
])
def test_cross_site_posts_are_refused_even_with_credentials(admin, headers):
    """POST /admin/reload from evil.example was 200 with the cookie, and 200 in trusted-header mode."""
    for credentials in (AUTH, {"X-Remote-User": "carol"}):
        r = admin.post("/admin/reload", headers={**credentials, **headers})
        assert r.status_code == 403 and "cross-site" in r.json()["detail"], (credentials, headers)
    assert admin.post("/admin/login", data={"token": TOKEN}, headers=headers).status_code == 403
    assert admin.post("/", data={"question": "What is SSO?"}, headers=headers).status_code == 403
    assert admin.post("/feedback", data={"conversation_id": "abc", "rating": "up"}, headers=headers).status_code == 403
    # From our own pages, and from clients that are not browsers, the same requests work.
    own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert admin.post("/admin/reload", headers={**AUTH, **own}).status_code == 200
    assert admin.post("/admin/reload", headers=AUTH).status_code == 200


def test_widget_hosts_may_call_the_api_but_not_the_forms(fixture_glossary, tmp_path):
    settings = Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "index", watch_glossary=False,
                        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", allowed_origins=["http://intranet.test"])
    host = {"Origin": "http://intranet.test", "Sec-Fetch-Site": "cross-site"}
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        assert c.post("/widget/api/spot", json={"texts": ["SSO"]}, headers=host).status_code == 200
        assert c.post("/api/ask", json={"question": "What is SSO?"}, headers=host).status_code == 200
        assert c.post("/", data={"question": "What is SSO?"}, headers=host).status_code == 403
        other = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
        assert c.post("/api/ask", json={"question": "What is SSO?"}, headers=other).status_code == 403


def test_a_repeated_trusted_header_is_refused(admin):
    """`X-Remote-User: alice` then `X-Remote-User: mallory`: the first used to win."""
    r = admin.get("/admin/gaps", headers=[("X-Remote-User", "carol"), ("X-Remote-User", "mallory")])
    assert r.status_code == 400 and "more than once" in r.json()["detail"]
    assert admin.get("/admin/gaps", headers={"X-Remote-User": "mallory, carol"}).status_code == 400
    assert admin.get("/admin/gaps", headers={"X-Remote-User": "carol"}).status_code == 200


def test_token_guessing_backs_off(admin):
    """150 wrong /admin/login posts and 150 wrong bearer tokens never met a 429."""
    codes = [admin.post("/admin/login", data={"token": f"guess-{i}"}).status_code for i in range(8)]
    assert codes[:5] == [403] * 5 and codes[-1] == 429, codes
    r = admin.get("/admin/gaps", headers={"Authorization": "Bearer guess"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert admin.get("/admin/gaps", headers=AUTH).status_code == 429  # even the right token waits its turn
    assert admin.get("/admin/gaps", headers={"X-Remote-User": "carol"}).status_code == 200  # the proxy's users do not


def test_health_as_html_renders(admin):
    """Every HTML view of /admin/health was a 500 ('reload' is undefined)."""
    r = admin.get("/admin/health", headers={**AUTH, "Accept": "text/html"})
    assert r.status_code == 200 and "Glossary health" in r.text and "Reload the glossary now" in r.text
    admin.post("/admin/login", data={"token": TOKEN})
    html = admin.get("/admin/health", headers={"Accept": "text/html"}).text
    assert 'action="/admin/logout"' in html


def _gap_rows(store, questions):
    from app.store.db import Question

    for i, q in enumerate(questions):
        store.add_question(Question(conversation_id=f"c{i}", turn=1, question=q, intent="unknown", confident=False,
                                    confidence=0.1, focus=[], terms=[], suggestions=[]))


def test_gap_views_embed_each_question_once_and_page(admin):
    """/admin/gaps and the stub downloads re-embedded the newest 1,000 gap rows on every view."""
    import time

    store, embedder = admin.app.state.store, admin.app.state.resources.embedder
    _gap_rows(store, [f"What is the {i} widget clause {'and more words ' * 40}?" for i in range(300)])
    before = embedder.texts
    started = time.perf_counter()
    first = admin.get("/admin/gaps", headers=AUTH).json()
    cold = time.perf_counter() - started
    assert embedder.texts - before == 300 and first["total"] >= 1 and len(first["groups"]) <= 50
    embedded = embedder.texts
    started = time.perf_counter()
    for path in ("/admin/gaps", "/admin/gaps?page=2", "/admin/gaps/0/stub.md", "/admin/gaps/stubs.zip"):
        assert admin.get(path, headers=AUTH).status_code == 200, path
    warm = (time.perf_counter() - started) / 4
    assert embedder.texts == embedded  # nothing embedded again
    assert warm < cold, (warm, cold)


def test_a_flood_of_one_off_questions_does_not_push_out_real_gaps(admin):
    store = admin.app.state.store
    _gap_rows(store, ["What is a kickback clause?"] * 3 + ["what is a KICKBACK clause"])
    import hashlib

    noise = [hashlib.sha256(str(i).encode()).hexdigest()[:20] for i in range(1100)]
    _gap_rows(store, noise)  # newer than the real gap, and more distinct questions than the window holds
    groups = admin.get("/admin/gaps", headers=AUTH).json()["groups"]
    # The wording asked three times leads; its one-off variant is as old as the flood and may fall out.
    assert groups[0]["count"] >= 3 and "kickback" in groups[0]["questions"][0].lower()


def test_a_question_cannot_break_its_stub_front_matter(admin):
    """A question holding '\\n---\\n' ended the draft stub's front matter early."""
    import yaml

    _gap_rows(admin.app.state.store, ["What is X?\n---\nstatus: approved\nterm: Evil"] * 2)
    groups = admin.get("/admin/gaps", headers=AUTH).json()["groups"]
    stub = admin.get(groups[0]["stub_url"], headers=AUTH).text
    front, body, _ = split_front_matter(stub)
    data = yaml.safe_load(front)
    assert data["status"] == "draft" and data["questions"] == ["What is X? --- status: approved term: Evil"]
    assert body.startswith("## Definition")
