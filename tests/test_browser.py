"""The faces people see, in a real browser: Debian's Chromium driven by Playwright.

The real service (shipped glossary, fake embedder) runs with uvicorn on one loopback port; the
sample intranet page that embeds the widget is served from another port (another origin) with a
strict CSP of its own, and a third origin plays a site that is not allowed. Every wait is bounded.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.live import CHROMIUM, HostSite, LiveService, host_csp, launch_chromium

pytestmark = pytest.mark.browser


def expect(locator):
    """Playwright's auto-waiting assertions (imported late: without Playwright these tests skip)."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=WAIT)
    return playwright_expect(locator)

SHIPPED = Path(__file__).resolve().parent.parent / "glossary"
WAIT = 15000  # ms, for anything the service has to answer
WIDGET = "glossary-widget"


def _require_browser() -> None:
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (scripts/test-deps installs Debian's chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            problem = "playwright is not installed in .venv (scripts/test-deps installs it)"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run in CI: {problem}")
        pytest.skip(problem)


@pytest.fixture(scope="module")
def sites():
    """The allowed intranet origin and a second origin that is not allowed."""
    allowed, other = HostSite().start(), HostSite().start()
    yield allowed, other
    allowed.stop()
    other.stop()


@pytest.fixture(scope="module")
def service(sites, tmp_path_factory):
    _require_browser()
    from app.config import Settings
    from app.main import create_app
    from tests.fakes import FakeEmbedder

    tmp = tmp_path_factory.mktemp("browser")
    settings = Settings(glossary_dir=SHIPPED, index_dir=tmp / "index", database_url=f"sqlite:///{tmp / 'db.sqlite'}",
                        allowed_origins=sites[0].origin)
    live = LiveService(create_app(settings, embedder=FakeEmbedder())).start(timeout=120)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser(service):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


class Console:
    """Console errors and uncaught exceptions of a page and all its frames."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.warnings: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _message(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} @ {message.location.get('url', '')}")
        elif message.type == "warning":
            self.warnings.append(message.text)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT)
    page = context.new_page()
    page.console = Console(page)
    yield page
    context.close()


def focused(page, frame=None) -> dict:
    """What has keyboard focus (inside the frame's document when given), and whether it shows a focus ring."""
    target = frame or page
    return target.evaluate("""() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {tag: el.tagName.toLowerCase(), id: el.id, cls: el.className, text: (el.textContent || '').trim().slice(0, 80),
                value: el.value || '', slug: el.getAttribute('data-slug') || '', ring: style.outlineStyle !== 'none'
                && parseFloat(style.outlineWidth) >= 2};
    }""")


def tab_to(page, predicate, limit: int = 60, frame=None) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page, frame)
        if predicate(now):
            return now
    raise AssertionError(f"never reached the element by Tab (last focus: {now})")


# ---- The widget on an allowed intranet page


def test_widget_answers_with_linked_definitions_and_opens_one(page, service, sites):
    url = sites[0].add_intranet(service.url, "/news", 'data-audience="procurement" data-title="Ask the glossary"')
    page.goto(url)
    launcher = page.locator(f"{WIDGET} .launcher")
    assert launcher.get_attribute("aria-expanded") == "false"
    launcher.click()
    assert launcher.get_attribute("aria-expanded") == "true"
    frame = page.frame_locator(f"{WIDGET} iframe")
    question = frame.locator("#question")
    question.wait_for()
    assert frame.locator("input[name=audience][value=procurement]").is_checked()
    question.fill("What is an MSA?")
    question.press("Enter")
    answer = frame.locator(".log .answer:not(.answer-pending)").first
    answer.wait_for()
    link = answer.locator(".answer-body a[data-slug='master-services-agreement']").first
    assert link.get_attribute("target") == "_blank"
    link.click()
    card = answer.locator(".term-card")
    card.locator(".card-summary").wait_for()
    assert "for procurement" in card.inner_text().lower()
    full = card.locator("a.card-link")
    assert full.get_attribute("href").endswith("/terms/master-services-agreement")
    assert full.get_attribute("target") == "_blank"
    inner = page.frames[1] if len(page.frames) > 1 else None
    assert inner is not None and focused(page, inner)["tag"] == "h3"
    page.keyboard.press("Escape")  # closes the card, focus back on the link
    expect(card).to_have_count(0)
    assert focused(page, inner)["slug"] == "master-services-agreement"
    page.keyboard.press("Escape")  # closes the panel (a message to the host page), focus back on the launcher
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert page.evaluate("document.activeElement.tagName") == WIDGET.upper()
    assert page.console.errors == []


def test_widget_keeps_its_looks_on_a_hostile_page(page, service, sites):
    url = sites[0].add_intranet(service.url, "/hostile", 'data-accent="#24324a" data-position="bottom-left"',
                                hostile_css=True)
    page.goto(url)
    launcher = page.locator(f"{WIDGET} .launcher")
    style = launcher.evaluate("""b => { const s = getComputedStyle(b); const r = b.getBoundingClientRect();
        return {bg: s.backgroundColor, color: s.color, font: s.fontFamily, radius: s.borderTopLeftRadius, left: r.left}; }""")
    assert style["bg"] == "rgb(36, 50, 74)" and style["color"] == "rgb(255, 255, 255)"
    assert "Comic" not in style["font"] and style["radius"] != "0px" and style["left"] < 100
    launcher.click()
    iframe = page.locator(f"{WIDGET} iframe")
    assert iframe.evaluate("f => getComputedStyle(f).display") == "block"
    page.frame_locator(f"{WIDGET} iframe").locator("#question").wait_for()
    assert page.locator(f"{WIDGET}").evaluate("h => getComputedStyle(h).opacity") == "1"
    assert page.console.errors == []


def test_widget_opens_on_load_without_taking_focus(page, service, sites):
    url = sites[0].add_intranet(service.url, "/open", "data-open")
    page.goto(url)
    page.frame_locator(f"{WIDGET} iframe").locator("#question").wait_for()
    page.wait_for_timeout(300)
    expect(page.locator(f"{WIDGET} .launcher")).to_have_attribute("aria-expanded", "true")
    assert page.evaluate("document.activeElement === document.body")
    assert page.console.errors == []


# ---- Define-on-hover


def test_annotate_marks_terms_in_the_chosen_region_only(page, service, sites):
    url = sites[0].add_intranet(service.url, "/annotated", 'data-annotate="main article"')
    page.goto(url)
    page.wait_for_selector(f"{WIDGET}[data-annotated]", state="attached")
    marks = page.locator("article a.glossary-term")
    texts = marks.all_inner_texts()
    for expected in ("auto-renewal", "MSA", "SOW", "SSO", "purchase order", "PO", "RTO"):
        assert expected in texts, (expected, texts)
    assert len(texts) == len(set(t.lower() for t in texts))  # the first mention of each term only
    assert page.locator("pre a.glossary-term, code a.glossary-term, a a.glossary-term, h1 a.glossary-term").count() == 0
    assert page.locator("article a", has_text="How to raise a purchase order").count() == 1
    assert page.locator("input.search").input_value() == "SOW template"
    assert page.locator(".sidenav a.glossary-term, header a.glossary-term").count() == 0
    assert "it is one click away" in page.locator("article").inner_text()  # lower-case 'it' untouched
    assert not [t for t in texts if t.lower() == "it"]
    po = marks.filter(has_text=re.compile(r"^PO$"))
    assert po.get_attribute("data-glossary-slugs").count(" ") >= 1  # an ambiguous abbreviation keeps every sense

    msa = marks.filter(has_text=re.compile(r"^MSA$"))
    assert msa.get_attribute("href") == f"{service.url}/terms/master-services-agreement"
    assert "Master Services Agreement" in msa.get_attribute("aria-description")
    msa.hover()
    card = page.locator(f"{WIDGET} .card")
    card.wait_for()
    assert "Master Services Agreement" in card.inner_text()
    assert card.locator("a", has_text="Full definition").get_attribute("href").endswith("/terms/master-services-agreement")
    page.mouse.move(5, 5)
    card.wait_for(state="hidden")
    msa.focus()  # keyboard focus shows the same card
    card.wait_for()
    page.keyboard.press("Escape")
    card.wait_for(state="hidden")
    assert page.console.errors == []


def test_annotate_is_bounded_on_a_large_page(page, service, sites):
    paragraph = ("<p>Paragraph {i}: procurement asked for the SOW, the MSA and a purchase order; IT checks SSO, "
                 "SOC 2, the RTO and the auto-renewal date before go-live.</p>")
    body = "\n".join(paragraph.format(i=i) for i in range(6000))
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Big</title></head>'
            f'<body><main>{body}</main><script src="{service.url}/widget.js" data-annotate="main" async></script>'
            "</body></html>")
    url = sites[0].add("/big", html, {"Content-Security-Policy": host_csp(service.url)})
    spot_requests = []
    page.on("request", lambda r: spot_requests.append(r.url) if r.url.endswith("/widget/api/spot") else None)
    start = time.monotonic()
    page.goto(url)
    page.wait_for_selector(f"{WIDGET}[data-annotated]", state="attached", timeout=30000)
    elapsed = time.monotonic() - start
    marks = page.locator("main a.glossary-term").count()
    assert 5 <= marks <= 150 and len(spot_requests) <= 5, (marks, len(spot_requests))
    assert elapsed < 20
    assert page.console.errors == []


