"""Read the facts of a purchase from a question: amount, term, kind, data, payment route, renewal."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from app.glossary.policy import DataKind, Kind, Payment

Per = Literal["total", "year", "month"]

_CURRENCIES = {"$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "€": "EUR", "eur": "EUR", "euro": "EUR",
               "euros": "EUR", "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "chf": "CHF"}
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "mio": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
_NUMBER = r"\d{1,3}(?:[,\u00a0\u202f ]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_AMOUNT = re.compile(
    r"(?P<approx>\b(?:about|around|roughly|approximately|approx\.?|circa|some|nearly|almost)\s+|~\s*)?"
    r"(?P<pre>[$€£]\s?|\b(?:usd|eur|gbp|chf)\s?)?"
    r"(?P<num>" + _NUMBER + r")"
    r"(?:\s?(?P<mult>k|thousand|mn|mio|million|m|bn|billion)\b)?"
    r"(?:\s?(?P<post>usd|eur|gbp|chf|dollars?|euros?|pounds?)\b)?"
    r"(?P<per>\s*(?:a|per|/|each|every)\s*(?:year|yr|annum|month|mo)\b|\s+(?:annually|yearly|monthly)\b)?",
    re.I,
)
_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "twelve": 12, "eighteen": 18, "twenty-four": 24, "thirty-six": 36, "a": 1, "an": 1}
_TERM = re.compile(
    r"\b(?P<n>\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|twelve|eighteen|twenty-four|thirty-six)"
    r"[\s-](?P<unit>years?|yrs?|months?)(?![\s-]+(?:ago|old|ahead|before|earlier|in advance|of notice|notice)\b)", re.I)
_PER_ELSEWHERE = re.compile(r"\b(?:(?:a|per|each|every) (?P<y>year|month)|(?P<ly>annually|yearly|monthly))\b", re.I)
_KINDS: list[tuple[str, re.Pattern]] = [
    ("saas", re.compile(r"\b(saas|software[- ]as[- ]a[- ]service|cloud (?:software|service|tool|app)|hosted|web[- ]based|"
                        r"online (?:tool|service|platform)|subscription)\b", re.I)),
    ("hardware", re.compile(r"\b(hardware|laptops?|servers?|desktops?|monitors?|phones?|tablets?|printers?|devices?|"
                            r"equipment|switch(?:es)?|routers?)\b", re.I)),
    ("services", re.compile(r"\b(services?|consult\w*|contractors?|agency|implementation|training|freelancers?|"
                            r"outsourc\w*|integrator)\b", re.I)),
    ("software", re.compile(r"\b(software|licen[cs]es?|tool|app|application|platform|program)\b", re.I)),
]
_NO_DATA = re.compile(r"\b(no|without|not? (?:hold|store|touch|process)\w* any|won'?t (?:hold|store|touch|process) any)"
                      r" (?:company |customer )?data\b|\bno data\b", re.I)
_NO_PERSONAL = re.compile(r"\b(no|without|not? any) personal (?:data|information)\b", re.I)
_PERSONAL = re.compile(r"\b(personal (?:data|information|details)|pii|customer (?:data|records|details|contacts)|"
                       r"employee (?:data|records)|hr data|patient data|candidate data|names and (?:e-?mails|addresses)|"
                       r"health data|payroll data)\b", re.I)
_CONFIDENTIAL = re.compile(r"\b(confidential|sensitive|financial data|source code|trade secrets?|board papers)\b", re.I)
_INTERNAL = re.compile(r"\b(company data|internal data|our data|business data|company documents|our files)\b", re.I)
_CARD = re.compile(r"\b(on (?:my|our|a|the) (?:company |corporate |credit |purchasing )?card|credit card|company card|"
                   r"corporate card|p-?card|purchasing card|expense (?:it|claim)|pay by card|with my card)\b", re.I)
_PO = re.compile(r"\b(purchase order|\bPO\b|invoice us|on invoice|requisition)\b")
_RENEWAL = re.compile(r"\b(renew\w*|extend(?:ing)? (?:the|our|my) (?:contract|subscription|licen[cs]e)|auto-?renew\w*|"
                      r"roll(?:s|ing)? over)\b", re.I)
_NEW = re.compile(r"\b(new (?:tool|supplier|vendor|contract|purchase|system)|first time)\b", re.I)
_BUYING = re.compile(r"\b(buy\w*|purchas\w*|procur\w*|sign\w*|subscrib\w*|order\w*|acquir\w*|renew\w*|"
                     r"need to get|want to get|get a quote|spend\w*|pay(?:ing)? for|contract with)\b", re.I)


class Facts(BaseModel):
    """What a question says about a purchase; None where it says nothing."""

    amount: float | None = Field(None, description="The amount as stated, in `currency`.")
    currency: str | None = Field(None, description="ISO code of the stated currency (USD, EUR, …), null if none was given.")
    per: Per | None = Field(None, description="Whether the amount is a total, per year or per month.")
    approximate: bool = Field(False, description="The asker said 'about' (near a boundary the exact value decides).")
    term_months: int | None = Field(None, description="The contract term in months.")
    kind: Kind | None = Field(None, description="What is bought: saas, software, hardware or services.")
    data: DataKind | None = Field(None, description="The most sensitive data it will hold: none, internal, confidential, personal.")
    payment: Payment | None = Field(None, description="card (purchasing card) or po (requisition and purchase order).")
    renewal: bool | None = Field(None, description="True when renewing an existing contract.")

    def stated(self) -> bool:
        """True when the question states anything at all."""
        return any(v not in (None, False) for v in self.model_dump().values())

    def merged_onto(self, previous: "Facts") -> "Facts":
        """These facts over the previous turn's: what is restated wins, the rest carries over."""
        data = previous.model_dump()
        for key, value in self.model_dump().items():
            if value is not None and value is not False:
                data[key] = value
        if self.amount is not None:
            data["approximate"] = self.approximate
            data["currency"] = self.currency or previous.currency
        return Facts(**data)


