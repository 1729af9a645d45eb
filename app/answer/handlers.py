"""One handler per intent: each turns an Understanding into an Answer with its own template.

A handler gets the question, what `understand` found and the pipeline's collaborators, and renders
`<intent>.md.j2` through the Composer. Adding an intent: a member of `Intent`, a handler here
registered in HANDLERS, a template, and its cue in app/answer/intent.py.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

import numpy as np

from app.answer.compose import audience_sections
from app.answer.context import Answer, AskContext, Intent
from app.answer.intent import ALTERNATIVE_GAP, RULES_CUE, Question, Understanding, sense_for
from app.glossary.model import SECTION_TITLES
from app.render import to_html
from app.text import AUDIENCES, first_sentences
from app.search.retrieve import Candidate, Ranking, Retriever

# Conversation context: terms related to the previous answer get this much extra score.
RELATED_BOOST = 0.12
PREVIOUS_PENALTY = 0.15  # the previous term itself: the follow-up usually asks about something next to it
SUGGESTION_FLOOR = 0.35  # nearest terms below this dense similarity are not worth suggesting
# A clause must be this close (cosine, bundled model) to a term to count as describing it. Calibrated on the
# dev set's jargon_paste items (issue 17): of the clauses naming no term, the one right match scored 0.628
# ("can export all our data as CSV at contract end" -> Data Portability), the best wrong one 0.567
# ("keys are vendor-managed" -> License Key); 0.6 keeps the first and drops the second.
DESCRIBED_MIN = 0.6
# An explain answer's confidence is the mean evidence of its terms: a term named in the text (a strong spot)
# is as sure as it gets; a weak one (an everyday word that is also a term's name) is a coin toss; a term only
# described gets the retriever's calibrated confidence for its clause's similarity.
NAMED_EVIDENCE = 1.0
WEAK_EVIDENCE = 0.5

SECTION_CUES = [
    ("rules", RULES_CUE),
    ("it", re.compile(r"\b(for it|for us in it|engineer\w*|technical\w*|configure)\b", re.I)),
    ("procurement", re.compile(r"\b(procurement|buyer|contract|negotiat\w*|vendor ask)\b", re.I)),
    ("example", re.compile(r"\b(example|for instance|such as)\b", re.I)),
]
_CLAUSE = re.compile(r"(?<=[.?!;:])\s+|,\s*|\s+(?:and|but|so|while|because|with)\s+")

Handler = Callable[[Question, Understanding, AskContext], Answer]


def finish(intent: Intent, confidence: float, markdown: str, terms: list[str], focus: list[str], confident: bool,
           suggestions: list[str] | None = None) -> Answer:
    """The Answer for a composed reply, with the confidence that decided it; one that is not confident links no terms."""
    return Answer(intent, confident, round(confidence, 4), markdown, to_html(markdown),
                  terms if confident else [], list(suggestions or []), focus)


def decided(found: Understanding) -> float:
    """The confidence of the evidence that decided the answer: what understand() found, else the ranking's."""
    return found.ranking.confidence if found.confidence is None else found.confidence


def alternatives(ranking: Ranking, focus: list[str], limit: int = 2) -> list[str]:
    """Runners-up close enough to the top to offer as 'did you mean'."""
    if not ranking.candidates:
        return []
    top = ranking.candidates[0].score
    return [
        c.slug for c in ranking.candidates[1:6]
        if c.slug not in focus and c.score >= top - ALTERNATIVE_GAP and c.score >= 0.45
    ][:limit]


def section_focus(question: str) -> str | None:
    """The section a short follow-up asks about ('who signs it?' -> our rules)."""
    for key, cue in SECTION_CUES:
        if cue.search(question):
            return key
    return None


def define(question: Question, found: Understanding, ctx: AskContext) -> Answer:
    """One term: its definition, the asker's section(s) and near alternatives."""
    t = ctx.glossary.terms[found.focus[0]]
    spot = found.ambiguous
    other_senses = [ctx.glossary.terms[s] for s in spot.slugs if s != t.slug] if spot else []
    markdown, terms = ctx.composer.compose(
        "define", t=t, audience=question.audience, sections=audience_sections(t, question.audience),
        alternatives=alternatives(found.ranking, [t.slug] + [o.slug for o in other_senses]), question=question.text,
        acronym=spot.surface if spot else None, other_senses=other_senses,
    )
    confidence = decided(found)
    return finish(Intent.DEFINE, confidence, markdown, terms, [t.slug], confidence >= ctx.threshold)