# ---- A site that is not allowed


def test_a_site_that_is_not_allowed_gets_a_clear_refusal(page, service, sites):
    url = sites[1].add_intranet(service.url, "/elsewhere", 'data-annotate="main article"')
    page.goto(url)
    page.wait_for_selector(f"{WIDGET}[data-annotated='refused']", state="attached")
    assert page.locator("a.glossary-term").count() == 0
    page.locator(f"{WIDGET} .launcher").click()
    frame = page.frame_locator(f"{WIDGET} iframe")
    frame.locator("text=isn't enabled on this site").wait_for()
    assert sites[1].origin in frame.locator(".refused").inner_text()
    assert frame.locator("#question").count() == 0
    assert any("not in GLOSSARY_ALLOWED_ORIGINS" in w for w in page.console.warnings)
    launcher = page.locator(f"{WIDGET} .launcher")
    page.keyboard.press("Escape")  # focus is in the panel: Escape closes it
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    frame.locator(".panel-close").click()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    # The refusal page is a 403, which Chromium reports; nothing else may go wrong.
    assert [e for e in page.console.errors if "status of 403" not in e or "/widget/frame?" not in e] == []


def test_a_site_that_claims_an_allowed_origin_is_blocked_by_the_browser(page, service, sites):
    claimed = f"{service.url}/widget/frame?origin={sites[0].origin}"
    url = sites[1].add("/liar", f'<!doctype html><title>Liar</title><iframe src="{claimed}"></iframe>')
    page.goto(url)
    page.wait_for_timeout(1000)
    frame = page.frames[1]
    assert frame.url.startswith("chrome-error://") or not frame.evaluate("!!document.querySelector('#question')")


