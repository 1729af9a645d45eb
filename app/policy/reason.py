"""From the facts of a case to the policy rules that apply, computed from the org values (no LLM)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.glossary.loader import plural
from app.glossary.policy import Conditions, Policy, Rule
from app.policy.facts import Facts

# Shown one by one when the value is unknown and few rules depend on it; beyond that we ask for it.
MAX_AMOUNT_CONDITIONALS = 2


class Requirement(BaseModel):
    rule: str = Field(description="Id of the policy rule (glossary/policy.yaml).")
    text: str = Field(description="What the rule means for this case.")
    term: str = Field(description="Slug of the term the rule belongs to.")
    condition: str | None = Field(None, description="Set when it applies only if an unstated fact holds, e.g. 'if it will hold personal data'.")


class Case(BaseModel):
    """The facts understood, the rules they trigger, and what we assumed or need to know."""

    facts: Facts
    total: float | None = Field(None, description="Total value over the whole term in the stated currency, when known.")
    requirements: list[Requirement] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)


class _View:
    """The facts as the conditions read them, with defaults for what a case usually means."""

    def __init__(self, facts: Facts, assumptions: list[str], money) -> None:
        self.facts = facts
        months = facts.term_months
        self.total = self.annual = None
        if facts.amount is not None:
            if facts.per in ("year", "month"):
                yearly = facts.amount * (12 if facts.per == "month" else 1)
                self.annual = yearly
                if months is None:
                    assumptions.append(f"A one-year term, so {money(yearly)} in total; a longer term multiplies it.")
                    months_for_total = 12
                else:
                    months_for_total = months
                self.total = yearly * months_for_total / 12
                if months is not None:
                    assumptions.append(f"{money(self.total)} in total over {plural(months, 'month')}.")
            else:
                self.total = facts.amount
                self.annual = facts.amount * 12 / months if months and months > 12 else facts.amount
        self.values = {
            "term_months": float(months) if months is not None else None,
            "term_years": months / 12 if months is not None else None,
            "kind": facts.kind, "data": facts.data,
            "payment": facts.payment or "po",
            "renewal": facts.renewal if facts.renewal is not None else False,
        }
        if facts.payment is None:
            assumptions.append("Bought through a requisition and purchase order, not on a purchasing card.")
        if facts.renewal is None:
            assumptions.append("A new purchase, not the renewal of an existing contract.")


def _in_band(value: float, band: dict[str, float]) -> bool:
    return (("from" not in band or value >= band["from"]) and ("above" not in band or value > band["above"])
            and ("below" not in band or value < band["below"]) and ("up_to" not in band or value <= band["up_to"]))


def _evaluate(when: Conditions, bands: dict[str, dict[str, float]], any_of_bands, view: _View) -> tuple[bool | None, list]:
    """Return True/False, or None with the unknown conditions as (name, detail) pairs."""
    verdicts, unknown = _evaluate_bands(when, bands, view)
    word_verdicts, word_unknown = _evaluate_words(when, view)
    verdicts += word_verdicts
    unknown += word_unknown
    if when.renewal is not None:
        verdicts.append(view.values["renewal"] == when.renewal)
    if when.any_of:
        verdict, alt_unknown = _evaluate_any_of(when.any_of, any_of_bands, view)
        if verdict is None:
            unknown.append(("any_of", alt_unknown))
        else:
            verdicts.append(verdict)
    if False in verdicts:
        return False, []
    return (None, unknown) if unknown else (True, [])


def _evaluate_bands(when: Conditions, bands: dict[str, dict[str, float]], view: _View) -> tuple[list[bool], list]:
    """Check the numeric conditions (amount, term): a verdict for each known value, the unknown ones listed."""
    unknown: list = []
    verdicts: list[bool] = []
    for name in ("amount", "term_months", "term_years"):
        if getattr(when, name) is None:
            continue
        number: float | None
        if name == "amount":
            number = view.annual if when.amount is not None and when.amount.basis == "annual" else view.total
        else:
            stated = view.values[name]
            number = float(stated) if isinstance(stated, (int, float)) else None
        if number is None:
            unknown.append((name, (getattr(when, name), bands.get(name, {}))))
        else:
            verdicts.append(_in_band(number, bands.get(name, {})))
    return verdicts, unknown


def _evaluate_words(when: Conditions, view: _View) -> tuple[list[bool], list]:
    """Check the word conditions (kind, data, payment route): a verdict for each known value, the unknown ones listed."""
    unknown: list = []
    verdicts: list[bool] = []
    for name in ("kind", "data", "payment"):
        allowed = getattr(when, name)
        if allowed is None:
            continue
        value = view.values[name]  # a word here (kind, data, payment route), not a number
        if value is None:
            unknown.append((name, allowed))
        else:
            verdicts.append(value in allowed)
    return verdicts, unknown


def _evaluate_any_of(alternatives: list[Conditions], any_of_bands, view: _View) -> tuple[bool | None, list]:
    """True when any alternative holds, False when all fail, else None with the alternatives' unknown conditions."""
    results = [_evaluate(alt, bands_, [], view) for alt, bands_ in zip(alternatives, any_of_bands)]
    if any(r is True for r, _ in results):
        return True, []
    if all(r is False for r, _ in results):
        return False, []
    return None, [u for r, us in results if r is None for u in us]


