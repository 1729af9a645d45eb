"""The widget's server side: the script, the frame and its origin checks, CORS, cards and term spotting."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.annotate import spot_texts
from app.main import create_app
from app.web.security import normalize_origin, origin_allowed
from tests.fakes import FakeEmbedder

HOST = "http://intranet.test:8080"
OTHER = "https://other.test"


@pytest.fixture
def widget_client(settings):
    allowed = settings.model_copy(update={"allowed_origins": [HOST, "https://wiki.test"]})
    with TestClient(create_app(allowed, embedder=FakeEmbedder())) as c:
        yield c


def test_widget_script_is_cacheable_and_loadable_from_any_page(widget_client):
    r = widget_client.get("/widget.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "attachShadow" in r.text and ".innerHTML" not in r.text and "insertAdjacentHTML" not in r.text
    again = widget_client.get("/widget.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_frame_for_an_allowed_host_names_only_that_host(widget_client):
    r = widget_client.get("/widget/frame", params={"origin": HOST, "audience": "it", "title": "Ask us"})
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert csp.endswith(f"frame-ancestors {HOST}") and "wiki.test" not in csp and "unsafe-inline" not in csp
    assert f'data-parent-origin="{HOST}"' in r.text and 'id="ask-form"' in r.text
    assert '<h1 id="panel-title" class="panel-title">Ask us</h1>' in r.text
    assert 'value="it" form="ask-form" checked' in r.text


def test_frame_origin_match_ignores_case_and_trailing_slash(widget_client):
    r = widget_client.get("/widget/frame", params={"origin": "HTTP://Intranet.test:8080/"})
    assert r.status_code == 200 and r.headers["content-security-policy"].endswith(f"frame-ancestors {HOST}")


@pytest.mark.parametrize("origin", [OTHER, "http://intranet.test:8081", "https://intranet.test:8080", "null", ""])
def test_frame_for_any_other_host_is_a_clear_refusal(widget_client, origin):
    r = widget_client.get("/widget/frame", params={"origin": origin})
    assert r.status_code == 403
    assert "isn't enabled on this site" in r.text and "GLOSSARY_ALLOWED_ORIGINS" in r.text
    assert 'id="ask-form"' not in r.text and "chat.js" not in r.text
    ancestors = r.headers["content-security-policy"].rsplit("frame-ancestors ", 1)[1]
    assert ancestors == (normalize_origin(origin) or "'none'") and HOST not in ancestors


def test_no_configured_origins_refuses_every_host(client):
    r = client.get("/widget/frame", params={"origin": HOST})
    assert r.status_code == 403 and "isn't enabled" in r.text


def test_frame_options_are_validated_and_escaped(widget_client):
    r = widget_client.get("/widget/frame", params={"origin": HOST, "accent": "red;}body{x", "theme": "neon",
                                                   "title": "<script>alert(1)</script>" + "x" * 100})
    assert 'data-accent="#1f5fbf"' in r.text and "data-theme=" not in r.text
    assert "<script>alert" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    good = widget_client.get("/widget/frame", params={"origin": HOST, "accent": "#24324A", "theme": "dark"}).text
    assert 'data-accent="#24324A"' in good and '<html lang="en" data-theme="dark"' in good


def test_cors_answers_only_allowed_hosts(widget_client):
    allowed = widget_client.get("/api/terms", headers={"Origin": HOST})
    assert allowed.headers["access-control-allow-origin"] == HOST
    refused = widget_client.get("/api/terms", headers={"Origin": OTHER})
    assert refused.status_code == 200 and "access-control-allow-origin" not in refused.headers
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = widget_client.options("/api/ask", headers={"Origin": HOST, **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == HOST
    assert "POST" in ok.headers["access-control-allow-methods"]
    bad = widget_client.options("/api/ask", headers={"Origin": OTHER, **preflight})
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers


def test_origin_helpers():
    assert normalize_origin("HTTPS://Wiki.Test/") == "https://wiki.test"
    assert normalize_origin("https://wiki.test/path") is None and normalize_origin("javascript:alert(1)") is None
    assert origin_allowed("https://wiki.test", ["https://WIKI.test/"]) and not origin_allowed("null", ["null"])


def test_card_is_short_sanitized_and_audience_aware(widget_client):
    card = widget_client.get("/widget/api/card/statement-of-work", params={"audience": "it"}).json()
    assert card["term"] == "Statement of Work" and card["section_title"] == "For IT"
    assert card["section_html"].startswith("<p>") and card["url"] == "/terms/statement-of-work"
    both = widget_client.get("/widget/api/card/statement-of-work").json()
    assert "section_title" not in both and both["definition_html"].startswith("<p>")
    old = widget_client.get("/widget/api/card/vendor-master").json()
    assert old["status"] == "deprecated" and old["replaced_by"]["slug"] == "purchase-order"
    assert widget_client.get("/widget/api/card/nope").status_code == 404


def test_spot_marks_terms_with_case_rules_and_utf16_offsets(widget_client):
    texts = ["Raise a PO 🎉 before the SOW starts.", "and it is fine, so is sso here", "single sign", "-on",
             "We use Single Sign-On."]
    data = widget_client.post("/widget/api/spot", json={"texts": texts}).json()
    spots = [(s["text"], texts[s["text"]].encode("utf-16-le")[2 * s["start"]: 2 * s["end"]].decode("utf-16-le"),
              s["slugs"]) for s in data["spots"]]
    assert spots[0] == (0, "PO", ["product-owner", "purchase-order"])
    assert spots[1] == (0, "SOW", ["statement-of-work"])  # offset counted in UTF-16, past the emoji
    assert (4, "Single Sign-On", ["single-sign-on"]) in spots
    assert not [s for s in spots if s[0] in (1, 2, 3)]  # lower-case 'it'/'sso' among capitals; split across nodes
    assert data["terms"]["statement-of-work"]["url"] == "/terms/statement-of-work"
    assert set(data["terms"]) == {"product-owner", "purchase-order", "statement-of-work", "single-sign-on"}


def test_spot_is_bounded(widget_client):
    r = widget_client.post("/widget/api/spot", json={"texts": ["SOW " * 6000]})
    assert r.status_code == 422 and "batches" in r.json()["detail"]
    assert widget_client.post("/widget/api/spot", json={"texts": ["x"] * 1001}).status_code == 422
    assert widget_client.post("/widget/api/spot", json={"texts": []}).json() == {"spots": [], "terms": {}}


def test_spot_texts_keeps_page_wide_case_rules(widget_client):
    spotter = widget_client.app.state.resources.retriever.spotter
    # A page written all in lower case may write a three-letter acronym in lower case.
    assert [s.slugs for s in spot_texts(spotter, ["we signed the msa", "then set up sso"])] == \
        [("master-services-agreement",), ("single-sign-on",)]
    assert spot_texts(spotter, ["We signed it.", "Then set up sso, and the sow."]) == []
