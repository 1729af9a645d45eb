"""HTML pages: the chat, the A–Z list and the term pages. They work without JavaScript; JS enhances them."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from app import service
from app.config import Settings
from app.web import ratelimit, views
from app.web.deps import ResourcesDep, StateDep
from app.schemas import AskRequest, FeedbackRequest
from app.service import ServiceError
from app.state import AppState
from app.web.html import render

router = APIRouter(tags=["pages"], include_in_schema=False)


async def form_fields(request: Request) -> dict[str, list[str]]:
    """The fields of a URL-encoded form post."""
    body = (await request.body()).decode("utf-8", "replace")
    return parse_qs(body, keep_blank_values=True)


def first(form: dict[str, list[str]], name: str) -> str:
    return form.get(name, [""])[0]


def chat_context(settings: Settings, **extra: object) -> dict:
    context: dict[str, object] = {"examples": views.EXAMPLES, "audience": None, "conversation_id": "", "earlier": [],
               "turn": None, "error": None, "question": "", "max_chars": settings.max_question_chars}
    context.update(extra)
    return context


# The no-JavaScript chat carries the conversation id in its forms; this cookie beside it binds the
# conversation to the browser that started it, so a forged form (another site, or a copied id)
# cannot continue or rate it. HttpOnly and SameSite=Lax: other sites' posts do not carry it. The JSON
# API (and the pages' and widget's scripts, which use it) keep the unguessable id alone as the key.
CONVERSATION_COOKIE = "glossary_conversation"


def bound_here(request: Request, conversation_id: str) -> bool:
    """True when this browser started (or continued) the conversation through the pages' forms."""
    cookie = request.cookies.get(CONVERSATION_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), conversation_id.encode())


def bind(response: Response, request: Request, settings, conversation_id: str) -> None:
    secure = request.url.scheme == "https" or settings.public_base_url.startswith("https://")
    response.set_cookie(CONVERSATION_COOKIE, conversation_id, httponly=True, samesite="lax", secure=secure,
                        path="/", max_age=settings.conversation_ttl_seconds)


@router.get("/")
def chat_page(state: StateDep, audience: str | None = None, q: str = Query("", max_length=4000),
              conversation: str = Query("", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")) -> Response:
    """The chat: ask, follow up, open linked definitions, rate answers.

    `?conversation=<id>` (the widget's "open full glossary") continues that conversation: its earlier
    questions are shown and the next question is a follow-up in it.
    """
    extra: dict = {}
    if conversation and state.conversations is not None:
        found = state.conversations.get(conversation)
        if found.id == conversation and found.turns:
            extra = {"conversation_id": found.id, "continued": True,
                     "earlier": [" ".join(t.question.split())[:300] for t in found.turns][-views.EARLIER_SHOWN:]}
    return render("chat.html", chat_context(state.settings, audience=views.parse_audience(audience), question=q, **extra),
                  headers={"Cache-Control": "no-store"} if extra else None)


@router.post("/")
async def chat_ask(request: Request, state: StateDep) -> Response:
    """The chat without JavaScript: the form posts here and the page comes back with the answer."""
    form = await form_fields(request)
    return await run_in_threadpool(chat_answer, state, form, request)


def chat_answer(state: AppState, form: dict[str, list[str]], request: Request) -> Response:
    """Answer the chat form through the ask service, exactly as the API does (runs in the thread pool)."""
    settings = state.settings
    audience = views.parse_audience(first(form, "audience"))
    question = first(form, "example") or first(form, "question")
    conversation_id = first(form, "conversation_id") or None
    # Without JavaScript the page carries the earlier questions itself, to show the conversation so far.
    earlier = [" ".join(q.split())[:300] for q in form.get("earlier", []) if q.strip()][-views.EARLIER_SHOWN:]
    try:
        body = AskRequest(question=question, audience=audience, conversation_id=conversation_id)
        if body.conversation_id and not bound_here(request, body.conversation_id):
            # Another browser's conversation (a forged or copied form): start a new one instead.
            body, conversation_id, earlier = body.model_copy(update={"conversation_id": None}), None, []
        answer = service.ask(state, body)
    except (ServiceError, ValidationError) as exc:
        message = exc.detail if isinstance(exc, ServiceError) else "that conversation can't be continued"
        return render("chat.html", chat_context(settings, audience=audience, question=question, earlier=earlier,
                                                conversation_id=conversation_id or "", error=message),
                      status_code=422)
    turn = {"question": question.strip(), "answer": answer}
    response = render("chat.html", chat_context(settings, audience=audience, conversation_id=answer.conversation_id,
                                                earlier=earlier, turn=turn), headers={"Cache-Control": "no-store"})
    bind(response, request, settings, answer.conversation_id)
    return response


@router.post("/feedback")
async def feedback_form(request: Request, state: StateDep) -> Response:
    """Thumbs up or down without JavaScript, on an answer this browser was given."""
    form = await form_fields(request)
    return await run_in_threadpool(feedback_answer, state, form, request)


def feedback_answer(state: AppState, form: dict[str, list[str]], request: Request) -> Response:
    """Record the feedback form through the ask service (runs in the thread pool)."""
    turn = first(form, "turn")
    conversation_id = first(form, "conversation_id")
    try:
        body = FeedbackRequest(conversation_id=conversation_id, rating=first(form, "rating"),
                               turn=int(turn) if turn.isdigit() else None, comment=first(form, "comment"))
        if not bound_here(request, conversation_id):
            raise ServiceError("there is no conversation with that id in this browser", 404)
        service.feedback(state, body)
    except ValidationError:
        return render("feedback.html", {"ok": False, "message": "That feedback was incomplete."}, status_code=422)
    except ServiceError as exc:
        return render("feedback.html", {"ok": False, "message": exc.detail}, status_code=exc.status)
    return render("feedback.html", {"ok": True, "message": "Thank you — your feedback was recorded."})


@router.get("/terms")
def terms_page(request: Request, resources: ResourcesDep, q: str = Query("", max_length=200), domain: str = "",
               status: str = "") -> Response:
    """Every term A to Z, filtered by domain, status and words."""
    if q.strip():
        ratelimit.enforce(request)  # a filter without a match ranks the glossary for suggestions
    return render("terms.html", views.browse(resources, q, domain, status))


@router.get("/terms/{slug}")
def term_page(request: Request, slug: str, resources: ResourcesDep, audience: str | None = None) -> Response:
    """One term: summary, definition, both audiences (the asker's first), rules, example, related."""
    term = resources.glossary.get(slug)
    if term is None:
        ratelimit.enforce(request)  # the 404 ranks near terms, as a search would
        return render("not_found.html", {"slug": slug[:100], "near": views.near_terms(resources, slug[:100])},
                      status_code=404)
    return render("term.html", {"page": views.term_page(resources, term, views.parse_audience(audience))})
