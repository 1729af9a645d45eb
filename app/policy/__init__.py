"""Policy reasoning: the facts a question states -> the house rules that apply to that case."""

from app.policy.facts import Facts, continues_case, extract_facts, states_a_case
from app.policy.reason import Case, Requirement, assess

__all__ = ["Case", "Facts", "Requirement", "assess", "case_for", "continues_case", "extract_facts", "states_a_case"]


def case_for(question: str, *, previous: dict | None, glossary) -> Case | None:
    """Return the computed case for a question (a follow-up recomputes from the previous facts), or None."""
    if not glossary.policy.rules:
        return None
    facts = extract_facts(question)
    if previous and continues_case(question) and facts.stated():
        facts = facts.merged_onto(Facts.model_validate(previous))
    elif not states_a_case(question, facts):
        return None
    from app.glossary.loader import _money

    org = glossary.org
    return assess(facts, glossary.policy, money=lambda v: _money(v, org),
                  currency_code=org.get("company", {}).get("currency_code"))


def understood(case: Case, money, currency_code: str | None = None) -> str:
    """Say in a few words what the question was understood to state."""
    f = case.facts
    parts = []
    if f.amount is not None:
        shown = money(f.amount) if not f.currency or f.currency == currency_code else f"{f.amount:,.0f} {f.currency}"
        parts.append(("about " if f.approximate else "") + shown + {"year": " a year", "month": " a month"}.get(f.per or "", ""))
    if f.term_months:
        parts.append(f"{f.term_months // 12} years" if f.term_months % 12 == 0 and f.term_months > 12 else f"{f.term_months} months")
    parts += [w for w in (
        {"saas": "SaaS", "software": "software", "hardware": "hardware", "services": "services"}.get(f.kind or ""),
        {"none": "no data", "internal": "company data", "confidential": "confidential data", "personal": "personal data"}.get(f.data or ""),
        {"card": "purchasing card", "po": "purchase order"}.get(f.payment or ""),
        "renewal" if f.renewal else "new purchase" if f.renewal is False else None) if w]
    return ", ".join(parts)


def case_markdown(case: Case, composer) -> str:
    """Render the case block (template _case.md.j2) to Markdown, to stand before the answer."""
    from app.glossary.loader import _money

    org = composer.glossary.org
    money = lambda v: _money(v, org)  # noqa: E731
    conditional: dict[str, list[Requirement]] = {}
    for r in case.requirements:
        if r.condition:
            conditional.setdefault(r.condition, []).append(r)
    template = composer.env.get_template("_case.md.j2")
    markdown = template.render(case=case, applies=[r for r in case.requirements if not r.condition],
                               conditional=list(conditional.items()), understood=understood(case, money, org.get("company", {}).get("currency_code")),
                               term=composer.glossary.terms.__getitem__, url=composer.url_for)
    return markdown.strip() + "\n\n"
