"""The JSON API through create_app and its lifespan, on the fixture glossary with the fake embedder."""

from __future__ import annotations


def test_search_shape_and_acronym(client):
    r = client.get("/api/search", params={"q": "SOW", "limit": 3})
    assert r.status_code == 200
    data = r.json()
    assert data["query"] == "SOW"
    top = data["results"][0]
    assert top["slug"] == "statement-of-work"
    assert set(top) >= {"slug", "term", "aliases", "domain", "summary", "url", "score"}
    assert top["url"] == "/terms/statement-of-work"
    assert len(data["results"]) <= 3


def test_search_spelling_slip(client):
    assert client.get("/api/search", params={"q": "statment of wrok"}).json()["results"][0]["slug"] == "statement-of-work"


def test_search_validation(client):
    assert client.get("/api/search").status_code == 422
    assert client.get("/api/search", params={"q": "x", "limit": 500}).status_code == 422
    r = client.get("/api/search", params={"q": "x" * 5000})
    assert r.status_code == 422 and "longer than" in r.json()["detail"]


def test_terms_list_and_detail(client):
    data = client.get("/api/terms").json()
    assert data["count"] == 7 == len(data["terms"])
    assert [t["term"] for t in data["terms"]] == sorted((t["term"] for t in data["terms"]), key=str.lower)
    assert all("status" in t for t in data["terms"])
    po = client.get("/api/terms/purchase-order").json()
    assert po["term"] == "Purchase Order" and po["status"] == "approved"
    assert po["sections"]["rules"].startswith("Orders from €5,000 need three quotes")
    assert po["related"][0] == {"slug": "statement-of-work", "term": "Statement of Work", "url": "/terms/statement-of-work"}
    assert po["reviewed"] == "2026-10-01" and po["owners"] == ["Procurement"]
    assert po["definition_markdown"].startswith("A purchase order is")
    old = client.get("/api/terms/vendor-master").json()
    assert old["status"] == "deprecated" and old["replaced_by"]["slug"] == "purchase-order"


def test_unknown_term_404(client):
    r = client.get("/api/terms/nope")
    assert r.status_code == 404 and r.json() == {"detail": "no term with slug 'nope'"}


def test_ask_define(client):
    r = client.post("/api/ask", json={"question": "What is a statement of work?", "audience": "it"})
    assert r.status_code == 200
    data = r.json()
    assert data["intent"] == "define" and data["confident"] is True
    assert data["terms"][0]["slug"] == "statement-of-work"
    assert "[Statement of Work](/terms/statement-of-work)" in data["answer_markdown"]
    assert "**For IT:**" in data["answer_markdown"] and "**For procurement:**" not in data["answer_markdown"]
    assert '<a href="/terms/statement-of-work"' in data["answer_html"]
    assert data["conversation_id"] and data["turn"] == 1


def test_ask_validation(client):
    assert client.post("/api/ask", json={"question": "   "}).status_code == 422
    r = client.post("/api/ask", json={"question": "x" * 4001})
    assert r.status_code == 422 and "longer than 4000" in r.json()["detail"]
    r = client.post("/api/ask", json={"question": "hi", "audience": "finance"})
    assert r.status_code == 422 and "audience" in r.json()["detail"]
    r = client.post("/api/ask", json={})
    assert r.status_code == 422 and "question: Field required" in r.json()["detail"]


def test_body_too_large(client):
    r = client.post("/api/ask", content=b'{"question": "' + b"a" * 70000 + b'"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]


def test_public_base_url_makes_absolute_links(settings):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.fakes import FakeEmbedder

    settings.public_base_url = "https://glossary.example/"
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        hit = c.get("/api/search", params={"q": "SSO"}).json()["results"][0]
        assert hit["url"] == "https://glossary.example/terms/single-sign-on"


def test_health_and_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["terms"] == 7


def test_feedback_is_validated_and_stored(client):
    answer = client.post("/api/ask", json={"question": "What is SSO?"}).json()
    r = client.post("/api/feedback", json={"conversation_id": answer["conversation_id"], "turn": 1, "rating": "down",
                                           "comment": "  Too long  "})
    assert r.status_code == 201 and r.json()["status"] == "recorded"
    rows = client.app.state.store.feedback()
    assert [(f.conversation_id, f.turn, f.rating, f.comment) for f, _ in rows] == [(answer["conversation_id"], 1, "down", "Too long")]
    assert rows[0][1].question == "What is SSO?" and rows[0][1].terms[0] == "single-sign-on"
    bad = client.post("/api/feedback", json={"conversation_id": "x", "rating": "meh"})
    assert bad.status_code == 422 and "rating" in bad.json()["detail"]
    long = client.post("/api/feedback", json={"conversation_id": "x", "rating": "up", "comment": "x" * 2001})
    assert long.status_code == 422


def test_streamed_body_over_limit_is_413(client):
    def chunks():
        for _ in range(40):
            yield b"x" * 4096

    r = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_request_id_and_metrics(client):
    r = client.get("/api/search", params={"q": "SSO"}, headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert len(client.get("/healthz").headers["x-request-id"]) == 16
    client.post("/api/ask", json={"question": "What is SSO?"})
    client.post("/api/ask", json={"question": "Where is the nearest bicycle shop?"})
    text = client.get("/metrics").text
    assert 'glossary_http_requests_total{method="GET",route="/api/search",status="200"} 1.0' in text
    assert 'glossary_answers_total{confident="true",intent="define"} 1.0' in text
    assert "glossary_unanswered_total 1.0" in text
    assert "glossary_index_terms 7.0" in text
    assert 'glossary_http_request_seconds_bucket{le="0.005",route="/api/ask"}' in text
