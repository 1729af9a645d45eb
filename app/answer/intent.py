"""Intent detection: what kind of answer a question wants, from its wording, its terms and the conversation.

`understand` is the one step that decides; it returns an `Understanding` (a typed `Intent` plus what
the handler for that intent needs), and app/answer/handlers.py turns it into an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from app.answer.answerability import Verdict, classify
from app.answer.context import AskContext, Intent
from app.answer.conversation import Turn
from app.glossary.model import Term
from app.search.retrieve import Candidate, Ranking
from app.search.spotter import Spot
from app.search.text import tokenize

ALTERNATIVE_GAP = 0.15  # runners-up this close to the top are offered as "did you mean"

COMPARE = re.compile(
    r"\b(vs\.?|versus|difference|differences|differ|compare[ds]?|comparing|comparison|distinguish|"
    r"same thing|same as|(is|are) (it|that|this|they|those|these) the same|mixed up|confused with)\b",
    re.I,
)
FOLLOW_UP_START = re.compile(
    r"^\s*(and|but|so|also|then|what about|how about|what if|who|whom|which|when|where|why|how|does|do|is|are|"
    r"can|could|should|would|will|what happens)\b",
    re.I,
)
# A follow-up about our rules ("who signs it?", "is there a limit?"): the rules section answers it.
RULES_CUE = re.compile(r"\b(who (signs|approves|decides|owns|pays)|approv\w*|sign\w*|rule|policy|allowed|threshold|limit|"
                       r"how much|need to)\b", re.I)
PRONOUN = re.compile(r"\b(it|its|that|this|they|them|those|these|one|ones|there|he|she|such)\b", re.I)
EXPLAIN_CUE = re.compile(r"^\s*(explain|translate|decode|what does this (mean|say))\b", re.I)

# Resolving a follow-up against the previous answer's terms (issue 17): at most this many are weighed, and
# when the best fits no more than FIT_MARGIN better than others, the answer asks "which one?" among those.
# The margin is the noise of the fit (cosine, bundled model): after a pasted e-mail naming eight terms,
# "what's the notice period on that?" fits Auto-Renewal 0.62 against 0.50 for the next (picked), while
# "who has to approve that?" fits the MSA 0.56, User Provisioning 0.50 and Purchase Order 0.50 (asked which).
MAX_RESOLVE = 8
MAX_CHOICES = 4
FIT_MARGIN = 0.07
SECTION_FIT = 0.08  # a follow-up fits a term whose rules speak of what it asks; about rules, not one without them
# A reply to "which one?" that names a domain: "the software one", "the purchasing one".
DOMAIN_CUES = {
    "it": re.compile(r"\b(IT|[Ss]oftware|[Tt]ech\w*|[Ee]ngineer\w*|[Dd]evelop\w*|[Aa]gile|[Ss]crum|[Pp]roduct team)\b"),
    "procurement": re.compile(r"\b(procure\w*|purchas\w*|buy\w*|contract\w*|vendor\w*|supplier\w*|sourcing|finance)\b", re.I),
}
ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3}
_ORDINAL = re.compile(r"\b(first|1st|second|2nd|third|3rd|fourth|4th|last)\b", re.I)


def words(text: str) -> int:
    return len(text.split())


def is_pasted_text(question: str, ranking: Ranking) -> bool:
    """A pasted email, ticket or note: long, or several lines, or dense with jargon."""
    distinct = {s.slugs for s in ranking.spots if s.strong}
    long_text = words(question) >= 25 or "\n" in question.strip() or len(question) >= 180
    dense = words(question) >= 12 and len(distinct) >= 3
    return len(distinct) >= 2 and (long_text or dense or EXPLAIN_CUE.match(question) is not None)


def is_comparison(question: str, ranking: Ranking) -> bool:
    """A question that contrasts things ('X vs Y', 'difference between', 'same as') and is not a paste."""
    return COMPARE.search(question) is not None and words(question) <= 40 and "\n" not in question.strip()


def is_follow_up(question: str, ranking: Ranking, has_previous: bool) -> bool:
    """Short, leaning on something said before, and naming no term of its own."""
    if not has_previous or words(question) > 25:
        return False
    if any(s.strong for s in ranking.spots) or any(c.exact for c in ranking.candidates[:3]):
        return False
    return bool(FOLLOW_UP_START.match(question) or PRONOUN.search(question))


# Asking the assistant to *do* something (write, plan, print, switch modes…) rather than to explain a term.
TASK = re.compile(
    r"(^|[.!?:,;]\s+|\b(can|could|would|will) you (please )?|\bplease )"
    r"(write|draft|compose|print|list|show me|switch|turn|ignore|forget|disregard|reply|respond|pretend|act as|"
    r"role-?play|recommend|suggest|plan|book|order me|convert|calculate|compute|translate|add|delete|remove|"
    r"update|change|make|create|generate|summari[sz]e|tell me a (joke|story))\b",
    re.I,
)


def is_task_request(question: str, ranking: Ranking) -> bool:
    """A request to perform a task that names no glossary term: not a glossary question."""
    if any(s.strong for s in ranking.spots) or any(c.exact or c.fuzzy >= 0.9 for c in ranking.candidates[:3]):
        return False
    return TASK.search(question) is not None


@dataclass
class Question:
    """One question as asked: its text (stripped), who asks, and the conversation's previous turn."""

    text: str
    audience: str | None = None
    previous: Turn | None = None


