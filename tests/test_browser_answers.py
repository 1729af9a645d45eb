"""Issue 17 in a real browser: the point first, chips and hand-offs, the ask box, the widget on desktop, phone and touch.

Same set-up as tests/test_browser.py (Debian's Chromium, the real service with the shipped glossary and
the fake embedder, a host page on another origin); its fixtures are reused.
"""

from __future__ import annotations

import re

import pytest

from tests.test_browser import (  # noqa: F401  (pytest fixtures, used by name)
    WAIT, WIDGET, Console, browser, expect, focused, page, service, sites,
)

pytestmark = pytest.mark.browser

ANSWER = ".log .answer:not(.answer-pending)"


def ask(page_or_frame, question: str, index: int) -> object:
    box = page_or_frame.locator("#question")
    box.fill(question)
    box.press("Enter")
    answer = page_or_frame.locator(ANSWER).nth(index)
    answer.wait_for()
    return answer


def test_the_point_comes_first_and_the_detail_is_folded(page, service):
    page.goto(service.url + "/?audience=procurement")
    answer = ask(page, "can I put a $400 tool on my purchasing card?", 0)
    first = answer.locator(".answer-body > p").first.inner_text()
    assert first.startswith("Yes") and "$2,500" in first
    # Then what our rules mean for this case ($400, on a card), then the term's rule, then the folded detail.
    paragraphs = answer.locator(".answer-body > p").all_inner_texts()
    assert paragraphs[1].startswith("For your case ($400")
    assert any(p.startswith("Our rules:") for p in paragraphs[2:]), paragraphs
    more = answer.locator("details.answer-more")
    expect(more).to_have_count(1)
    assert more.evaluate("d => d.open") is False
    assert not answer.get_by_text("For procurement:").is_visible()
    more.locator("summary").click()
    expect(answer.get_by_text("For procurement:")).to_be_visible()
    # Links in running text are light; the answer's subject stays bold.
    weights = answer.locator(".answer-body a").evaluate_all(
        "links => links.map(a => [a.closest('strong') !== null, parseInt(getComputedStyle(a).fontWeight)])")
    assert all(w >= 700 for bold, w in weights if bold) and all(w < 600 for bold, w in weights if not bold), weights
    assert page.console.errors == []


def test_follow_up_chips_ask_in_the_same_conversation(page, service):
    page.goto(service.url + "/?audience=procurement")
    answer = ask(page, "What does SOC 2 mean for us?", 0)
    chips = answer.locator(".followups .chip")
    assert 2 <= chips.count() <= 3
    text = chips.first.inner_text()
    chips.first.click()
    page.locator(ANSWER).nth(1).wait_for()
    assert page.locator(".turn-question .bubble").nth(1).inner_text() == text
    assert page.locator(".log .answer").evaluate_all("a => a.map(x => x.dataset.turn)") == ["1", "2"]
    assert page.console.errors == []


def test_copy_answer_and_copy_link_and_the_link_asks_again(browser, service):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.url)
    page = context.new_page()
    console = Console(page)
    page.goto(service.url + "/?audience=procurement")
    answer = ask(page, "What is an SLA?", 0)
    answer.locator(".copy-answer").click()
    answer.locator(".copy-status", has_text="Answer copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Q: What is an SLA?\n\n") and "Service Level Agreement" in copied
    assert "Our rules:" in copied and "For procurement:" in copied  # the folded detail is copied too
    answer.locator(".copy-link").click()
    answer.locator(".copy-status", has_text="Link copied").wait_for()
    link = page.evaluate("navigator.clipboard.readText()")
    assert re.match(re.escape(service.url) + r"/\?q=What\+is\+an\+SLA%3F&ask=1&audience=procurement$", link), link
    other = context.new_page()
    other.goto(link)
    other.locator(ANSWER).first.wait_for()
    assert other.locator(".turn-question .bubble").inner_text() == "What is an SLA?"
    assert "ask=1" not in other.url  # asked once: a reload does not ask again
    assert console.errors == []
    context.close()