def follow_up(question: Question, found: Understanding, ctx: AskContext) -> Answer:
    """A follow-up, read in the light of the previous answer's term (or of the term chosen after "which one?")."""
    prev_term = found.previous
    assert prev_term is not None  # understand() only detects a follow-up with a previous term
    # A reply to "which one?" answers the question that was asked before it, about the chosen term.
    text = found.pending or question.text
    section = section_focus(text)
    t, others = prev_term, []
    confidence = found.confidence  # staying on the previous term: that answer's confidence, unless reread below
    if not (section and len(text.split()) <= 8):
        ranking = _reread(text, found, ctx)
        top = ranking.top
        chosen = found.pending is not None  # the asker chose the term: the answer stays on it
        if not chosen and top is not None and top.slug != prev_term.slug and ranking.confidence >= ctx.threshold:
            t, section, confidence = ctx.glossary.terms[top.slug], None, ranking.confidence
        elif not chosen or confidence is None:
            # Staying on the previous term: as sure as that answer was, and as the follow-up fits the term.
            own = _own_confidence(ranking, prev_term.slug, ctx.retriever)
            confidence = own if confidence is None else min(confidence, own)
        others = alternatives(ranking, [t.slug, prev_term.slug])
    if confidence is None:
        confidence = found.ranking.confidence
    markdown, terms = ctx.composer.compose(
        "followup", t=t, previous=prev_term, audience=question.audience,
        sections=audience_sections(t, question.audience), focus_section=section, alternatives=others,
        question=text,
    )
    return finish(Intent.FOLLOW_UP, confidence, markdown, terms, [t.slug], confidence >= ctx.threshold)


def _reread(text: str, found: Understanding, ctx: AskContext) -> Ranking:
    """Rank the glossary for a follow-up read with its term: "How would we spot it?" -> "Maverick Spend: how…".

    Terms related to the previous one get a boost and the previous one a penalty (the follow-up usually
    asks about something next to it); every term is ranked, so the previous one still has its own score.
    """
    prev_term = found.previous
    assert prev_term is not None
    retriever = ctx.retriever
    vector = retriever.embed(text) if found.pending else found.vector
    blended = vector + retriever.embed(f"{prev_term.term}: {text}")
    vector = blended / max(float(np.linalg.norm(blended)), 1e-9)
    boost = {slug: RELATED_BOOST for slug in prev_term.related}
    boost[prev_term.slug] = -PREVIOUS_PENALTY
    return retriever.rank(text, vector=vector, boost=boost, limit=len(ctx.glossary.terms))


def _own_confidence(ranking: Ranking, slug: str, retriever: Retriever) -> float:
    """The confidence a reranked follow-up gives the term it stays on, without the context boost or penalty."""
    own = next((c for c in ranking.candidates if c.slug == slug), None)
    if own is None:
        return 0.0
    return retriever.confidence([replace(own, score=own.score - own.boost)])


def compare(question: Question, found: Understanding, ctx: AskContext) -> Answer:
    """Two or more terms side by side, one row per audience section."""
    items = found.focus
    terms_ = [ctx.glossary.terms[s] for s in items]
    rows = [(SECTION_TITLES[k], k) for k in AUDIENCES if not question.audience or k == question.audience]
    related = [s for t in terms_ for s in t.related if s not in items][:5]
    markdown, terms = ctx.composer.compose("compare", items=terms_, rows=rows, related=related)
    return finish(Intent.COMPARE, decided(found), markdown, terms, items, True)


def explain(question: Question, found: Understanding, ctx: AskContext) -> Answer:
    """A pasted email or ticket: explain every term in it, in order of appearance."""
    text, ranking, audience, glossary = question.text, found.ranking, question.audience, ctx.glossary
    found_terms: list[dict] = []
    other_senses: list[str] = []
    seen: set[str] = set()

    def add(slug: str, at: int, surface: str | None, strong: bool, evidence: float) -> None:
        seen.add(slug)
        term = glossary.terms[slug]
        key = audience or ("procurement" if term.domain == "it" else "it")
        found_terms.append({"term": term, "surface": surface, "strong": strong, "at": at, "evidence": evidence,
                            "advice": first_sentences(term.section(key)), "advice_title": SECTION_TITLES[key]})

    many = sum(1 for s in ranking.spots if s.strong) > 8
    for spot in ranking.spots:
        single = len(spot.slugs) == 1
        slug = spot.slugs[0] if single else sense_for(spot, text, ranking, audience, ctx) or spot.slugs[0]
        if not single:
            other_senses.extend(s for s in spot.slugs if s != slug and s not in other_senses)
        if slug not in seen and (spot.strong or not many):
            add(slug, spot.start, spot.surface, spot.strong, named_evidence(spot.strong))
    # Clauses that describe a term without naming it ("can export all our data at contract end").
    for at, slug, similarity in described_terms(text, ranking, ctx.retriever):
        if slug not in seen:
            add(slug, at, None, True, ctx.retriever.confidence([Candidate(slug, score=similarity)]))
    # Named jargon in order, then terms only described, then everyday words.
    found_terms.sort(key=lambda item: (not item["strong"], item["surface"] is None, item["at"]))
    markdown, terms = ctx.composer.compose("explain", found=found_terms,
                                           ambiguous=[s for s in other_senses if s not in seen], question=text)
    # The evidence used is each term's: a name in the text, or a clause's similarity to the term.
    confidence = float(np.mean([f["evidence"] for f in found_terms])) if found_terms else 0.0
    return finish(Intent.EXPLAIN, confidence, markdown, terms, [f["term"].slug for f in found_terms],
                  confidence >= ctx.threshold)


