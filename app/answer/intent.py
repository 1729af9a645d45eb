"""Intent detection: what kind of answer a question wants, from its wording, its terms and the conversation."""

from __future__ import annotations

import re

from app.search.retrieve import Ranking

COMPARE = re.compile(
    r"\b(vs\.?|versus|differen(ce|t|ces)|differ|compare[ds]?|comparison|distinguish|same (thing )?as|"
    r"the same( thing)?\b|confus\w*|rather than|instead of)\b",
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