def test_a_refusal_offers_a_person_to_ask(page, service):
    page.goto(service.url + "/?audience=it")
    answer = ask(page, "What does zorblaxian frobnication mean?", 0)
    person = answer.locator(".handoff")
    expect(person).to_be_visible()
    assert "IT service desk" in person.inner_text() and "servicedesk@northwind.example" in person.inner_text()
    assert person.locator("a").get_attribute("href").startswith("mailto:servicedesk@northwind.example?subject=")
    assert page.console.errors == []


def test_type_ahead_is_a_keyboard_combobox_and_slash_focuses_the_box(page, service):
    page.goto(service.url + "/")
    box = page.locator("#question")
    page.locator("h1").click()
    page.keyboard.press("/")
    assert focused(page)["id"] == "question"
    page.keyboard.type("what is single si")
    listbox = page.locator("#ask-suggest")
    expect(listbox).to_be_visible()
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "true"
    options = listbox.locator("[role=option]")
    assert "Single Sign-On" in options.all_inner_texts()[0]
    page.keyboard.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert active and listbox.locator(f"#{active}").get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")  # picks the term, does not ask
    assert box.input_value() == "what is Single Sign-On "
    expect(listbox).to_be_hidden()
    assert page.locator(".log .turn").count() == 0
    page.keyboard.type("vs software ass")
    expect(listbox).to_be_visible()
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    assert box.get_attribute("aria-expanded") == "false"
    assert page.console.errors == []


def test_a_long_paste_is_refused_with_a_count_not_cut(page, service):
    page.goto(service.url + "/")
    box = page.locator("#question")
    box.fill("The vendor wants an MSA. " * 200 + "x" * 12)  # 5,012 characters
    assert len(box.input_value()) == 5012  # nothing cut
    count = page.locator("#ask-count")
    expect(count).to_contain_text("5,012 of 4,000 characters")
    assert box.get_attribute("aria-invalid") == "true"
    box.press("Enter")
    page.wait_for_timeout(300)
    assert page.locator(".log .turn").count() == 0
    box.fill("What is an MSA?")
    expect(count).to_have_text("")
    assert page.console.errors == []


def test_a_long_paste_without_javascript_shows_the_servers_count(browser, service):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(service.url + "/")
    page.locator("#question").fill("y" * 4812)
    page.locator(".send").click()
    page.locator(".error").wait_for()
    assert "4,812 of 4,000 characters" in page.locator(".error").inner_text()
    assert len(page.locator("#question").input_value()) == 4812
    context.close()


def test_votes_are_remembered_for_the_session_and_send_is_not_covered(page, service):
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(service.url + "/")
    ask(page, "What is a statement of work?", 0)
    answer = ask(page, "What is an MSA?", 1)
    answer.locator(".thumb[value=up]").click()
    send = answer.locator(".send-feedback")
    expect(send).to_be_visible()
    page.wait_for_timeout(400)
    send_box = send.bounding_box()
    ask_top = page.locator("#ask-form").bounding_box()["y"]
    assert send_box["y"] + send_box["height"] <= ask_top + 1, (send_box, ask_top)
    send.click()
    answer.locator(".feedback-status", has_text="recorded").wait_for()
    page.reload()
    again = page.locator(".log .answer").nth(1)
    again.wait_for()
    expect(again.locator(".thumb[value=up]")).to_have_attribute("aria-pressed", "true")
    assert again.locator(".thumb[value=up]").is_disabled()
    assert "recorded" in again.locator(".feedback-status").inner_text()
    assert page.console.errors == []


def test_each_new_question_is_scrolled_to_the_top(page, service):
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(service.url + "/")
    for i, q in enumerate(["What is an MSA?", "What is a SOW?", "What is SSO?"]):
        ask(page, q, i)
    question = page.locator(".turn-question").nth(2)
    top, previous = None, float("nan")
    for _ in range(20):  # until scrolling has settled (a smooth scroll may still be running on a busy machine)
        page.wait_for_timeout(250)
        top = question.evaluate("q => q.getBoundingClientRect().top")
        if top == previous:
            break
        previous = top
    assert -20 <= top <= 60, top  # at the top of the viewport, not near the bottom
    assert page.console.errors == []