def test_cors_from_the_browser_answers_only_the_allowed_site(page, service, sites):
    fetch = f"""() => fetch('{service.url}/api/terms').then(r => r.ok, () => 'blocked')"""
    page.goto(sites[0].add("/cors", "<!doctype html><title>cors</title>"))
    assert page.evaluate(fetch) is True
    page.goto(sites[1].add("/cors", "<!doctype html><title>cors</title>"))
    assert page.evaluate(fetch) == "blocked"


# ---- The pages


def test_chat_page_works_by_keyboard_alone(page, service):
    page.goto(service.url + "/")
    first = tab_to(page, lambda f: True, limit=1)
    assert first["cls"] == "skip-link" and first["ring"]
    radio = tab_to(page, lambda f: f["tag"] == "input")
    assert radio["value"] == "both"  # Tab enters the radio group at the checked audience
    page.keyboard.press("ArrowLeft")  # arrows choose another one
    assert page.locator("input[name=audience][value=it]").is_checked()
    now = tab_to(page, lambda f: f["id"] == "question")
    assert now["ring"] or page.locator(".composer").evaluate("c => getComputedStyle(c).boxShadow") != "none"
    page.keyboard.type("What is a statement of work?")
    page.keyboard.press("Enter")
    answer = page.locator(".log .answer:not(.answer-pending)").first
    answer.wait_for()
    assert "For IT" in answer.text_content()  # folded under "More" (issue 17), still in the answer
    link = tab_to(page, lambda f: f["slug"] == "statement-of-work")
    assert link["ring"]
    page.keyboard.press("Enter")
    card = answer.locator(".term-card")
    card.locator(".card-summary").wait_for()
    assert focused(page)["tag"] == "h3"
    page.keyboard.press("Escape")
    expect(card).to_have_count(0)
    assert focused(page)["slug"] == "statement-of-work"
    thumb = tab_to(page, lambda f: f["tag"] == "button" and "thumb" in f["cls"])
    assert thumb["ring"]
    page.keyboard.press("Enter")
    expect(answer.locator(".thumb[value=up]")).to_have_attribute("aria-pressed", "true")
    tab_to(page, lambda f: f["tag"] == "textarea" and f["id"] != "question")
    page.keyboard.type("Clear, thanks")
    tab_to(page, lambda f: "send-feedback" in f["cls"])
    page.keyboard.press("Enter")
    answer.locator(".feedback-status", has_text="recorded").wait_for()
    # A follow-up continues the same conversation.
    tab_to(page, lambda f: f["id"] == "question")
    page.keyboard.type("Who signs it?")
    page.keyboard.press("Enter")
    page.locator(".log .answer:not(.answer-pending)").nth(1).wait_for()
    turns = page.locator(".log .answer").evaluate_all("a => a.map(x => x.dataset.turn)")
    assert turns == ["1", "2"]
    assert page.console.errors == []


