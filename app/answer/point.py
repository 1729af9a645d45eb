"""The point of an answer, said first: a direct answer for the asker and, for can-I questions, a verdict.

Everything here is deterministic text work over the term's own (org-rendered) sections: amounts and
days are read from the rules, compared with the question's, and only a clear comparison gives a yes
or a no; anything else is "it depends" with the rule as the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.text import first_sentences, sentences


# "What is X?", "what does X stand for", "define X": the asker wants the meaning, so the summary leads.
DEFINITIONAL = re.compile(
    r"^\s*(what('s| is| are| does| do)\b(?!.*\b(for (us|me|our|my)|mean for|need|have to|should)\b)|define\b|meaning of\b|"
    r"what does .* (stand for|mean)\s*\??$)",
    re.I,
)
# "Can I…", "do I need…", "am I allowed…": the asker wants a yes or a no.
PERMISSION = re.compile(r"^\s*(can|may|could|am|is it (ok|okay|fine|allowed)|are we allowed|is that allowed)\b", re.I)
REQUIREMENT = re.compile(r"^\s*(do|does|must|should|have|has)\b.*\b(need|have to|has to|required?|must|necessary)\b|"
                         r"^\s*(is|are) (a |an |the )?.*\b(needed|required|necessary)\b", re.I)

_AMOUNT = r"(?P<cur>[$€£])\s?(?P<num>\d[\d,]*(?:\.\d+)?)\s?(?P<mult>k|m|thousand|million)?\b"
MONEY = re.compile(_AMOUNT, re.I)
# A limit the amount must stay within, or a threshold from which something applies, right before an amount.
UPPER = re.compile(r"(up to|below|under|less than|at most|no more than|not (?:to )?exceed|may not exceed|maximum(?: of)?|"
                   r"limit(?:ed)? (?:of|to)|within)\s+(?:a |an |the )?(?:single |total )?$", re.I)
LOWER = re.compile(r"(from|above|over|more than|at or above|exceeding|at least|starting at|of)\s+$", re.I)
LOWER_AFTER = re.compile(r"^\s*(or more|and above|or above|and over|or over)\b", re.I)


def money_value(match: re.Match) -> float:
    value = float(match.group("num").replace(",", ""))
    mult = (match.group("mult") or "").lower()
    return value * {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}.get(mult, 1)


def money_text(value: float, currency: str) -> str:
    return f"{currency}{value:,.0f}" if value == int(value) else f"{currency}{value:,.2f}"


@dataclass(frozen=True)
class Threshold:
    kind: str  # "upper": must stay within; "lower": applies from this amount
    value: float
    currency: str
    sentence: str


def thresholds(rules: str) -> list[Threshold]:
    """Money limits and thresholds in a rules text, each with the sentence that states it."""
    out = []
    for sentence in sentences(rules):
        for m in MONEY.finditer(sentence):
            before, after = sentence[: m.start()], sentence[m.end():]
            if UPPER.search(before):
                kind = "upper"
            elif LOWER.search(before) or LOWER_AFTER.match(after):
                kind = "lower"
            else:
                continue
            out.append(Threshold(kind, money_value(m), m.group("cur"), sentence))
    return out


def question_kind(question: str) -> str | None:
    """'permission' (can I…), 'requirement' (do I need…), or None for any other question."""
    if REQUIREMENT.search(question):
        return "requirement"
    if PERMISSION.search(question):
        return "permission"
    return None


VERDICTS = ("**Yes**", "**No**", "**It depends**")  # how a verdict line starts (the answer's first paragraph)


def verdict(question: str, rules: str) -> str | None:
    """A yes / no / it depends line for a can-I or do-I-need question, from the amounts in the rules."""
    kind = question_kind(question)
    if kind is None or not rules:
        return None
    asked = [money_value(m) for m in MONEY.finditer(question)]
    limits = thresholds(rules)
    if not asked or not limits:
        if limits:
            return f"**It depends** on the amount — {_lower_first(limits[0].sentence)}"
        why = first_sentences(rules)
        return f"**It depends** — {_lower_first(why)}" if why else None
    amount = asked[0]
    currency = limits[0].currency
    said = money_text(amount, currency)
    uppers = sorted({t.value for t in limits if t.kind == "upper"})
    lowers = sorted({t.value for t in limits if t.kind == "lower"})
    if kind == "permission":
        return _permission(amount, said, currency, limits, uppers, lowers)
    # requirement: "do I need X for $12,000?" -> does the rule's threshold apply at that amount?
    if lowers:
        reached = [v for v in lowers if amount >= v]
        if reached:
            return f"**Yes** — {said} is at or above the {money_text(reached[-1], currency)} threshold in our rules."
        return f"**No** — {said} is below the {money_text(lowers[0], currency)} threshold in our rules."
    return f"**It depends** — {_lower_first(limits[0].sentence)}"


def _permission(amount: float, said: str, currency: str, limits: list, uppers: list[float], lowers: list[float]) -> str:
    """Can I …? — no above a limit, it depends where a threshold is reached, else yes as far as the amount goes."""
    over = [v for v in uppers if amount > v]
    if over:
        return f"**No** — {said} is above the {money_text(over[0], currency)} limit in our rules."
    triggered = [t for t in limits if t.kind == "lower" and amount >= t.value]
    if triggered:
        return f"**It depends** — at {said}, {_lower_first(triggered[-1].sentence)}"
    if uppers:
        return (f"**Yes**, as far as the amount goes — {said} is within the {money_text(uppers[0], currency)} "
                "limit; the other conditions below still apply.")
    return f"**Yes**, as far as the amount goes — {said} is below the {money_text(lowers[0], currency)} threshold."


def _lower_first(sentence: str) -> str:
    """Let a rule sentence continue a line ("It depends — a single card purchase…"); keep names and acronyms."""
    first = sentence.split(" ", 1)[0]
    if first[:1].isupper() and (first[1:].islower() or first == "A") and first != "I":
        return sentence[:1].lower() + sentence[1:]
    return sentence


def direct_answer(summary: str, audience_section: str, question: str) -> str:
    """One or two sentences: what the term is, or what it means for the asker when we know who asks."""
    if audience_section and not DEFINITIONAL.search(question or ""):
        return first_sentences(audience_section)
    return summary


# ---- Numbers in a pasted text that differ from ours

UNIT_PATTERNS = {
    "days": re.compile(r"(?:net\s*(?P<net>\d{1,3})\b)|(?P<n>\d{1,3})(?:\s*|-)(?:calendar |working |business )?days?\b", re.I),
    "percent": re.compile(r"(?P<n>\d{1,2}(?:\.\d+)?)\s?(?:%|percent\b)", re.I),
}
BOUND_BEFORE = {
    "most": re.compile(r"\b(at most|up to|no more than|maximum|max\.?|longest)\b[^.;]{0,60}$", re.I),
    "least": re.compile(r"\b(at least|minimum|no less than|not less than)\b[^.;]{0,60}$", re.I),
}


@dataclass(frozen=True)
class Number:
    unit: str
    value: float
    start: int
    text: str


def numbers(text: str) -> list[Number]:
    out = []
    for unit, pattern in UNIT_PATTERNS.items():
        for m in pattern.finditer(text):
            raw = m.group("net") if unit == "days" and m.group("net") else m.group("n")
            out.append(Number(unit, float(raw), m.start(), m.group(0)))
    return sorted(out, key=lambda n: n.start)


def _num(value: float) -> str:
    return f"{value:g}"


def _bound(text_before: str) -> str | None:
    return next((k for k, p in BOUND_BEFORE.items() if p.search(text_before)), None)


def conflicts(text: str, at: int, rules: str, window: int = 250) -> list[tuple[str, str]]:
    """Where a number near a term in the text goes past the same kind of number in our rule.

    Returns (note, our sentence) pairs, e.g. ("the text says 120 days; we accept at most 90 days", …):
    a number of days (or a percentage) in the sentence that mentions the term (at most `window`
    characters either side) against our rule's number of that unit, preferring one stated as a
    bound ("at most", "at least"). A number within our bound, or equal to ours, is no conflict.
    """
    near = numbers(_sentence_around(text, at, window))
    ours_all = [(n, _bound(sentence[: n.start]), sentence) for sentence in sentences(rules) for n in numbers(sentence)]
    notes = []
    for unit in dict.fromkeys(n.unit for n in near):
        theirs = next(n for n in near if n.unit == unit)
        ours = [o for o in ours_all if o[0].unit == unit]
        if ours:
            note = _conflict_note(theirs, *next((o for o in ours if o[1]), ours[0]), unit)
            if note:
                notes.append(note)
    return notes


def _sentence_around(text: str, at: int, window: int) -> str:
    """The sentence (or line) of `text` around position `at`, at most `window` characters either side."""
    start = max(text.rfind(". ", 0, at), text.rfind("\n", 0, at), at - window) + 1
    stops = [i for i in (text.find(". ", at), text.find("\n", at)) if i != -1]
    return text[start:min(stops + [at + window])]


def _conflict_note(theirs, mine, bound: str | None, sentence: str, unit: str) -> tuple[str, str] | None:
    """(note, our sentence) when their number goes past ours; None when it is within our bound or equal."""
    if theirs.value == mine.value or (bound == "most" and theirs.value <= mine.value) or (
            bound == "least" and theirs.value >= mine.value):
        return None
    what = {"most": "we accept at most", "least": "we require at least"}.get(bound or "", "our rule says")
    suffix = "%" if unit == "percent" else " days"
    return f"the text says {_num(theirs.value)}{suffix}; {what} {_num(mine.value)}{suffix}", sentence