def test_on_a_phone_compare_stacks_and_the_ask_box_is_compact(browser, service):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  color_scheme="dark")
    page = context.new_page()
    console = Console(page)
    page.goto(service.url + "/")
    form = page.locator("#ask-form").bounding_box()
    assert form["height"] <= 740 / 7, form
    answer = ask(page, "What's the difference between an MSA and a SOW?", 0)
    assert answer.locator("table").is_hidden()
    stack = answer.locator(".compare-stack")
    expect(stack).to_be_visible()
    assert stack.locator(".compare-term").count() >= 2
    assert "Master Services Agreement" in stack.locator(".compare-term-title").first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(14, 17, 22)"
    assert console.errors == []
    context.close()


def test_term_page_shows_owner_contacts_policy_link_and_suggest_edit(page, service):
    page.goto(service.url + "/terms/purchasing-card")
    owners = " / ".join(page.locator(".owners li").all_inner_texts())
    assert "Procurement\nprocurement@northwind.example" in owners and "Finance\nfinance@northwind.example" in owners
    assert page.locator("#references a", has_text="Northwind Procurement Policy (PP-01)").get_attribute(
        "href") == "https://intranet.northwind.example/policies/pp-01"
    edit = page.locator(".suggest-edit a")
    assert edit.get_attribute("href").startswith("mailto:finance@northwind.example?subject=Suggested%20edit")  # first owner
    assert page.console.errors == []


# ---- The widget


def open_widget(page, service, sites, path, attrs='data-audience="procurement"'):
    page.goto(sites[0].add_intranet(service.url, path, attrs))
    page.locator(f"{WIDGET} .launcher").click()
    frame = page.frame_locator(f"{WIDGET} iframe")
    frame.locator("#question").wait_for()
    return frame


def test_widget_card_is_not_covered_by_the_ask_box_and_compare_stacks(page, service, sites):
    frame = open_widget(page, service, sites, "/w-layout")
    ask(frame, "What is an MSA?", 0)
    answer = ask(frame, "What's the difference between an MSA and a SOW?", 1)
    expect(answer.locator(".compare-stack")).to_be_visible()  # the 390 px panel is narrower than 600 px
    first = frame.locator(ANSWER).first
    first.locator(".answer-body a[data-slug]").first.click()
    card = first.locator(".term-card")
    card.locator(".card-summary").wait_for()
    page.wait_for_timeout(600)
    heading = card.locator("h3").bounding_box()
    ask_top = frame.locator("#ask-form").bounding_box()["y"]
    assert heading["y"] + heading["height"] <= ask_top, (heading, ask_top)
    assert page.console.errors == []


def test_widget_open_full_glossary_carries_the_conversation(page, service, sites):
    frame = open_widget(page, service, sites, "/w-handoff")
    ask(frame, "What is a purchase order?", 0)
    link = frame.locator(".panel-open")
    expect(link).to_have_attribute("href", re.compile(r"^/\?conversation=[A-Za-z0-9_-]+&audience=procurement$"))
    with page.context.expect_page() as new_page:
        link.click()
    full = new_page.value
    full.wait_for_load_state()
    assert "Continuing your conversation" in full.locator(".continued").inner_text()
    assert full.locator(".turn-question .bubble").first.inner_text() == "What is a purchase order?"
    ask(full, "Who approves it?", 0)
    assert full.locator(".log .answer").last.get_attribute("data-turn") == "2"
    full.close()
    assert page.console.errors == []


