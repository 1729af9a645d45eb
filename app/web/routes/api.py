"""JSON API: search, terms, ask."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Response

from app import service
from app.web.deps import ResourcesDep, StateDep
from app.glossary.model import Term
from app.resources import Resources
from app.schemas import (
    AskRequest, AskResponse, FeedbackRequest, FeedbackResponse, ReferenceOut, SearchResponse, Sections, TermDetail,
    TermList,
)
from app.service import hit, link

router = APIRouter(prefix="/api", tags=["api"])
__all__ = ["router", "hit", "link", "term_detail"]


@router.get("/search", response_model=SearchResponse, response_model_exclude_none=True)
def search_terms(
    state: StateDep,
    q: str = Query(..., min_length=1, description="Words, an acronym or a description."),
    limit: int = Query(10, ge=1, le=50),
) -> SearchResponse:
    """Rank glossary terms for a query."""
    return service.search(state, q, limit)


@router.get("/terms", response_model=TermList, response_model_exclude_none=True)
def list_terms(resources: ResourcesDep) -> TermList:
    """List every term, A to Z."""
    terms = sorted(resources.glossary.terms.values(), key=lambda t: t.term.lower())
    return TermList(count=len(terms), terms=[hit(resources, t) for t in terms])


@router.get("/terms/{slug}", response_model=TermDetail)
def get_term(slug: str, resources: ResourcesDep) -> TermDetail:
    """Return one whole term."""
    term = resources.glossary.get(slug)
    if term is None:
        raise HTTPException(404, f"no term with slug '{slug}'")
    return term_detail(resources, term)


def term_detail(resources: Resources, term: Term) -> TermDetail:
    return TermDetail(
        slug=term.slug, term=term.term, aliases=term.aliases, domain=term.domain, status=term.status,
        summary=term.summary, definition_markdown=term.section("definition"),
        sections=Sections(procurement=term.section("procurement"), it=term.section("it"),
                          rules=term.section("rules"), example=term.section("example")),
        related=[link(resources, s) for s in term.related], owners=term.owners, reviewed=term.reviewed.isoformat(),
        references=[ReferenceOut(label=r.label, url=r.url) for r in term.references], url=resources.url_for(term.slug),
        replaced_by=link(resources, term.replaced_by) if term.replaced_by else None, tags=term.tags,
    )


@router.post("/ask", response_model=AskResponse, response_model_exclude_none=True)
def ask(body: AskRequest, state: StateDep) -> Response:
    """Answer a question (or explain pasted text), continuing a conversation when an id is given."""
    # The service built a typed AskResponse: its JSON is written here, in this worker thread, the same
    # bytes FastAPI would write, without validating it again in a second hop to the thread pool.
    return Response(service.ask(state, body).model_dump_json(exclude_none=True), media_type="application/json")


@router.post("/feedback", response_model=FeedbackResponse, status_code=201)
def post_feedback(body: FeedbackRequest, state: StateDep) -> FeedbackResponse:
    """Record a thumbs up or down, with an optional comment, on an answer."""
    return service.feedback(state, body)