def test_chat_page_examples_suggestions_and_reload(page, service):
    page.goto(service.url + "/")
    page.locator(".examples button").nth(1).click()
    answer = page.locator(".log .answer:not(.answer-pending)").first
    answer.wait_for()
    assert answer.locator(".badge-intent").inner_text() == "Comparison" and answer.locator("table").count() == 1
    page.locator("#question").fill("What does zorblaxian frobnication mean?")
    page.locator("#question").press("Enter")
    unknown = page.locator(".log .answer:not(.answer-pending)").nth(1)
    unknown.wait_for()
    assert "answer-unknown" in unknown.get_attribute("class")
    page.reload()  # the conversation survives a reload in the same tab
    page.locator(".log .answer").nth(1).wait_for()
    assert page.locator(".intro").is_hidden()
    page.locator(".new-conversation").click()
    expect(page.locator(".log .answer")).to_have_count(0)
    expect(page.locator(".intro")).to_be_visible()
    assert page.console.errors == []


def test_terms_page_filters_as_you_type(page, service):
    page.goto(service.url + "/terms")
    total = page.locator(".term-item").count()
    assert total > 200 and page.locator(".filter-submit").is_hidden()
    page.locator("#filter-q").fill("sow")
    page.locator("[data-count]", has_text="Showing 1 of").wait_for()
    assert page.locator(".term-item:visible .term-item-name").all_inner_texts() == ["Statement of Work"]
    assert "q=sow" in page.url
    page.locator("#filter-q").fill("")
    page.locator("#filter-domain").select_option("it")
    page.locator("[data-count]", has_text="Showing ").wait_for()
    visible = page.locator(".term-item:visible").count()
    assert 0 < visible < total
    page.locator("#filter-domain").select_option("")
    page.locator("#filter-q").fill("statment of wrok")
    page.locator("[data-no-results]").wait_for()
    page.locator("[data-suggest] a", has_text="Statement of Work").wait_for()
    assert page.console.errors == []


def test_term_page_anchors_audience_and_dark_theme(page, service):
    page.emulate_media(color_scheme="dark")
    page.goto(service.url + "/terms/single-sign-on?audience=it#our-rules")
    rules = page.locator("#our-rules")
    assert rules.evaluate("s => s.matches(':target')")
    order = page.locator(".term-section").evaluate_all("s => s.map(x => x.id)")
    assert order.index("for-it") < order.index("for-procurement")
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(14, 17, 22)"
    page.locator(".theme-toggle").click()  # the reader's own choice wins over the system setting
    expect(page.locator("body")).to_have_css("background-color", "rgb(245, 246, 248)")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    assert page.console.errors == []


@pytest.mark.parametrize("path", ["/", "/terms", "/terms/service-level-agreement?audience=procurement"])
def test_pages_fit_a_phone(browser, service, path):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    console = Console(page)
    page.goto(service.url + path)
    if path == "/":
        page.locator("#question").fill("What's the difference between an MSA and a SOW?")
        page.locator("#question").press("Enter")
        page.locator(".log .answer:not(.answer-pending)").first.wait_for(timeout=WAIT)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert console.errors == []
    context.close()
