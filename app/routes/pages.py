"""HTML pages: the chat, the A–Z list and the term pages. They work without JavaScript; JS enhances them."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from app import views
from app.deps import ConversationsDep, ResourcesDep, SettingsDep, StoreDep
from app.routes import api
from app.schemas import AskRequest, FeedbackRequest
from app.web import render

router = APIRouter(tags=["pages"], include_in_schema=False)


async def form_fields(request: Request) -> dict[str, list[str]]:
    """The fields of a URL-encoded form post."""
    body = (await request.body()).decode("utf-8", "replace")
    return parse_qs(body, keep_blank_values=True)


def first(form: dict[str, list[str]], name: str) -> str:
    return form.get(name, [""])[0]


def chat_context(settings, **extra) -> dict:
    context = {"examples": views.EXAMPLES, "audience": None, "conversation_id": "", "earlier": [],
               "turn": None, "error": None, "question": "", "max_chars": settings.max_question_chars}
    context.update(extra)
    return context


@router.get("/")
def chat_page(settings: SettingsDep, conversations: ConversationsDep, audience: str | None = None,
              q: str = Query("", max_length=4000),
              conversation: str = Query("", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")) -> Response:
    """The chat: ask, follow up, open linked definitions, rate answers.

    `?conversation=<id>` (the widget's "open full glossary") continues that conversation: its earlier
    questions are shown and the next question is a follow-up in it.
    """
    extra: dict = {}
    if conversation:
        found = conversations.get(conversation)
        if found.id == conversation and found.turns:
            extra = {"conversation_id": found.id, "continued": True,
                     "earlier": [" ".join(t.question.split())[:300] for t in found.turns][-views.EARLIER_SHOWN:]}
    return render("chat.html", chat_context(settings, audience=views.parse_audience(audience), question=q, **extra),
                  headers={"Cache-Control": "no-store"} if extra else None)


@router.post("/")
async def chat_ask(request: Request, resources: ResourcesDep, settings: SettingsDep,
                   conversations: ConversationsDep) -> Response:
    """The chat without JavaScript: the form posts here and the page comes back with the answer."""
    form = await form_fields(request)
    audience = views.parse_audience(first(form, "audience"))
    question = first(form, "example") or first(form, "question")
    conversation_id = first(form, "conversation_id") or None
    # Without JavaScript the page carries the earlier questions itself, to show the conversation so far.
    earlier = [" ".join(q.split())[:300] for q in form.get("earlier", []) if q.strip()][-views.EARLIER_SHOWN:]
    try:
        body = AskRequest(question=question, audience=audience, conversation_id=conversation_id)
        answer = api.ask(body=body, request=request, resources=resources, settings=settings,
                         conversations=conversations)
    except (HTTPException, ValidationError) as exc:
        message = exc.detail if isinstance(exc, HTTPException) else "that conversation can't be continued"
        return render("chat.html", chat_context(settings, audience=audience, question=question, earlier=earlier,
                                                conversation_id=conversation_id or "", error=message),
                      status_code=422)
    turn = {"question": question.strip(), "answer": answer}
    return render("chat.html", chat_context(settings, audience=audience, conversation_id=answer.conversation_id,
                                            earlier=earlier, turn=turn), headers={"Cache-Control": "no-store"})


@router.post("/feedback")
async def feedback_form(request: Request, store: StoreDep) -> Response:
    """Thumbs up or down without JavaScript."""
    form = await form_fields(request)
    turn = first(form, "turn")
    try:
        body = FeedbackRequest(conversation_id=first(form, "conversation_id"), rating=first(form, "rating"),
                               turn=int(turn) if turn.isdigit() else None, comment=first(form, "comment"))
        api.post_feedback(body, store)
    except ValidationError:
        return render("feedback.html", {"ok": False, "message": "That feedback was incomplete."}, status_code=422)
    except HTTPException as exc:
        return render("feedback.html", {"ok": False, "message": exc.detail}, status_code=exc.status_code)
    return render("feedback.html", {"ok": True, "message": "Thank you — your feedback was recorded."})


@router.get("/terms")
def terms_page(resources: ResourcesDep, q: str = Query("", max_length=200), domain: str = "",
               status: str = "") -> Response:
    """Every term A to Z, filtered by domain, status and words."""
    return render("terms.html", views.browse(resources, q, domain, status))


@router.get("/terms/{slug}")
def term_page(slug: str, resources: ResourcesDep, audience: str | None = None) -> Response:
    """One term: summary, definition, both audiences (the asker's first), rules, example, related."""
    term = resources.glossary.get(slug)
    if term is None:
        return render("not_found.html", {"slug": slug[:100], "near": views.near_terms(resources, slug[:100])},
                      status_code=404)
    return render("term.html", {"page": views.term_page(resources, term, views.parse_audience(audience))})
