"""Answers people can use at a glance: the point first, our rule, detail under "More"; chips and hand-offs."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.answer import point
from app.main import create_app
from app.render import more_marker, to_html
from tests.fakes import FakeEmbedder

CARD_RULES = ("A single card purchase may not exceed $2,500, and each card is limited to $10,000 a month; splitting "
              "a purchase to stay under the limit is a policy breach. Software may be paid by card only if approved.")
QUOTE_RULES = "Below $10,000 one written quote is enough; from $10,000, three written quotes are required."


@pytest.mark.parametrize("question, rules, expected", [
    ("can I put a $400 tool on my card?", CARD_RULES, "**Yes**, as far as the amount goes — $400 is within the $2,500"),
    ("Can I buy a $3k laptop on the card?", CARD_RULES, "**No** — $3,000 is above the $2,500 limit"),
    ("Do I need three quotes for a $12,000 purchase?", QUOTE_RULES, "**Yes** — $12,000 is at or above the $10,000"),
    ("Do I need three quotes for a $4,000 purchase?", QUOTE_RULES, "**No** — $4,000 is below the $10,000"),
    ("Can I pay for it by card?", CARD_RULES, "**It depends** on the amount — a single card purchase may not exceed $2,500"),
])
def test_a_can_i_question_gets_a_verdict_from_the_rules_numbers(question, rules, expected):
    assert point.verdict(question, rules).startswith(expected)


def test_other_questions_get_no_verdict_and_what_is_leads_with_the_summary():
    assert point.verdict("What is a purchasing card?", CARD_RULES) is None
    assert point.direct_answer("Summary.", "For you. More.", "What is a P-card?") == "Summary."
    assert point.direct_answer("Summary.", "For you. More.", "What does SOC 2 mean for us?") == "For you."
    assert point.direct_answer("Summary.", "", "What does SOC 2 mean for us?") == "Summary."


def test_numbers_in_a_pasted_text_are_checked_against_our_bounds():
    rules = "Every contract has an owner. We accept notice periods of at most 90 days and increases of at most 5%."
    text = "The plan auto-renews unless you give 120 days' notice, with a 9% uplift."
    notes = [n for n, _ in point.conflicts(text, text.index("auto-renews"), rules)]
    assert notes == ["the text says 120 days; we accept at most 90 days", "the text says 9%; we accept at most 5%"]
    within = "The plan auto-renews unless you give 60 days' notice, with a 3% uplift."
    assert point.conflicts(within, within.index("auto-renews"), rules) == []
    net = "Payment terms are net 30."
    assert [n for n, _ in point.conflicts(net, 0, "Our standard terms are net 60 days from a correct invoice.")] == [
        "the text says 30 days; our rule says 60 days"]


def test_the_more_marker_folds_the_rest_into_details_and_escapes_its_label():
    html = to_html("**Point.**\n" + more_marker("More about <img src=x onerror=alert(1)> -->") + "\n\nDetail.\n")
    assert html.startswith("<p><strong>Point.</strong></p>")
    assert '<details class="answer-more"><summary>More about &lt;img src=x onerror=alert(1)' in html
    assert "<img" not in html and "<p>Detail.</p>\n</div></details>" in html
    assert "<details" not in to_html("No marker here.")


def test_define_answer_puts_the_point_and_rule_before_more(client):
    data = client.post("/api/ask", json={"question": "What is a SOW?", "audience": "procurement"}).json()
    md = data["answer_markdown"]
    head, _, rest = md.partition("<!-- more: More about Statement of Work -->")
    assert rest, md
    assert head.startswith("**[Statement of Work](/terms/statement-of-work)** — The document that describes")
    assert "**Our rules:**" in head and "**For procurement:**" in rest and "*Example:*" in rest
    assert '<details class="answer-more"><summary>More about Statement of Work</summary>' in data["answer_html"]


def test_answers_link_each_term_once_and_skip_everyday_words(shipped_client):
    data = shipped_client.post("/api/ask", json={"question": "What does SOC 2 mean for us?",
                                                 "audience": "procurement"}).json()
    links = re.findall(r"\]\((/terms/[^)]+)\)", data["answer_markdown"])
    assert len(links) == len(set(links)) and len(links) <= 12, links
    autolinked = re.findall(r"\[([^\]]+)\]\(/terms/", data["answer_markdown"].split("Related:")[0])
    assert not [w for w in autolinked if re.fullmatch(r"[a-z]+", w)], autolinked


def test_followups_name_their_terms_and_refusals_hand_off_to_a_person(client):
    data = client.post("/api/ask", json={"question": "What is a SOW?", "audience": "procurement"}).json()
    assert 2 <= len(data["followups"]) <= 3 and "handoff" not in data
    assert all("?" in q for q in data["followups"])
    assert any("Master Services Agreement" in q for q in data["followups"])
    unknown = client.post("/api/ask", json={"question": "What does zorblaxian frobnication mean?"}).json()
    assert unknown["intent"] == "unknown" and unknown["followups"] == []
    assert unknown["handoff"]["label"] == "Procurement" and unknown["handoff"]["email"] == "buy@testco.example"
    assert unknown["handoff"]["url"].startswith("mailto:buy@testco.example?subject=Glossary%20question%3A%20What")
    it = client.post("/api/ask", json={"question": "What does zorblaxian frobnication mean?", "audience": "it"}).json()
    assert it["handoff"]["email"] == "help@testco.example"


def test_a_long_paste_is_refused_with_a_count(client):
    r = client.post("/api/ask", json={"question": "x" * 4812})
    assert r.status_code == 422 and "(4,812 of 4,000 characters)" in r.json()["detail"]
    page = client.post("/", data={"question": "y" * 4812})
    assert page.status_code == 422 and "4,812 of 4,000 characters" in page.text
    assert 'maxlength="4000"' not in page.text and 'data-max-chars="4000"' in page.text


def test_the_page_shows_chips_and_a_person_without_javascript(client):
    html = client.post("/", data={"question": "What does zorblaxian frobnication mean?"}).text
    assert 'class="handoff-link" href="mailto:buy@testco.example?subject=' in html
    html = client.post("/", data={"question": "What is a SOW?"}).text
    assert re.search(r'name="example" value="[^"]*Master Services Agreement[^"]*" formnovalidate class="chip chip-followup"', html)
    assert '<details class="answer-more">' in html


def test_the_chat_continues_a_conversation_handed_over_by_the_widget(client):
    first = client.post("/api/ask", json={"question": "What is a SOW?"}).json()
    html = client.get("/", params={"conversation": first["conversation_id"]}).text
    assert "Continuing your conversation" in html
    assert f'name="conversation_id" value="{first["conversation_id"]}"' in html
    assert '<p class="bubble">What is a SOW?</p>' in html
    unknown = client.get("/", params={"conversation": "not-a-known-id"}).text
    assert "Continuing your conversation" not in unknown
    assert client.get("/", params={"conversation": "../x"}).status_code == 422


def test_term_page_shows_owners_with_contacts_policy_link_and_suggest_edit(client):
    html = client.get("/terms/purchase-order").text
    assert '<li>Procurement <a class="owner-contact" href="mailto:buy@testco.example">buy@testco.example</a></li>' in html
    assert '<a href="https://intranet.testco.example/buying" rel="noopener noreferrer">Testco buying policy</a>' in html
    assert ('href="mailto:buy@testco.example?subject=Suggested%20edit%3A%20Purchase%20Order%20%28glossary/terms/'
            'purchase-order.md%29"') in html


@pytest.mark.parametrize("template, expected", [
    ("https://git.example/glossary/-/edit/main/{path}", 'href="https://git.example/glossary/-/edit/main/glossary/terms/purchase-order.md"'),
    ("mailto:curators@testco.example", 'href="mailto:curators@testco.example?subject=Suggested%20edit%3A%20Purchase'),
    ("javascript:alert(1)//{slug}", None),
])
def test_suggest_edit_follows_the_setting(settings, template, expected):
    settings = settings.model_copy(update={"suggest_edit_url": template})
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        html = c.get("/terms/purchase-order").text
    if expected:
        assert expected in html
    else:
        assert "Suggest an edit" not in html and "javascript:" not in html