def _amount(question: str) -> tuple[float, str | None, Per | None, bool] | None:
    """The first amount of money the question states: value, currency code, period, and whether approximate."""
    for m in _AMOUNT.finditer(question):
        pre, mult, post = m.group("pre"), m.group("mult"), m.group("post")
        if not _is_money(pre, mult, post):
            continue
        number = float(re.sub(r"[,\u00a0\u202f ]", "", m.group("num")))
        number *= _MULTIPLIERS.get((mult or "").lower(), 1)
        code = (pre or post or "").strip().lower()
        currency = _CURRENCIES.get(code) or _CURRENCIES.get(code.rstrip("s")) if code else None
        return number, currency, _per(m.group("per"), question), bool(m.group("approx"))
    return None


def _is_money(pre: str | None, mult: str | None, post: str | None) -> bool:
    """True when a matched number is an amount: it has a currency, or a multiplier only money takes."""
    if mult and mult.lower() == "m" and not (pre or post):
        return False  # "5 m" is as likely metres as millions without a currency
    # a bare number ("25 licences", "3 years") is not an amount
    return bool(pre or post or (mult and mult.lower() in ("thousand", "million", "billion", "k")))


def _per(per_text: str | None, question: str) -> Per | None:
    """The period of an amount: the one written after it, else one stated elsewhere in the question."""
    per_text = (per_text or "").lower()
    if not per_text and (elsewhere := _PER_ELSEWHERE.search(question)):
        per_text = (elsewhere.group("y") or elsewhere.group("ly")).lower()  # "$30,000 of software a year"
    return "month" if re.search(r"month|\bmo\b", per_text) else "year" if per_text else None


def _term_months(question: str) -> int | None:
    months = []
    for m in _TERM.finditer(question):
        if "notice" in question[max(0, m.start() - 24) : m.start()].lower():
            continue  # "a notice period of 6 months" is no contract term
        n = m.group("n").lower()
        count = int(n) if n.isdigit() else _WORD_NUMBERS[n]
        months.append(count * 12 if m.group("unit").lower().startswith("y") else count)
    return max(months) if months else None


def _data(question: str) -> DataKind | None:
    if _PERSONAL.search(question) and not _NO_PERSONAL.search(question):
        return "personal"
    if _CONFIDENTIAL.search(question):
        return "confidential"
    if _NO_DATA.search(question):
        return "none"
    if _NO_PERSONAL.search(question) or _INTERNAL.search(question):
        return "internal"
    return None


def extract_facts(question: str) -> Facts:
    """Read every fact the question states; leave the rest None."""
    found = _amount(question)
    amount, currency, per, approximate = found if found else (None, None, None, False)
    kind = next((k for k, pattern in _KINDS if pattern.search(question)), None)
    payment = "card" if _CARD.search(question) else "po" if _PO.search(question) else None
    renewal = True if _RENEWAL.search(question) else False if _NEW.search(question) else None
    return Facts(amount=amount, currency=currency, per=per, approximate=approximate, term_months=_term_months(question),
                 kind=kind, data=_data(question), payment=payment, renewal=renewal)


def states_a_case(question: str, facts: Facts) -> bool:
    """True when the question describes a purchase of its own, not only names a concept ("What is SaaS?")."""
    if facts.amount is not None or facts.term_months is not None or facts.payment == "card":
        return True
    return bool(_BUYING.search(question)) and (facts.kind is not None or facts.data is not None)


_FOLLOW_UP = re.compile(r"^\s*(?:and|but|so|ok|okay|what|how about|then)\b|\b(?:instead|what if|and if|if it(?:'s| is| were))\b", re.I)


def continues_case(question: str) -> bool:
    """True for a short follow-up that changes one fact of the previous case ("and if it's $120k?")."""
    return bool(_FOLLOW_UP.search(question)) and len(question.split()) <= 14
