"""What the answer pipeline works with: its collaborators (AskContext) and its result (Answer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from app.answer.compose import Composer
from app.glossary.model import Glossary
from app.policy import Case
from app.search.retrieve import Retriever


class Intent(str, Enum):
    """What kind of answer a question wants; the values are the API's `intent` (schemas.Intent).

    Adding one: a member here and in schemas.Intent, a handler in app/answer/handlers.py, a template
    in app/answer/templates, and the cue in app/answer/intent.py that detects it.
    """

    DEFINE = "define"
    COMPARE = "compare"
    EXPLAIN = "explain"
    FOLLOW_UP = "follow-up"
    CLARIFY = "clarify"
    NOT_GLOSSARY = "not-glossary"  # an action, a status, a helpdesk fix or advice: not what the glossary answers
    UNKNOWN = "unknown"


@dataclass
class Answer:
    intent: Intent
    confident: bool
    confidence: float
    markdown: str
    html: str
    terms: list[str]
    suggestions: list[str]
    focus: list[str] = field(default_factory=list)
    case: Case | None = None  # "for your case": the facts the question states and the rules they trigger


@dataclass
class AskContext:
    """Collaborators of the pipeline, passed in so tests need no app."""

    glossary: Glossary
    retriever: Retriever
    composer: Composer
    threshold: float
