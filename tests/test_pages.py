"""The HTML pages through create_app: security headers, no inline code, term pages, A–Z, chat without JS."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from app.web import views
from app.main import create_app
from tests.fakes import FakeEmbedder

PAGES = ["/", "/terms", "/terms/purchase-order", "/terms/vendor-master?audience=it", "/terms/no-such-term"]


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each element id'd or classed for lookups."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.tags if "id" in a]


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_a_strict_policy_and_hardening_headers(client, path):
    r = client.get(path)
    assert r.status_code in (200, 404) and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert csp.endswith("frame-ancestors 'none'")
    assert "require-trusted-types-for 'script'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script_style_or_handlers(client, path):
    html = client.get(path).text
    tags = parse(html).tags
    scripts = [a for t, a in tags if t == "script"]
    assert scripts and all(re.fullmatch(r"/static/js/[\w.-]+\.js\?v=[0-9a-f]{12}", a.get("src", "")) for a in scripts)
    assert not any(t == "style" for t, _ in tags)
    assert not [(t, a) for t, a in tags if "style" in a or any(k.startswith("on") for k in a)]


def test_static_files_are_versioned_and_cached_for_a_year(client):
    html = client.get("/").text
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert {u.split("?")[0] for u in urls} >= {"/static/css/site.css", "/static/js/chat.js", "/static/js/theme.js"}
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers["x-content-type-options"] == "nosniff"
    stale = client.get("/static/css/site.css?v=000000000000")
    assert stale.status_code == 200 and stale.headers["cache-control"] == "no-cache"
    assert client.get("/static/../app/config.py").status_code == 404


def test_json_and_docs_keep_their_own_policies(client):
    api = client.get("/api/terms")
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert api.headers["x-content-type-options"] == "nosniff"
    assert client.get("/docs").headers["content-security-policy"] == "frame-ancestors 'none'"


def test_term_page_sections_have_stable_anchors_in_the_askers_order(client):
    html = client.get("/terms/purchase-order").text
    ids = parse(html).ids()
    order = [i for i in ids if i in ("definition", "for-procurement", "for-it", "our-rules", "example")]
    assert order == ["definition", "for-procurement", "for-it", "our-rules", "example"]
    it_first = parse(client.get("/terms/purchase-order?audience=it").text).ids()
    assert it_first.index("for-it") < it_first.index("for-procurement") < it_first.index("our-rules")
    assert 'href="#our-rules"' in html and "related" in ids and "details" in ids


def test_term_page_shows_everything_about_the_term(client):
    html = client.get("/terms/purchase-order?audience=it").text
    assert "<h1 id=\"term-title\">Purchase Order</h1>" in html
    assert 'class="alias">PO<' in html and "purchase order number" in html
    assert "badge-approved" in html and "Procurement</span>" in html
    assert '<time datetime="2026-10-01">1 October 2026</time>' in html
    assert '<ul class="owners"><li>Procurement' in html  # owners
    assert 'href="/terms/statement-of-work?audience=it"' in html  # related, keeping the reader's audience
    assert "for you</span>" in html
    assert "Orders from €5,000 need three quotes" in html  # our rules, org numbers rendered


def test_term_page_links_other_terms_once_but_not_itself(client):
    html = client.get("/terms/master-services-agreement").text
    main = html.split('id="definition"', 1)[1].split('id="related"', 1)[0]
    assert main.count('href="/terms/master-services-agreement"') == 0
    assert main.count('href="/terms/statement-of-work"') <= 1


def test_term_page_never_links_inside_an_email_address():
    class Recorder:
        def __init__(self):
            self.texts = []

        def autolink(self, markdown, priority=3):
            self.texts.append(markdown)
            return markdown.replace("security review", "[security review](/terms/x)")

    linker = Recorder()
    out = views.autolink_prose(linker, "Ask security-review@example.com for a security review, see https://x.test/security-review.")
    assert "security-review@example.com" in out and "https://x.test/security-review." in out
    assert out.count("[security review](/terms/x)") == 1


def test_deprecated_term_names_its_replacement(client):
    html = client.get("/terms/vendor-master").text
    assert "badge-deprecated" in html and "<strong>Deprecated.</strong>" in html
    assert re.search(r'Use <a href="/terms/purchase-order">Purchase Order</a> instead', html)


def test_draft_term_says_it_is_not_reviewed(client):
    assert "has not been reviewed by the curators yet" in client.get("/terms/tail-spend").text


def test_unknown_term_is_a_helpful_404(client):
    r = client.get("/terms/statment-of-wrok")
    assert r.status_code == 404
    assert "No term called “statment-of-wrok”" in r.text and 'href="/terms/statement-of-work"' in r.text


def test_glossary_text_cannot_inject_markup(fixture_glossary, settings):
    path = fixture_glossary / "terms" / "tail-spend.md"
    text = path.read_text()
    text = re.sub(r"^summary: .*$", 'summary: "Tail <script>alert(1)</script> spend"', text, count=1, flags=re.M)
    text = text.replace("## Definition\n", '## Definition\n<img src=x onerror="alert(2)"> [x](javascript:alert(3))\n', 1)
    path.write_text(text)
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        html = c.get("/terms/tail-spend").text
        listing = c.get("/terms").text
        card = c.get("/widget/api/card/tail-spend").json()
    assert "<script>alert" not in html and "Tail &lt;script&gt;alert(1)&lt;/script&gt; spend" in html
    assert "<img" not in html and "&lt;img src=x" in html and 'href="javascript:' not in html
    assert "<script>alert" not in listing
    assert "<img" not in card["definition_html"] and 'href="javascript:' not in card["definition_html"]


def test_terms_page_lists_everything_a_to_z(client):
    html = client.get("/terms").text
    items = [a for t, a in parse(html).tags if t == "li" and "data-search" in a]
    assert len(items) == 7 and not any("hidden" in a for a in items)
    assert "Showing all 7 terms" in html
    assert 'href="#letter-M"' in html and 'data-letter="B"' in html


def test_terms_page_filters_without_javascript(client):
    items = lambda html: {a["data-search"].split()[0]: "hidden" not in a  # noqa: E731
                          for t, a in parse(html).tags if t == "li" and "data-search" in a}
    by_domain = items(client.get("/terms", params={"domain": "it"}).text)
    assert {k for k, shown in by_domain.items() if shown} == {"product", "single"}
    by_status = items(client.get("/terms", params={"status": "deprecated"}).text)
    assert {k for k, shown in by_status.items() if shown} == {"vendor"}
    by_words = client.get("/terms", params={"q": "SOW"}).text
    assert {k for k, shown in items(by_words).items() if shown} == {"statement"} and "Showing 1 of 7 terms" in by_words


def test_terms_page_with_no_match_suggests_and_offers_to_ask(client):
    html = client.get("/terms", params={"q": "statment of wrok"}).text
    assert "No term matches" in html and 'href="/terms/statement-of-work"' in html
    assert 'href="/?q=statment%20of%20wrok"' in html


def test_chat_page_offers_examples_audience_and_a_form(client):
    html = client.get("/?audience=it").text
    tags = parse(html).tags
    assert ("form", {"id": "ask-form", "class": "ask", "method": "post", "action": "/"}) in tags
    radios = {a["value"]: "checked" in a for t, a in tags if t == "input" and a.get("name") == "audience"}
    assert radios == {"procurement": False, "it": True, "both": False}
    examples = [a["value"] for t, a in tags if t == "button" and a.get("name") == "example"]
    assert examples == views.EXAMPLES
    assert '<template id="answer-template">' in html


def test_chat_works_without_javascript_with_follow_ups(client):
    r = client.post("/", data={"question": "What is a statement of work?", "audience": "it"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    html = r.text
    assert 'href="/terms/statement-of-work"' in html and "badge-intent\">Definition<" in html
    conversation = re.search(r'name="conversation_id" value="([^"]+)"', html).group(1)
    assert re.search(r'name="turn" value="1"', html)
    assert '<input type="hidden" name="earlier" value="What is a statement of work?">' in html
    follow = client.post("/", data={"question": "Who approves it?", "audience": "it", "conversation_id": conversation,
                                    "earlier": "What is a statement of work?"}).text
    assert re.search(r'name="turn" value="2"', follow) and f'value="{conversation}"' in follow
    assert 'class="turn turn-question turn-earlier"><p class="bubble">What is a statement of work?</p>' in follow


def test_chat_example_button_asks_that_question(client):
    html = client.post("/", data={"example": "What is an MSA?", "question": ""}).text
    assert "<p class=\"bubble\">What is an MSA?</p>" in html and 'href="/terms/master-services-agreement"' in html


def test_chat_without_javascript_reports_bad_input(client):
    r = client.post("/", data={"question": "   "})
    assert r.status_code == 422 and 'role="alert">question must not be empty<' in r.text
    r = client.post("/", data={"question": "What is an MSA?", "conversation_id": "x" * 80})
    assert r.status_code == 422 and "can&#39;t be continued" in r.text


def test_chat_escapes_what_the_user_typed(client):
    html = client.post("/", data={"question": '<img src=x onerror="alert(1)"> what is SSO?'}).text
    assert "<img src=x" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; what is SSO?" in html


def test_feedback_without_javascript(client):
    asked = client.post("/", data={"question": "What is an MSA?"}).text
    conversation = re.search(r'name="conversation_id" value="([^"]+)"', asked).group(1)
    r = client.post("/feedback", data={"conversation_id": conversation, "turn": "1", "rating": "down",
                                       "comment": "Needs the Legal threshold"})
    assert r.status_code == 200 and "your feedback was recorded" in r.text
    bad = client.post("/feedback", data={"conversation_id": conversation, "rating": "sideways"})
    assert bad.status_code == 422 and "incomplete" in bad.text


def test_example_questions_get_the_right_answers(shipped_client):
    expected = ["soc-2", "master-services-agreement", "three-quote-rule", "auto-renewal", "data-processing-agreement"]
    for question, slug in zip(views.EXAMPLES, expected, strict=True):
        data = shipped_client.post("/api/ask", json={"question": question}).json()
        assert data["confident"] and data["intent"] != "unknown", question
        assert data["terms"][0]["slug"] == slug, question


def _slowest(client, path: str, times: int = 3) -> float:
    import time

    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        assert client.get(path).status_code in (200, 404)
        best = min(best, time.perf_counter() - started)
    return best


def test_a_huge_word_in_a_definition_costs_about_as_much_as_its_size(fixture_glossary, settings):
    """Autolinking used a regex that rescanned a long word from every position: 40,000 characters took
    2.6-3.0 s a view (5 ms normally). Now the hostile page costs a small multiple of a normal one."""
    path = fixture_glossary / "terms" / "tail-spend.md"
    text = path.read_text()
    path.write_text(text.replace("## Definition\n", "## Definition\n" + "a" * 40000 + " SSO\n", 1))
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        normal = _slowest(c, "/terms/purchase-order")
        hostile = _slowest(c, "/terms/tail-spend")
    assert hostile < 40 * normal + 0.05, (hostile, normal)


def test_autolinking_leaves_link_titles_and_destinations_alone(fixture_glossary, settings):
    path = fixture_glossary / "terms" / "tail-spend.md"
    text = path.read_text()
    path.write_text(text.replace("## Definition\n", '## Definition\nSee [the guide](https://x.test/sso "Reset your SSO '
                                                    'password") first.\n', 1))
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        html = c.get("/terms/tail-spend").text
    assert 'title="Reset your SSO password"' in html


def test_docs_load_nothing_from_other_hosts(client):
    html = client.get("/docs").text
    assert "cdn.jsdelivr.net" not in html and "unpkg" not in html  # swagger-ui came from a CDN without SRI
    scripts = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert scripts and all(src.startswith("/") for src in scripts), scripts
    for src in scripts:
        assert client.get(src).status_code == 200, src


def test_redirects_never_point_at_the_host_a_client_named(client):
    r = client.get("/terms/", headers={"Host": "evil.example"}, follow_redirects=False)
    assert r.status_code in (301, 302, 307, 308) and r.headers["location"] == "/terms", r.headers.get("location")


def test_access_log_keeps_only_the_start_of_a_long_path(client, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="glossary.access"):
        client.get("/terms/" + "x" * 60000)
    paths = [r.path for r in caplog.records if r.name == "glossary.access"]
    assert paths and len(paths[-1]) <= 301 and caplog.records[-1].path_chars == 60007


def test_a_conversation_on_the_pages_belongs_to_the_browser_that_started_it(client, settings):
    """A cross-site POST / with someone else's conversation_id continued their conversation."""
    first = client.post("/", data={"question": "What is a statement of work?"})
    cookie = first.headers["set-cookie"].lower()
    assert "glossary_conversation=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    conversation = re.search(r'name="conversation_id" value="([^"]+)"', first.text).group(1)
    own = client.post("/", data={"question": "Who signs it?", "conversation_id": conversation})
    assert f'value="{conversation}"' in own.text  # the browser that started it continues it
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as stranger:  # another browser, same id
        other = stranger.post("/", data={"question": "And what was I asking about?", "conversation_id": conversation})
        assert other.status_code == 200 and f'value="{conversation}"' not in other.text  # a new conversation
        refused = stranger.post("/feedback", data={"conversation_id": conversation, "turn": "1", "rating": "down"})
        assert refused.status_code == 404
        # A JSON API client with the id it was given continues without any cookie.
        api = stranger.post("/api/ask", json={"question": "What is an MSA?", "conversation_id": conversation})
        assert api.json()["conversation_id"] == conversation and api.json()["turn"] == 3


def test_feedback_only_for_a_turn_that_was_answered(client):
    """Feedback for a conversation that does not exist was accepted (201)."""
    r = client.post("/api/feedback", json={"conversation_id": "no-such-conversation", "rating": "up"})
    assert r.status_code == 404 and "no conversation" in r.json()["detail"]
    asked = client.post("/api/ask", json={"question": "What is SSO?"}).json()
    late = client.post("/api/feedback", json={"conversation_id": asked["conversation_id"], "turn": 2, "rating": "up"})
    assert late.status_code == 404 and "no turn 2" in late.json()["detail"]
    ok = client.post("/api/feedback", json={"conversation_id": asked["conversation_id"], "turn": 1, "rating": "up"})
    assert ok.status_code == 201


def test_term_sections_are_rendered_once_per_load_for_each_order(client):
    resources = client.app.state.resources
    term = resources.glossary.terms["single-sign-on"]
    first = views.term_page(resources, term, None).sections
    again = views.term_page(resources, term, "procurement").sections  # the same order of sections
    for_it = views.term_page(resources, term, "it").sections
    assert [s.key for s in first][:3] == ["definition", "procurement", "it"]
    assert all(a is b for a, b in zip(first, again)) and len(first) == len(again)
    assert [s.key for s in for_it][:3] == ["definition", "it", "procurement"]
    card = views.term_card(resources, term, "it")
    card["summary"] = "changed by one caller"
    assert views.term_card(resources, term, "it")["summary"] == term.summary
