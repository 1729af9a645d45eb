"""Take the README's screenshots from the real running service, in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py            # the bundled model, as `glossary serve` runs
    .venv/bin/python scripts/screenshots.py --fast     # the test embedder: quicker, answers may differ

Writes docs/screenshots/*.png: the chat page (desktop: a can-I answer and a definition; a pasted
e-mail with the type-ahead open; dark on a 360 px phone with a stacked comparison), a term page, the
A–Z list, and the widget on a sample intranet page (tests/browser_pages/intranet.html) with
define-on-hover marks, served from a second loopback origin.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live import HostSite, LiveService, launch_chromium  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
TIMEOUT = 30000
EMAIL = ("Hi, thanks for the call. To confirm the renewal of your Enterprise plan: the agreement auto-renews for "
         "another 12 months unless you give 120 days' notice before the end of the term, and the renewal price "
         "includes a 9% uplift. Your data will be hosted in our Singapore region. SSO is included in the "
         "Enterprise tier. Our payment terms are net 30. Before go-live we need your signed DPA. Best, Dana")


def build_service(fast: bool, tmp: Path, host_origin: str) -> LiveService:
    from app.config import Settings
    from app.main import create_app

    overrides = {"allowed_origins": host_origin, "database_url": f"sqlite:///{tmp / 'screenshots.db'}"}
    embedder = None
    if fast:
        from tests.fakes import FakeEmbedder

        embedder = FakeEmbedder()
        overrides["index_dir"] = tmp / "index"
    settings = Settings(**overrides)
    return LiveService(create_app(settings, embedder=embedder)).start(timeout=600)


def ask(page, question: str) -> None:
    page.fill("#question", question)
    count = page.locator(".log .answer:not(.answer-pending)").count()
    page.locator("#question").press("Enter")
    page.locator(".log .answer:not(.answer-pending)").nth(count).wait_for(timeout=TIMEOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="use the deterministic test embedder")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        site = HostSite().start()
        service = build_service(args.fast, tmp, site.origin)
        intranet = site.add_intranet(service.url, widget_attrs='data-audience="procurement" data-annotate="main article" '
                                                              'data-accent="#24324a" data-title="Ask the glossary"')
        try:
            with sync_playwright() as p:
                browser = launch_chromium(p)

                page = browser.new_page(viewport={"width": 1280, "height": 1500})
                page.goto(service.url + "/?audience=procurement")
                ask(page, "can I put a $400 tool on my card?")
                ask(page, "What does SOC 2 mean for us?")
                page.locator(".log .answer").nth(1).locator(".answer-body a[data-slug]").nth(1).click()
                page.locator(".term-card .card-summary").wait_for(timeout=TIMEOUT)
                page.evaluate("window.scrollTo(0, 0)")
                page.mouse.move(0, 0)
                page.screenshot(path=OUT / "chat.png")
                page.close()

                page = browser.new_page(viewport={"width": 1280, "height": 1250})
                page.goto(service.url + "/?audience=procurement")
                ask(page, EMAIL)
                page.locator("#question").fill("what is single si")
                page.locator("#ask-suggest [role=option]").first.wait_for(timeout=TIMEOUT)
                page.keyboard.press("ArrowDown")
                page.screenshot(path=OUT / "chat-explain.png")
                page.close()

                phone = browser.new_page(viewport={"width": 360, "height": 740}, color_scheme="dark",
                                         is_mobile=True, has_touch=True)
                phone.goto(service.url + "/?audience=it")
                ask(phone, "What's the difference between an MSA and a SOW?")
                phone.locator(".log .turn-question").first.evaluate("q => q.scrollIntoView({block: 'start'})")
                phone.screenshot(path=OUT / "chat-phone-dark.png")
                phone.close()

                page = browser.new_page(viewport={"width": 1280, "height": 1400})
                page.goto(service.url + "/terms/single-sign-on?audience=procurement")
                page.screenshot(path=OUT / "term.png", full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1750})
                page.goto(service.url + "/terms?domain=procurement")
                page.fill("#filter-q", "contract")
                page.wait_for_timeout(300)
                page.screenshot(path=OUT / "terms.png", clip={"x": 0, "y": 0, "width": 1280, "height": 1000})
                page.close()

                page = browser.new_page(viewport={"width": 1280, "height": 860})
                page.goto(intranet)
                page.wait_for_selector("glossary-widget[data-annotated]", state="attached", timeout=TIMEOUT)
                page.locator("glossary-widget .launcher").click()
                frame = page.frame_locator("glossary-widget iframe")
                frame.locator("#question").fill("Do I need three quotes for a $12,000 purchase?")
                frame.locator("#question").press("Enter")
                frame.locator(".log .answer:not(.answer-pending)").first.wait_for(timeout=TIMEOUT)
                frame.locator(".panel-body").evaluate("body => body.scrollTo(0, 0)")
                page.locator("main article a.glossary-term", has_text="CRM").hover()
                page.locator("glossary-widget .card").wait_for(timeout=TIMEOUT)
                page.screenshot(path=OUT / "widget.png")
                page.close()
                browser.close()
        finally:
            service.stop()
            site.stop()
    for path in sorted(OUT.glob("*.png")):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
