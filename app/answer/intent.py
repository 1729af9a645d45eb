"""Intent detection: what kind of answer a question wants, from its wording, its terms and the conversation."""

from __future__ import annotations

import re

from app.search.retrieve import Ranking

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
PRONOUN = re.compile(r"\b(it|its|that|this|they|them|those|these|one|ones|there|he|she|such)\b", re.I)
EXPLAIN_CUE = re.compile(r"^\s*(explain|translate|decode|what does this (mean|say))\b", re.I)


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
