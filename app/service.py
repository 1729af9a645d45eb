"""The ask service: the one place a question is validated, answered, cached, recorded and counted.

Every face calls these functions with the typed AppState: the JSON API (app/web/routes/api.py), the
no-JavaScript pages and the widget (run in the thread pool, never on the event loop), the CLI
(in-process, recording nothing unless asked) and the chat integrations to come. They are
synchronous and raise ServiceError (with an HTTP status) for input the service refuses; rate
limiting happens before them, per route, in app/ratelimit.py.
"""

from __future__ import annotations

import logging

from app.annotate import spot_texts
from app.answer.conversation import Conversation
from app.answer.followups import choices, followups, handoff
from app.answer.pipeline import Answer, record_turn
from app.glossary.model import SECTION_TITLES, Term
from app.policy import Case
from app.text import first_sentences
from app.resources import Resources
from app.schemas import (
    AskRequest, AskResponse, CaseFacts, Choice, Handoff, CaseOut, CaseRequirement, FeedbackRequest, FeedbackResponse, Hit, SearchResponse,
    SpotOut, SpotRequest, SpotResponse,
    SpotTerm, TermLink,
)
from app.state import AppState

log = logging.getLogger("glossary")

MAX_SPOT_CHARS = 20000  # per request; the widget sends a large page in a few batches


class ServiceError(Exception):
    """A request the service refuses, with the HTTP status a web face answers and a readable detail."""

    status = 422

    def __init__(self, detail: str, status: int | None = None):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status


class Unavailable(ServiceError):
    status = 503


def resources_of(state: AppState) -> Resources:
    """The loaded glossary and index, or 503 while they are still loading."""
    if state.resources is None:
        raise Unavailable("the glossary is still loading; try again in a moment")
    return state.resources


def hit(resources: Resources, term: Term, score: float | None = None) -> Hit:
    return Hit(slug=term.slug, term=term.term, aliases=term.aliases, domain=term.domain, summary=term.summary,
               url=resources.url_for(term.slug), score=None if score is None else round(score, 4), status=term.status)


def link(resources: Resources, slug: str) -> TermLink:
    return TermLink(slug=slug, term=resources.glossary.terms[slug].term, url=resources.url_for(slug))


def ask(state: AppState, request: AskRequest) -> AskResponse:
    """Answer a question (or explain pasted text), continuing the conversation when an id is given."""
    return answer(state, request)[0]


def answer(state: AppState, request: AskRequest, *, record_as: str | None = None,
           thread_id: str | None = None) -> tuple[AskResponse, Answer]:
    """`ask`, also returning the pipeline's Answer (what it was about, for faces that list the terms).

    A chat face passes `thread_id`, the conversation id of its thread: the thread's first question
    starts a conversation under that id, and a thread keeps the audience it was last answered for.
    `record_as` is the text to record when the question was rephrased for the pipeline.
    """
    resources, settings = resources_of(state), state.settings
    question = request.question.strip()
    if not question:
        raise ServiceError("question must not be empty")
    if len(question) > settings.max_question_chars:
        raise ServiceError(f"question is longer than {settings.max_question_chars} characters "
                           f"({len(question):,} of {settings.max_question_chars:,} characters); shorten it and ask again")
    conversations = state.conversations
    assert conversations is not None  # AppState always has a store of conversations
    conversation = conversations.get(thread_id or request.conversation_id)
    audience: str | None = request.audience
    if thread_id is not None:
        if conversation.id != thread_id:
            conversation = Conversation(id=thread_id)
        if audience is None and conversation.last is not None:
            audience = conversation.last.audience
    if conversation.count >= settings.max_turns:
        raise ServiceError(f"this conversation already has {settings.max_turns} turns, the most one may have; "
                           "start a new conversation (ask without conversation_id)")
    result = resources.answers.answer(question, audience=audience, conversation=conversation,
                                      ctx=resources.ask_context())
    turn = record_turn(conversations, conversation, record_as or question, audience, result)
    state.metrics.answered(result.intent.value, result.confident)
    glossary = resources.glossary
    terms = glossary.terms
    person = handoff(glossary, question=question, audience=audience, slugs=result.terms or result.suggestions,
                     confident=result.confident, confidence=result.confidence, low_confidence=settings.low_confidence)
    response = AskResponse(
        conversation_id=conversation.id, turn=turn, intent=result.intent.value, confident=result.confident,
        confidence=result.confidence, answer_markdown=result.markdown, answer_html=result.html,
        terms=[hit(resources, terms[s]) for s in result.terms],
        suggestions=[hit(resources, terms[s]) for s in result.suggestions],
        case=case_out(resources, result.case) if result.case else None,
        followups=followups(glossary, result.intent.value, result.focus, question, audience),
        choices=[Choice(**c) for c in choices(glossary, result.intent.value, result.focus)],
        handoff=Handoff(**person) if person else None,
    )
    return response, result


