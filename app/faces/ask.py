"""The one door every face (MCP, Slack, Teams) goes through to the glossary.

Each function takes the running service's AppState and calls the ask service (app/service.py), as
the JSON API does for the same request: validate, rate limit (the app's limiter, keyed by face and
user), answer, record the turn (which is also how gaps reach the curators), count metrics. What is
added here is only what chat needs: a thread's stable conversation id, person-readable refusals
(FaceError), and the terms an explained text holds.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass

from app import service
from app.answer.intent import EXPLAIN_CUE
from app.answer.pipeline import Answer
from app.glossary.model import Term
from app.resources import Resources
from app.schemas import AskRequest, AskResponse, FeedbackRequest, Hit, SearchResponse, TermDetail, clean_text
from app.service import ServiceError, hit
from app.web.routes.api import term_detail

log = logging.getLogger("glossary.faces")

AUDIENCES = ("procurement", "it")
MAX_SEARCH_LIMIT = 50
MAX_COMMENT_CHARS = 2000
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class FaceError(Exception):
    """A request a face must refuse, with a message for the person (and the HTTP status it would be)."""

    def __init__(self, message: str, status: int = 422, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclass
class Found:
    """One term an explained text mentions (or describes), in order of appearance."""

    slug: str
    term: str
    summary: str
    url: str
    domain: str


@dataclass
class Explained:
    response: AskResponse
    found: list[Found]


def _resources(state) -> Resources:
    try:
        return service.resources_of(state)
    except ServiceError as exc:
        raise FaceError(exc.detail, exc.status) from exc


def check_rate(state, face: str, user: str | None) -> None:
    """Spend one token of this face user's bucket (the same limiter and limits as the web API)."""
    limiter = state.rate_limiter
    if limiter is None or not limiter.enabled:
        return
    wait = limiter.take(f"{face}:{user or 'anonymous'}"[:64])
    if wait > 0:
        seconds = max(1, int(wait + 0.999))
        raise FaceError(f"too many questions at once; try again in {seconds} s", 429, seconds)


def _question(state, text: str) -> str:
    settings = state.settings
    question = clean_text(text or "").strip()
    if not question:
        raise FaceError("the question is empty; ask about a term, e.g. \"What does SSO mean?\"")
    if len(question) > settings.max_question_chars:
        raise FaceError(f"the question is longer than {settings.max_question_chars} characters")
    return question


def _audience(audience: str | None) -> str | None:
    if audience in (None, "", "both"):
        return None
    if audience not in AUDIENCES:
        raise FaceError(f"audience must be one of procurement, it (or empty for both), not {audience!r}")
    return audience


def thread_conversation_id(state, face: str, thread: str) -> str:
    """A stable conversation id for a chat thread, so follow-ups there continue the same conversation.

    Keyed (HMAC) with a per-deployment secret so nobody can guess or collide with another thread's
    conversation from the web API; the turns are stored under it like any other conversation.
    """
    secret = (getattr(state.settings, "slack_signing_secret", "") or getattr(state.settings, "teams_webhook_secret", "")
              or str(state.settings.glossary_dir))
    digest = hmac.new(secret.encode(), f"{face}\x00{thread}".encode(), hashlib.sha256).hexdigest()
    return f"{face}-{digest[:40]}"


def _answer(state, question: str, audience: str | None, conversation_id: str | None, face: str, user: str | None,
            thread: str | None, record_as: str | None = None) -> tuple[AskResponse, Answer]:
    check_rate(state, face, user)
    audience = _audience(audience)
    if thread is None and conversation_id is not None and not _CONVERSATION_ID.match(conversation_id):
        raise FaceError("conversation_id must be 1-64 letters, digits, '-' or '_' (an id an earlier answer returned)")
    thread_id = thread_conversation_id(state, face, thread) if thread is not None else None
    try:
        return service.answer(state, AskRequest(question=question, audience=audience, conversation_id=conversation_id),
                              record_as=record_as, thread_id=thread_id)
    except ServiceError as exc:
        raise FaceError(exc.detail, exc.status) from exc


def ask(state, question: str, *, audience: str | None = None, conversation_id: str | None = None,
        face: str, user: str | None = None, thread: str | None = None) -> AskResponse:
    """Answer a question as POST /api/ask would; `thread` (a chat thread's key) picks its conversation."""
    return _answer(state, _question(state, question), audience, conversation_id, face, user, thread)[0]