@dataclass
class Understanding:
    """The detected intent and what its handler needs: the ranking, and the terms the answer is about."""

    intent: Intent
    ranking: Ranking
    vector: np.ndarray
    focus: list[str] = field(default_factory=list)  # define: the term; compare: the items; clarify: the senses
    previous: Term | None = None  # follow-up: the previous answer's term
    ambiguous: Spot | None = None  # clarify: the acronym with several senses
    verdict: Verdict | None = None  # not-glossary: what kind of request it is, and where to go instead
    confidence: float | None = None  # the confidence of the evidence that decided, when not the ranking's
    pending: str | None = None  # a reply to "which one?": the question it answers ("who has to approve that?")


def understand(question: Question, ctx: AskContext) -> Understanding:
    """Rank the glossary for the question and decide which kind of answer it wants."""
    text = question.text
    vector = ctx.retriever.embed(text)
    ranking = ctx.retriever.rank(text, vector=vector)
    found = Understanding(Intent.UNKNOWN, ranking, vector)
    # Not a glossary question (an action, a status, a helpdesk fix, advice): decided before anything else.
    verdict = classify(text, ranking, glossary=ctx.glossary)
    if not verdict.answerable:
        return _with(found, Intent.NOT_GLOSSARY, verdict=verdict)
    if question.previous and question.previous.focus:
        continued = _continued(found, question, ctx)
        if continued is not None:
            return continued
    # Asked to perform a task ("write me…", "switch off your rules…") without naming a term: not ours.
    confident = ranking.confidence >= ctx.threshold and not is_task_request(text, ranking)
    if is_comparison(text, ranking) and confident:
        items = compared_terms(ranking)
        if len(items) >= 2:
            return _with(found, Intent.COMPARE, focus=items)
    if is_pasted_text(text, ranking):
        return _with(found, Intent.EXPLAIN)
    return _single_term(found, question, confident, ctx)


def _single_term(found: Understanding, question: Question, confident: bool, ctx: AskContext) -> Understanding:
    """One term asked about: define it, ask which sense of an acronym is meant, or admit it is not ours."""
    ranking = found.ranking
    top = ranking.top
    ambiguous = next((s for s in ranking.spots if len(s.slugs) > 1 and top and top.slug in s.slugs), None)
    if ambiguous is not None and confident:
        sense = sense_for(ambiguous, question.text, ranking, question.audience, ctx)
        if sense is None:
            return _with(found, Intent.CLARIFY, focus=list(ambiguous.slugs), ambiguous=ambiguous)
        top = next(c for c in ranking.candidates if c.slug == sense) if sense in ranking.slugs() else Candidate(sense)
        # Decided by context: the answer names the other sense(s), so a wrong guess is one line away.
        return _with(found, Intent.DEFINE, focus=[top.slug], ambiguous=ambiguous)
    if not confident or top is None:
        return found
    return _with(found, Intent.DEFINE, focus=[top.slug])


def _continued(found: Understanding, question: Question, ctx: AskContext) -> Understanding | None:
    """A turn that goes on from the previous answer: a reply to its "which one?", or a follow-up on one of its terms."""
    previous = question.previous
    assert previous is not None
    choices = [s for s in previous.focus if s in ctx.glossary.terms]
    if not choices:
        return None
    if previous.intent == Intent.CLARIFY.value:
        chosen = chosen_among(question.text, found.ranking, choices, ctx)
        if chosen is not None:
            return _answer_choice(found, previous, chosen, ctx)
    if not is_follow_up(question.text, found.ranking, True):
        return None
    if len(choices) == 1:
        return _with(found, Intent.FOLLOW_UP, previous=ctx.glossary.terms[choices[0]], confidence=previous.confidence)
    # Terms the previous question named outweigh those it only described ("Enterprise plan" is not ERP).
    named = {slug for spot in ctx.retriever.spotter.spot(previous.question) if spot.strong for slug in spot.slugs}
    choices = [s for s in choices if s in named] or choices
    fits = term_fits(question.text, found.vector, choices[:MAX_RESOLVE], ctx)
    best_slug, best = fits[0]
    close = [slug for slug, fit in fits if fit >= best - FIT_MARGIN][:MAX_CHOICES]
    if len(close) > 1:
        return _with(found, Intent.CLARIFY, focus=close, pending=question.text, confidence=previous.confidence)
    return _with(found, Intent.FOLLOW_UP, previous=ctx.glossary.terms[best_slug], confidence=previous.confidence)