_DATA_WORDS = {"internal": "company data", "confidential": "confidential data", "personal": "personal data", "none": "no data"}
_KIND_WORDS = {"saas": "SaaS", "software": "software", "hardware": "hardware", "services": "a service"}


def _phrase(unknown: list, money) -> str:
    """Turn unknown conditions into words: 'if it will hold personal data'."""
    parts = []
    for name, detail in unknown:
        if name == "data":
            held = [d for d in ("internal", "confidential", "personal") if d in detail]
            parts.append("if it will hold " + ("any company data" if "internal" in held else " or ".join(_DATA_WORDS[d] for d in held)))
        elif name == "kind":
            parts.append("if it is " + " or ".join(_KIND_WORDS[k] for k in detail))
        elif name == "payment":
            parts.append("if it goes on a purchasing card" if detail == ["card"] else "if it goes through a purchase order")
        elif name == "amount":
            parts.append("if it " + _band_words(detail[1], money, "costs"))
        elif name in ("term_months", "term_years"):
            unit = "month" if name == "term_months" else "year"
            parts.append("if the term " + _band_words(detail[1], lambda v, unit=unit: plural(v, unit), "runs"))
        elif name == "any_of":
            parts.append("if " + " or ".join(_phrase([u], money).removeprefix("if ") for u in detail))
    return " and ".join(parts).replace(" and if ", " and ")


def _band_words(band: dict[str, float], fmt, verb: str) -> str:
    words = []
    if "from" in band:
        words.append(f"{fmt(band['from'])} or more")
    if "above" in band:
        words.append(f"more than {fmt(band['above'])}")
    if "below" in band:
        words.append(f"less than {fmt(band['below'])}")
    if "up_to" in band:
        words.append(f"at most {fmt(band['up_to'])}")
    return f"{verb} " + " and ".join(words)


def assess(facts: Facts, policy: Policy, *, money, currency_code: str | None = None) -> Case:
    """Work out which rules apply to the case, which apply only if an unstated fact holds, and what to ask."""
    assumptions: list[str] = []
    questions: list[str] = []
    view = _View(facts, assumptions, money)
    assumptions += _caveats(facts, currency_code)
    applied, pending = _triage(policy, view)
    requirements = [Requirement(rule=r.id, text=r.case, term=r.term) for r in applied.values()
                    if not any(u in applied for u in r.unless)]
    on_amount = [(r, u) for r, u in pending if any(name == "amount" for name, _ in u)]
    if view.total is None and len(on_amount) > MAX_AMOUNT_CONDITIONALS:
        questions.append("What is the total value over the whole term, excluding tax? Quotes, approvals and "
                         "reviews depend on it.")
        pending = [(r, u) for r, u in pending if (r, u) not in on_amount]
    for rule, unknown in pending:
        if any(u in applied for u in rule.unless):
            continue
        requirements.append(Requirement(rule=rule.id, text=rule.case, term=rule.term, condition=_phrase(unknown, money)))
    if facts.kind is None and any(r.condition and "if it is" in r.condition for r in requirements):
        questions.append("What are you buying: SaaS, installed software, hardware or services?")
    return Case(facts=facts, total=view.total, requirements=requirements, assumptions=assumptions, questions=questions)


def _caveats(facts: Facts, currency_code: str | None) -> list[str]:
    """The caveats on the stated amount: a foreign currency compared as stated, an approximate value."""
    caveats = []
    if facts.currency and currency_code and facts.currency != currency_code:
        caveats.append(f"The amount is in {facts.currency} and our thresholds in {currency_code}: it is compared as "
                       f"stated, so convert it at today's rate if it is close to a threshold.")
    if facts.approximate:
        caveats.append("The value is approximate: near a threshold, the exact total over the term decides.")
    return caveats


def _triage(policy: Policy, view: _View) -> tuple[dict[str, Rule], list[tuple[Rule, list]]]:
    """Sort the rules with a case sentence into those that apply and those that hinge on unknown facts."""
    applied: dict[str, Rule] = {}
    pending: list[tuple[Rule, list]] = []
    for rule in policy.rules.values():
        if not rule.case:
            continue
        verdict, unknown = _evaluate(rule.when, rule.bands, rule.any_of_bands, view)
        if verdict:
            applied[rule.id] = rule
        elif verdict is None:
            pending.append((rule, unknown))
    return applied, pending
