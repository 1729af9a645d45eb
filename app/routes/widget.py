"""The embeddable widget: the one-tag script, its chat frame, and the JSON it needs (cards, spots).

The frame only renders for a host origin listed in GLOSSARY_ALLOWED_ORIGINS and then sends
`frame-ancestors <that origin>`, so the browser itself refuses any other embedder; other hosts
get a plain refusal page instead of a broken panel.
"""

from __future__ import annotations

import hashlib
import re

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from app import views
from app.annotate import spot_texts
from app.answer.point import first_sentences
from app.glossary.model import SECTION_TITLES
from app.deps import ResourcesDep, SettingsDep
from app.routes.api import link
from app.schemas import SpotOut, SpotRequest, SpotResponse, SpotTerm, TermCard
from app.security import normalize_origin, origin_allowed
from app.web import STATIC_DIR, render

router = APIRouter(tags=["widget"])

MAX_SPOT_CHARS = 20000  # per request; the widget sends a large page in a few batches
DEFAULT_ACCENT = "#1f5fbf"
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


@router.get("/widget.js", include_in_schema=False)
def widget_script(request: Request) -> Response:
    """The one file a host page includes; it may be cached briefly and loaded from any origin."""
    body = (STATIC_DIR / "widget.js").read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    headers = {"Cache-Control": "public, max-age=300", "ETag": etag, "Cross-Origin-Resource-Policy": "cross-origin"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript", headers=headers)


@router.get("/widget/frame", include_in_schema=False)
def widget_frame(
    settings: SettingsDep,
    origin: str = Query("", max_length=300, description="The host page's origin, as widget.js sees it."),
    audience: str = Query("", max_length=20),
    title: str = Query("", max_length=200),
    accent: str = Query("", max_length=20),
    theme: str = Query("auto", max_length=10),
) -> Response:
    """The chat panel inside the host page, or a clear refusal for a host that is not allowed."""
    host = normalize_origin(origin)
    context = {
        "origin": host or "",
        "audience": views.parse_audience(audience),
        "title": " ".join(title.split())[:60] or "Glossary assistant",
        "accent": accent if _HEX.match(accent) else DEFAULT_ACCENT,
        "theme": theme if theme in ("light", "dark") else "auto",
        "max_chars": settings.max_question_chars,
        "compact": True,
        "examples": views.EXAMPLES[:3],
        "earlier": [], "turn": None, "error": None, "question": "", "conversation_id": "",
    }
    if host is None or not origin_allowed(host, settings.allowed_origins):
        # Nothing in the refusal can be used by the embedder, so it may show inside the page that asked.
        return render("widget_refused.html", context, status_code=403, frame_ancestors=host or "'none'")
    return render("widget_frame.html", context, frame_ancestors=host)


@router.get("/widget/api/card/{slug}", response_model=TermCard, response_model_exclude_none=True)
def term_card(slug: str, resources: ResourcesDep, audience: str | None = None) -> TermCard:
    """A short, sanitized view of one term for the inline card a linked definition opens."""
    term = resources.glossary.get(slug)
    if term is None:
        raise HTTPException(404, f"no term with slug '{slug}'")
    return TermCard(**views.term_card(resources, term, views.parse_audience(audience)))


@router.post("/widget/api/spot", response_model=SpotResponse, response_model_exclude_none=True)
def spot(body: SpotRequest, resources: ResourcesDep) -> SpotResponse:
    """Glossary terms in the text of a host page (define-on-hover), with the spotter's case rules."""
    if sum(len(t) for t in body.texts) > MAX_SPOT_CHARS:
        raise HTTPException(422, f"texts are longer than {MAX_SPOT_CHARS} characters in total; send them in batches")
    found = spot_texts(resources.retriever.spotter, body.texts)
    glossary = resources.glossary
    terms = {}
    for slug in dict.fromkeys(s for f in found for s in f.slugs):
        term = glossary.terms[slug]
        section = term.section(body.audience) if body.audience else ""
        terms[slug] = SpotTerm(term=term.term, summary=term.summary, url=resources.url_for(slug), domain=term.domain,
                               status=term.status,
                               replaced_by=link(resources, term.replaced_by) if term.replaced_by else None,
                               for_audience=first_sentences(section) if section else None,
                               for_audience_title=SECTION_TITLES[body.audience] if section else None)

    def ordered(slugs: tuple[str, ...]) -> list[str]:
        """The audience's own sense of an abbreviation first (PO: Purchase Order for procurement)."""
        if not body.audience:
            return list(slugs)
        return sorted(slugs, key=lambda s: glossary.terms[s].domain != body.audience)

    return SpotResponse(spots=[SpotOut(text=f.text, start=f.start, end=f.end, slugs=ordered(f.slugs)) for f in found],
                        terms=terms)
