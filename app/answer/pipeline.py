"""The question pipeline: understand (intent) -> retrieve -> handle (compose) -> render, over plain data."""

from __future__ import annotations

from dataclasses import replace

from app.answer.context import Answer, AskContext, Intent
from app.answer.conversation import Conversation, ConversationStore, Turn
from app.answer.handlers import HANDLERS
from app.answer.intent import Question, understand
from app.answer.point import VERDICTS
from app.policy import case_for, case_markdown
from app.render import to_html

__all__ = ["Answer", "AskContext", "Intent", "answer_question", "record_turn"]


def answer_question(
    question: str, *, audience: str | None, conversation: Conversation | None, ctx: AskContext
) -> Answer:
    """Answer one question (pasted text included) in the light of the conversation so far."""
    asked = Question(question.strip(), audience, conversation.last if conversation else None)
    found = understand(asked, ctx)
    answer = HANDLERS[found.intent](asked, found, ctx)
    return with_case(answer, asked, ctx)


def with_case(answer: Answer, asked: Question, ctx: AskContext) -> Answer:
    """Put "for your case" before the answer when the question states facts the policy decides on.

    A follow-up ("and if it's $120k?") starts from the previous turn's facts.
    """
    previous = asked.previous.facts if asked.previous else None
    case = case_for(asked.text, previous=previous, glossary=ctx.glossary)
    if case is None:
        return answer
    verdict, rest = split_verdict(answer.markdown)
    markdown = verdict + case_markdown(case, ctx.composer) + rest
    return replace(answer, markdown=markdown, html=to_html(markdown), case=case)


def split_verdict(markdown: str) -> tuple[str, str]:
    """The answer's leading yes / no / it-depends paragraph (the point comes first), and the rest."""
    if markdown.startswith(VERDICTS):
        head, sep, rest = markdown.partition("\n\n")
        return head + sep, rest
    return "", markdown


def record_turn(conversations: ConversationStore, conversation: Conversation, question: str, audience: str | None,
                answer: Answer) -> int:
    """Remember what this turn was about (for follow-ups, and for the curators' views)."""
    turn = Turn(question=question, intent=answer.intent.value, focus=answer.focus, audience=audience,
                facts=answer.case.facts.model_dump() if answer.case else None, confidence=answer.confidence)
    record = {"confident": answer.confident, "confidence": answer.confidence, "terms": list(answer.terms),
              "suggestions": list(answer.suggestions)}
    return conversations.append(conversation, turn, record)