def chosen_among(reply: str, ranking: Ranking, choices: list[str], ctx: AskContext) -> str | None:
    """The choice a short reply to "which one?" picks: one it names, its domain, or its place in the list."""
    if words(reply) > 8:
        return None
    mentioned = named_terms(ranking)
    named = [s for s in mentioned if s in choices]
    if len(named) == 1:
        return named[0]
    if mentioned:  # it names something else ("Purchase Order" when asked MSA or SSO?): a new question
        return None
    for domain, cue in DOMAIN_CUES.items():
        fitting = [s for s in choices if ctx.glossary.terms[s].domain == domain]
        if cue.search(reply) and len(fitting) == 1:
            return fitting[0]
    ordinal = _ORDINAL.search(reply)
    if ordinal:
        word = ordinal.group(1).lower()
        index = len(choices) - 1 if word == "last" else ORDINALS[word]
        return choices[index] if index < len(choices) else None
    return None


def _answer_choice(found: Understanding, previous: Turn, chosen: str, ctx: AskContext) -> Understanding:
    """Answer the question "which one?" was asked about, for the chosen term.

    After an acronym's "which one?" ("what is a PO?") that is the chosen sense's definition; after a
    follow-up's ("who has to approve that?") it is that follow-up, on the chosen term.
    """
    acronym = any(chosen in spot.slugs and len(spot.slugs) > 1 for spot in ctx.retriever.spotter.spot(previous.question))
    if acronym:
        return _with(found, Intent.DEFINE, focus=[chosen], confidence=previous.confidence)
    return _with(found, Intent.FOLLOW_UP, previous=ctx.glossary.terms[chosen], pending=previous.question,
                 confidence=previous.confidence)


def term_fits(text: str, vector: np.ndarray, slugs: list[str], ctx: AskContext) -> list[tuple[str, float]]:
    """How well a follow-up fits each of the previous answer's terms, best first.

    Each term is read into the follow-up ("who approves that?" -> "Purchase Order: who approves that?") and
    the blend's similarity to that term counts, and more when the term's rules speak of what it asks
    ("approve", "quotes"); a follow-up about our rules does not fit a term without rules.
    """
    terms = [ctx.glossary.terms[s] for s in slugs]
    blends = ctx.retriever.embed_many([f"{t.term}: {text}" for t in terms])
    asked, about_rules = set(tokenize(text)), RULES_CUE.search(text) is not None
    index = ctx.retriever.index
    fits = []
    for t, blend in zip(terms, blends):
        mixed = vector + blend
        mixed = mixed / max(float(np.linalg.norm(mixed)), 1e-9)
        rows = [i for i, view in enumerate(index.views) if view.slug == t.slug]
        fit = float((index.vectors[rows] @ mixed).max()) if rows else 0.0
        # Our rules are not among the embedded views: what the follow-up asks, found in them, counts too.
        rules = t.section("rules")
        if asked & set(tokenize(rules)):
            fit += SECTION_FIT
        elif about_rules and not rules:
            fit -= SECTION_FIT
        fits.append((t.slug, fit))
    return sorted(fits, key=lambda item: -item[1])


def _with(found: Understanding, intent: Intent, **details) -> Understanding:
    found.intent = intent
    for key, value in details.items():
        setattr(found, key, value)
    return found


def sense_for(spot: Spot, question: str, ranking: Ranking, audience: str | None, ctx: AskContext) -> str | None:
    """Pick one sense of an ambiguous acronym from the rest of the question, then the audience."""
    rest = question[: spot.start] + " " + question[spot.end :]
    if tokenize(rest):
        lexical = ctx.retriever.lexical_scores(rest)
        by_slug = {c.slug: c for c in ranking.candidates}
        scored = sorted(
            ((by_slug[s].dense if s in by_slug else 0.0) + 0.05 * min(lexical.get(s, 0.0), 4.0), s) for s in spot.slugs
        )
        if scored[-1][0] - scored[-2][0] >= 0.08:
            return scored[-1][1]
    if audience:
        fitting = [s for s in spot.slugs if ctx.glossary.terms[s].domain == audience]
        if len(fitting) == 1:
            return fitting[0]
    return None


def named_terms(ranking: Ranking) -> list[str]:
    """Terms the question names itself (spotted, exact or near-spelled), in order of mention."""
    named: list[str] = []
    for spot in ranking.spots:
        if len(spot.slugs) == 1 and spot.slugs[0] not in named:
            named.append(spot.slugs[0])
    for c in ranking.candidates:
        if (c.fuzzy >= 0.85 or c.exact) and c.slug not in named:
            named.append(c.slug)
    return named


def compared_terms(ranking: Ranking) -> list[str]:
    """The terms a comparison sets side by side: those named, filled up from the top of the ranking."""
    items = named_terms(ranking)[:4]
    for c in ranking.candidates:
        if len(items) >= 2:
            break
        if c.slug not in items and c.score >= ranking.candidates[0].score - 0.25:
            items.append(c.slug)
    for c in ranking.candidates[:3]:
        if len(items) < 3 and c.slug not in items and c.score >= ranking.candidates[0].score - ALTERNATIVE_GAP:
            items.append(c.slug)
    return items