def named_evidence(strong: bool) -> float:
    """How sure a term found by its name in a pasted text is: a strong spot is, an everyday word is not."""
    return NAMED_EVIDENCE if strong else WEAK_EVIDENCE


def _clauses(text: str, ranking: Ranking) -> list[tuple[int, str]]:
    """Clauses of four words or more that name no glossary term, with where they start."""
    clauses, pos = [], 0
    for part in _CLAUSE.split(text):
        if not part:
            continue
        start = text.find(part, pos)
        pos = start + len(part)
        named = any(s.start < pos and s.end > start for s in ranking.spots)
        if len(part.split()) >= 4 and not named:
            clauses.append((start, part))
    return clauses


def described_terms(text: str, ranking: Ranking, retriever: Retriever, limit: int = 12) -> list[tuple[int, str, float]]:
    """Terms that clauses of a pasted text describe without naming any glossary term, with the clause's similarity."""
    clauses = _clauses(text, ranking)
    if not clauses:
        return []
    vectors = retriever.embed_many([c for _, c in clauses[:limit]])
    out = []
    for (start, _), vector in zip(clauses, vectors):
        scores = retriever.dense_scores(vector)
        if scores:
            slug = max(scores, key=scores.__getitem__)
            if scores[slug] >= DESCRIBED_MIN:
                out.append((start, slug, scores[slug]))
    return out


def clarify(question: Question, found: Understanding, ctx: AskContext) -> Answer:
    """Ask which one: an acronym's senses nothing decides, or the previous answer's terms a follow-up fits equally."""
    senses = [ctx.glossary.terms[s] for s in found.focus]
    acronym = found.ambiguous.surface if found.ambiguous else None
    markdown, terms = ctx.composer.compose("clarify", acronym=acronym, senses=senses, question=question.text)
    confidence = decided(found)
    return finish(Intent.CLARIFY, confidence, markdown, terms, list(found.focus), confidence >= ctx.threshold)


def unknown(question: Question, found: Understanding, ctx: AskContext) -> Answer:
    """Not in the glossary (or not a glossary question): say so, with the nearest terms worth suggesting."""
    ranking = found.ranking
    suggestions = [c.slug for c in ranking.candidates if c.dense >= SUGGESTION_FLOOR or c.fuzzy or c.spotted][:3]
    markdown, _ = ctx.composer.compose("unknown", suggestions=[ctx.glossary.terms[s] for s in suggestions],
                                       url=ctx.composer.url_for)
    return finish(Intent.UNKNOWN, ranking.confidence, markdown, [], [], False, suggestions)


def not_glossary(question: Question, found: Understanding, ctx: AskContext) -> Answer:
    """A request the glossary does not answer: say so and where to go; a named term only as a suggestion."""
    verdict = found.verdict
    assert verdict is not None
    named = ctx.glossary.terms.get(verdict.term) if verdict.term else None
    markdown, _ = ctx.composer.compose("not_glossary", refusal=verdict, named=named, url=ctx.composer.url_for,
                                       contacts=ctx.glossary.org.get("contacts", {}))
    return finish(Intent.NOT_GLOSSARY, found.ranking.confidence, markdown, [], [], False, [named.slug] if named else [])


HANDLERS: dict[Intent, Handler] = {
    Intent.DEFINE: define,
    Intent.FOLLOW_UP: follow_up,
    Intent.COMPARE: compare,
    Intent.EXPLAIN: explain,
    Intent.CLARIFY: clarify,
    Intent.UNKNOWN: unknown,
    Intent.NOT_GLOSSARY: not_glossary,
}