def case_out(resources: Resources, case: Case) -> CaseOut:
    """The computed case as the API returns it, each requirement's term as a Hit."""
    terms = resources.glossary.terms
    return CaseOut(
        facts=CaseFacts(**case.facts.model_dump(), total=case.total),
        requirements=[CaseRequirement(rule=r.rule, text=r.text, term=hit(resources, terms[r.term]), condition=r.condition)
                      for r in case.requirements],
        assumptions=case.assumptions, questions=case.questions,
    )


def search(state: AppState, query: str, limit: int = 10) -> SearchResponse:
    """Rank glossary terms for a query (words, an acronym or a description)."""
    resources = resources_of(state)
    if len(query) > state.settings.max_question_chars:
        raise ServiceError(f"q is longer than {state.settings.max_question_chars} characters")
    ranking = resources.retriever.rank(query, limit=limit)
    results = [hit(resources, resources.glossary.terms[c.slug], c.score) for c in ranking.candidates]
    return SearchResponse(query=query, results=results)


def feedback(state: AppState, request: FeedbackRequest) -> FeedbackResponse:
    """Record a thumbs up or down, with an optional comment, on an answer that was given."""
    if state.store is None:
        raise Unavailable("feedback storage is not available right now")
    try:
        turns = turns_in(state, request.conversation_id)
    except Exception as exc:
        log.exception("could not look up the conversation")
        raise Unavailable("feedback storage is not available right now; please try again later") from exc
    if turns == 0:
        raise ServiceError("there is no conversation with that id (it may have expired)", 404)
    if request.turn is not None and request.turn > turns:
        raise ServiceError(f"that conversation has no turn {request.turn}; it has {turns}", 404)
    try:
        feedback_id = state.store.add_feedback(request.conversation_id, request.turn, request.rating,
                                               request.comment.strip())
    except Exception as exc:
        log.exception("could not store feedback")
        raise Unavailable("feedback storage is not available right now; please try again later") from exc
    return FeedbackResponse(id=feedback_id)


def turns_in(state: AppState, conversation_id: str) -> int:
    """How many turns the conversation has had (0: there is no such conversation), stored or in memory."""
    assert state.store is not None
    last = state.store.last_turn(conversation_id)
    if last is not None:
        return last.turn
    assert state.memory_conversations is not None  # turns kept while the database was down
    conversation = state.memory_conversations.get(conversation_id)
    return conversation.count if conversation.id == conversation_id else 0


def spot(state: AppState, request: SpotRequest) -> SpotResponse:
    """Glossary terms in the text nodes of a host page (define-on-hover), with the spotter's case rules."""
    resources = resources_of(state)
    if sum(len(t) for t in request.texts) > MAX_SPOT_CHARS:
        raise ServiceError(f"texts are longer than {MAX_SPOT_CHARS} characters in total; send them in batches")
    found = spot_texts(resources.spotter, request.texts)
    glossary = resources.glossary
    audience = request.audience
    terms = {}
    for slug in dict.fromkeys(s for f in found for s in f.slugs):
        term = glossary.terms[slug]
        section = term.section(audience) if audience else ""
        terms[slug] = SpotTerm(term=term.term, summary=term.summary, url=resources.url_for(slug), domain=term.domain,
                               status=term.status,
                               replaced_by=link(resources, term.replaced_by) if term.replaced_by else None,
                               for_audience=first_sentences(section) if section else None,
                               for_audience_title=SECTION_TITLES[audience] if audience and section else None)

    def ordered(slugs: tuple[str, ...]) -> list[str]:
        """The audience's own sense of an abbreviation first (PO: Purchase Order for procurement)."""
        if not audience:
            return list(slugs)
        return sorted(slugs, key=lambda s: glossary.terms[s].domain != audience)

    return SpotResponse(spots=[SpotOut(text=f.text, start=f.start, end=f.end, slugs=ordered(f.slugs)) for f in found],
                        terms=terms)
