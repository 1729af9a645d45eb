"""JSON API: search, terms, ask."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Query, Request

from app.answer.followups import followups, handoff
from app.answer.pipeline import record_turn
from app.deps import ConversationsDep, ResourcesDep, SettingsDep, StoreDep
from app.glossary.model import Term
from app.resources import Resources
from app.schemas import (
    AskRequest, AskResponse, FeedbackRequest, Handoff, FeedbackResponse, Hit, ReferenceOut, SearchResponse, Sections, TermDetail, TermLink, TermList,
)

router = APIRouter(prefix="/api", tags=["api"])
log = logging.getLogger("glossary")


def hit(resources: Resources, term: Term, score: float | None = None) -> Hit:
    return Hit(slug=term.slug, term=term.term, aliases=term.aliases, domain=term.domain, summary=term.summary,
               url=resources.url_for(term.slug), score=None if score is None else round(score, 4), status=term.status)


def link(resources: Resources, slug: str) -> TermLink:
    return TermLink(slug=slug, term=resources.glossary.terms[slug].term, url=resources.url_for(slug))


@router.get("/search", response_model=SearchResponse, response_model_exclude_none=True)
def search_terms(
    resources: ResourcesDep,
    settings: SettingsDep,
    q: str = Query(..., min_length=1, description="Words, an acronym or a description."),
    limit: int = Query(10, ge=1, le=50),
) -> SearchResponse:
    """Rank glossary terms for a query."""
    if len(q) > settings.max_question_chars:
        raise HTTPException(422, f"q is longer than {settings.max_question_chars} characters")
    ranking = resources.retriever.rank(q, limit=limit)
    results = [hit(resources, resources.glossary.terms[c.slug], c.score) for c in ranking.candidates]
    return SearchResponse(query=q, results=results)


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
def ask(body: AskRequest, request: Request, resources: ResourcesDep, settings: SettingsDep,
        conversations: ConversationsDep) -> AskResponse:
    """Answer a question (or explain pasted text), continuing a conversation when an id is given."""
    question = body.question.strip()
    if not question:
        raise HTTPException(422, "question must not be empty")
    if len(question) > settings.max_question_chars:
        raise HTTPException(422, f"question is longer than {settings.max_question_chars} characters "
                                 f"({len(question):,} of {settings.max_question_chars:,} characters); shorten it and ask again")
    conversation = conversations.get(body.conversation_id)
    if conversation.count >= settings.max_turns:
        raise HTTPException(422, f"this conversation already has {settings.max_turns} turns, the most one may have; "
                                 "start a new conversation (ask without conversation_id)")
    result = resources.answers.answer(question, audience=body.audience, conversation=conversation,
                                      ctx=resources.ask_context())
    turn = record_turn(conversations, conversation, question, body.audience, result)
    request.app.state.metrics.answered(result.intent, result.confident)
    glossary = resources.glossary
    terms = glossary.terms
    person = handoff(glossary, question=question, audience=body.audience, slugs=result.terms or result.suggestions,
                     confident=result.confident, confidence=result.confidence, low_confidence=settings.low_confidence)
    return AskResponse(
        conversation_id=conversation.id, turn=turn, intent=result.intent, confident=result.confident,
        confidence=result.confidence, answer_markdown=result.markdown, answer_html=result.html,
        terms=[hit(resources, terms[s]) for s in result.terms],
        suggestions=[hit(resources, terms[s]) for s in result.suggestions],
        followups=followups(glossary, result.intent, result.focus, question, body.audience),
        handoff=Handoff(**person) if person else None,
    )


@router.post("/feedback", response_model=FeedbackResponse, status_code=201)
def post_feedback(body: FeedbackRequest, store: StoreDep) -> FeedbackResponse:
    """Record a thumbs up or down, with an optional comment, on an answer."""
    if store is None:
        raise HTTPException(503, "feedback storage is not available right now")
    try:
        feedback_id = store.add_feedback(body.conversation_id, body.turn, body.rating, body.comment.strip())
    except Exception:
        log.exception("could not store feedback")
        raise HTTPException(503, "feedback storage is not available right now; please try again later")
    return FeedbackResponse(id=feedback_id)