def test_hover_card_honours_data_audience(page, service, sites):
    page.goto(sites[0].add_intranet(service.url, "/w-audience", 'data-audience="procurement" data-annotate="main article"'))
    page.wait_for_selector(f"{WIDGET}[data-annotated]", state="attached")
    po = page.locator("article a.glossary-term").filter(has_text=re.compile(r"^PO$"))
    assert po.get_attribute("data-glossary-slugs").split()[0] == "purchase-order"
    assert po.get_attribute("href") == f"{service.url}/terms/purchase-order"
    msa = page.locator("article a.glossary-term").filter(has_text=re.compile(r"^MSA$"))
    msa.hover()
    card = page.locator(f"{WIDGET} .card")
    card.wait_for()
    assert "For procurement:" in card.inner_text()
    assert page.console.errors == []


def test_widget_marks_keyboard_reaches_the_card_and_escape_returns(page, service, sites):
    page.goto(sites[0].add_intranet(service.url, "/w-keys", 'data-audience="procurement" data-annotate="main article"'))
    page.wait_for_selector(f"{WIDGET}[data-annotated]", state="attached")
    msa = page.locator("article a.glossary-term").filter(has_text=re.compile(r"^MSA$"))
    msa.focus()
    card = page.locator(f"{WIDGET} .card")
    card.wait_for()
    assert card.get_attribute("role") == "dialog"
    inside = "() => { const a = document.querySelector('glossary-widget').shadowRoot.activeElement; return a ? a.textContent : null; }"
    page.keyboard.press("Tab")
    assert page.evaluate(inside) == "Full definition ↗"
    page.keyboard.press("Tab")
    assert page.evaluate(inside) == "Ask about it"
    page.keyboard.press("Escape")
    card.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.textContent") == "MSA"
    page.keyboard.press("Tab")  # the card stays closed: Tab goes on through the page
    assert page.evaluate("document.activeElement.textContent") != "MSA"
    assert page.console.errors == []


def test_widget_marks_on_touch_first_tap_shows_second_follows(browser, service, sites):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    console = Console(page)
    page.goto(sites[0].add_intranet(service.url, "/w-touch", 'data-annotate="main article"'))
    page.wait_for_selector(f"{WIDGET}[data-annotated]", state="attached")
    sow = page.locator("article a.glossary-term").filter(has_text=re.compile(r"^SOW$"))
    sow.tap()
    card = page.locator(f"{WIDGET} .card")
    card.wait_for()
    assert "Statement of Work" in card.inner_text() and len(context.pages) == 1
    with context.expect_page() as opened:
        sow.tap()
    assert opened.value.url.endswith("/terms/statement-of-work")
    assert console.errors == []
    context.close()


def test_which_one_offers_choice_chips_that_continue_the_conversation(page, service, sites):
    page.goto(service.url + "/")
    answer = ask(page, "What is a PO?", 0)
    chips = answer.locator(".choices .chip-choice")
    expect(chips).to_have_count(2)
    assert sorted(chips.all_inner_texts()) == ["Product Owner", "Purchase Order"]
    assert answer.locator(".followups").is_hidden()  # the choices are offered once
    answer.locator(".choices .chip-choice", has_text="Purchase Order").click()
    second = page.locator(ANSWER).nth(1)
    second.wait_for()
    assert page.locator(".turn-question .bubble").nth(1).inner_text() == "Purchase Order"
    assert second.get_attribute("data-turn") == "2"
    assert second.locator(".answer-body strong a").first.get_attribute("href") == "/terms/purchase-order"
    # A reload keeps the choices (the turns are kept for the session).
    page.reload()
    expect(page.locator(".log .answer").first.locator(".choices .chip-choice")).to_have_count(2)
    # In the widget too: "the software one" after the chips answers the IT sense.
    frame = open_widget(page, service, sites, "/w-choices", attrs="")
    answer = ask(frame, "What is a PO?", 0)
    expect(answer.locator(".choices .chip-choice")).to_have_count(2)
    second = ask(frame, "the software one", 1)
    assert second.locator(".answer-body strong a").first.get_attribute("href") == "/terms/product-owner"
    assert page.console.errors == []
