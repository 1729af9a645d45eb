"""The question pipeline: understand (intent) -> retrieve -> handle (compose) -> render, over plain data."""

from __future__ import annotations

from app.answer.context import Answer, AskContext, Intent
from app.answer.conversation import Conversation, ConversationStore, Turn
from app.answer.handlers import HANDLERS
from app.answer.intent import Question, understand

__all__ = ["Answer", "AskContext", "Intent", "answer_question", "record_turn"]


def answer_question(
    question: str, *, audience: str | None, conversation: Conversation | None, ctx: AskContext
) -> Answer:
    """Answer one question (pasted text included) in the light of the conversation so far."""
    asked = Question(question.strip(), audience, conversation.last if conversation else None)
    found = understand(asked, ctx)
    return HANDLERS[found.intent](asked, found, ctx)


def record_turn(conversations: ConversationStore, conversation: Conversation, question: str, audience: str | None,
                answer: Answer) -> int:
    """Remember what this turn was about (for follow-ups, and for the curators' views)."""
    turn = Turn(question=question, intent=answer.intent.value, focus=answer.focus, audience=audience)
    record = {"confident": answer.confident, "confidence": answer.confidence, "terms": list(answer.terms),
              "suggestions": list(answer.suggestions)}
    return conversations.append(conversation, turn, record)
