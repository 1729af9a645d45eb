"""What to offer after an answer: suggested follow-up questions, and a person to ask when we could not answer.

Follow-ups name their term, so a click asks a question that stands on its own; they come from the
term's typical `questions` (written by curators as people ask them) and its related terms.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from app.answer.point import question_kind
from app.glossary.model import Glossary, Term, normalize

MAX_FOLLOWUPS = 3
MAX_CHOICES = 4
MAX_CHARS = 110  # a chip is a button: long questions do not fit one
PAYMENTS = re.compile(r"\b(invoices?|invoic\w+|pay|paid|payments?|bills?|billed|remittance|refunds?|credit notes?)\b", re.I)


def _what_is(term: Term) -> str:
    # "What does X mean?" reads right for every name (no a/an, singular or plural).
    return f"What does {term.term} mean?"


def _typical(term: Term, asked: str) -> list[str]:
    """The term's typical can-I / do-I-need questions: asked next, they get a yes / no / it depends of their own.

    (Its other typical questions are ways to arrive at the term, so they would only repeat this answer.)
    """
    return [q for q in term.questions if len(q) <= MAX_CHARS and normalize(q) != asked and question_kind(q)]


def followups(glossary: Glossary, intent: str, focus: list[str], question: str, audience: str | None) -> list[str]:
    """Two or three questions worth asking next, each naming its term (empty when nothing was answered)."""
    asked = normalize(question)
    terms = [glossary.terms[s] for s in focus if s in glossary.terms]
    if not terms or intent == "unknown":
        return []
    if intent == "clarify":  # the choices are the answer's `choices`, offered once
        return []
    if intent == "explain":
        return [f"What does {t.term} mean for us?" for t in terms[:MAX_FOLLOWUPS]]
    if intent == "compare":
        return _after_compare(glossary, terms, focus, asked)
    return _after_define(glossary, terms[0], asked)


def _after_compare(glossary: Glossary, terms: list[Term], focus: list[str], asked: str) -> list[str]:
    """What the compared terms are next to, and one typical question about the first."""
    related = [s for t in terms for s in t.related if s not in focus and s in glossary.terms]
    out = [_what_is(glossary.terms[s]) for s in dict.fromkeys(related)][:2]
    out += _typical(terms[0], asked)[:1]
    return out[:MAX_FOLLOWUPS]


def _after_define(glossary: Glossary, term: Term, asked: str) -> list[str]:
    """A typical can-I question about the term, how it differs from a related one, and another related term."""
    out = _typical(term, asked)[:1]
    neighbours = [glossary.terms[s] for s in term.related if s in glossary.terms]
    if neighbours:
        out.append(f"What's the difference between {term.term} and {neighbours[0].term}?")
    if len(neighbours) > 1:
        out.append(_what_is(neighbours[1]))
    return [q for q in dict.fromkeys(out) if normalize(q) != asked][:MAX_FOLLOWUPS]


def choices(glossary: Glossary, intent: str, focus: list[str]) -> list[dict]:
    """The answers to "which one?": each choice's term and the reply its chip sends (the term's name).

    Sent in the same conversation the reply continues the question that was asked (app/answer/intent.py,
    `chosen_among`); on its own it still asks about the chosen term.
    """
    if intent != "clarify":
        return []
    terms = [glossary.terms[s] for s in focus if s in glossary.terms]
    return [{"slug": t.slug, "term": t.term, "domain": t.domain, "question": t.term} for t in terms[:MAX_CHOICES]]


def handoff(glossary: Glossary, *, question: str, audience: str | None, slugs: list[str], confident: bool,
            confidence: float, low_confidence: float) -> dict | None:
    """The person to ask when the answer is a refusal or uncertain: the org file's contact for the topic."""
    if confident and confidence >= low_confidence:
        return None
    org = glossary.org or {}
    contacts = org.get("contacts") or {}
    routes = org.get("handoff") or {}
    if PAYMENTS.search(question):
        topic = "payments"
    else:
        domains = [glossary.terms[s].domain for s in slugs if s in glossary.terms]
        topic = "it" if audience == "it" or (audience is None and domains[:1] == ["it"]) else "procurement"
    route = routes.get(topic) or routes.get("procurement") or {}
    email = contacts.get(route.get("contact", "")) if isinstance(route, dict) else None
    if not isinstance(email, str) or "@" not in email:
        return None
    subject = "Glossary question: " + " ".join(question.split())[:150]
    return {"label": str(route.get("label") or topic), "email": email,
            "url": f"mailto:{email}?subject={quote(subject)}"}