def explain_text(state, text: str, *, audience: str | None = None, conversation_id: str | None = None,
                 face: str, user: str | None = None, thread: str | None = None) -> Explained:
    """Explain a pasted text: the answer, and the glossary terms it mentions or describes, in order."""
    text = _question(state, text)
    # The pipeline reads "Explain: …" as a request to explain every term in what follows.
    asked = text if EXPLAIN_CUE.match(text) else f"Explain: {text}"
    if len(asked) > state.settings.max_question_chars:
        asked = text
    response, result = _answer(state, asked, audience, conversation_id, face, user, thread, record_as=text)
    resources = _resources(state)
    found = []
    if result.confident:
        for slug in result.focus:
            term = resources.glossary.terms.get(slug)
            if term is not None:
                found.append(Found(slug, term.term, term.summary, resources.url_for(slug), term.domain))
    return Explained(response, found)


def find_term(state, slug_or_name: str) -> Term | None:
    """The term with this slug, name or alias (ignoring case and punctuation); None when there is none."""
    resources = _resources(state)
    key = (slug_or_name or "").strip()
    glossary = resources.glossary
    term = glossary.get(key) or glossary.get(key.lower())
    if term is None:
        named = glossary.lookup(key)
        term = named[0] if len(named) == 1 else None
        if len(named) > 1:
            names = ", ".join(f"{t.term} ({t.slug})" for t in named)
            raise FaceError(f"'{key}' names more than one term: {names}; ask for one of them by slug")
    return term


def define(state, slug_or_name: str) -> TermDetail | None:
    """The whole entry (definition, both audience sections, our rules, example, related) or None."""
    if not (slug_or_name or "").strip():
        raise FaceError("give a term's slug or name, e.g. single-sign-on or SSO")
    if len(slug_or_name) > 200:
        raise FaceError("a term's slug or name is at most 200 characters")
    term = find_term(state, slug_or_name)
    return None if term is None else term_detail(_resources(state), term)


def nearest(state, text: str, limit: int = 3) -> list[Hit]:
    """The nearest terms to some words, for "did you mean" when a name is unknown."""
    resources = _resources(state)
    ranking = resources.retriever.rank(text[:200], limit=limit)
    return [hit(resources, resources.glossary.terms[c.slug], c.score) for c in ranking.candidates]


def search(state, query: str, limit: int = 10, *, face: str, user: str | None = None) -> SearchResponse:
    """Rank glossary terms for words, an acronym or a description (GET /api/search)."""
    query = _question(state, query)
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise FaceError(f"limit must be between 1 and {MAX_SEARCH_LIMIT}")
    check_rate(state, face, user)
    try:
        return service.search(state, query, limit)
    except ServiceError as exc:
        raise FaceError(exc.detail, exc.status) from exc


def terms(state) -> list[Hit]:
    """Every term, A to Z."""
    resources = _resources(state)
    return [hit(resources, t) for t in sorted(resources.glossary.terms.values(), key=lambda t: t.term.lower())]


def record_feedback(state, conversation_id: str, turn: int | None, rating: str, comment: str = "", *,
                    face: str, user: str | None = None) -> int:
    """Store a thumbs up or down on an answer (POST /api/feedback); returns the feedback id."""
    if rating not in ("up", "down"):
        raise FaceError("rating must be up or down")
    if not _CONVERSATION_ID.match(conversation_id or ""):
        raise FaceError("conversation_id is not one of ours")
    if turn is not None and (isinstance(turn, bool) or not isinstance(turn, int) or not 1 <= turn <= 100000):
        raise FaceError("turn must be a whole number from 1 to 100000")
    comment = clean_text(comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise FaceError(f"the comment is longer than {MAX_COMMENT_CHARS} characters")
    check_rate(state, face, user)
    try:
        return service.feedback(state, FeedbackRequest(conversation_id=conversation_id, turn=turn, rating=rating,
                                                       comment=comment)).id
    except ServiceError as exc:
        raise FaceError(exc.detail, exc.status) from exc


def term_url(state, slug: str) -> str:
    return _resources(state).url_for(slug)


def base_url(state) -> str:
    """The public base URL term links are made absolute with (empty when not configured)."""
    return state.settings.public_base_url.rstrip("/")


def split_audience(text: str) -> tuple[str | None, str]:
    """Read a leading "it:" / "for IT:" / "procurement:" from chat text as the audience."""
    match = re.match(r"^\s*(?:for\s+|as\s+)?(it|procurement)\s*[:,]\s*(.*)$", text or "", re.I | re.S)
    if match:
        return match.group(1).lower(), match.group(2)
    return None, text
