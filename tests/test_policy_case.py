"""'For your case': facts read from questions, the rules they trigger on the shipped policy, and org edits followed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from app.glossary import load_glossary
from app.policy import case_for, extract_facts
from tests.conftest import SHIPPED_GLOSSARY

GLOSSARY = load_glossary(SHIPPED_GLOSSARY).glossary

APPROVERS = {"approve-budget-owner", "approve-department-head", "approve-finance-director", "approve-cfo", "approve-board"}
COMPETITION = {"quotes-one", "quotes-three", "tender-rfp"}


def applied(question: str, previous: dict | None = None, glossary=GLOSSARY) -> set[str]:
    case = case_for(question, previous=previous, glossary=glossary)
    assert case is not None, f"no case for {question!r}"
    return {r.rule for r in case.requirements if r.condition is None}


def conditional(question: str) -> dict[str, str]:
    case = case_for(question, previous=None, glossary=GLOSSARY)
    return {r.rule: r.condition for r in case.requirements if r.condition}


# (question, facts it must read, rules that must apply, rules that must not apply)
CASES = [
    # Bands and their exact boundaries (totals over the term, new purchases through a PO).
    ("We need to buy $9,999 of software", {"amount": 9999}, {"quotes-one", "approve-budget-owner"}, {"quotes-three", "legal-review"}),
    ("We need to buy $10,000 of software", {"amount": 10000}, {"quotes-three", "approve-department-head"}, {"quotes-one", "approve-budget-owner"}),
    ("Buying a tool for $10,001", {"amount": 10001}, {"quotes-three", "approve-department-head"}, {"quotes-one"}),
    ("Buying a $49,999 platform", {"amount": 49999}, {"approve-department-head", "legal-nonstandard"}, {"legal-review", "approve-finance-director"}),
    ("Buying a $50,000 platform", {"amount": 50000}, {"approve-finance-director", "legal-review"}, {"approve-department-head", "legal-nonstandard"}),
    ("We are buying software for $99,999", {"amount": 99999}, {"quotes-three", "approve-finance-director"}, {"tender-rfp", "exit-plan"}),
    ("We are buying software for $100,000", {"amount": 100000}, {"tender-rfp", "exit-plan"}, {"quotes-three"}),
    ("Purchase worth $249,999 of hardware", {"amount": 249999, "kind": "hardware"}, {"approve-finance-director", "capex"}, {"approve-cfo"}),
    ("Purchase worth $250,000 of hardware", {"amount": 250000}, {"approve-cfo"}, {"approve-finance-director"}),
    ("We are buying a $1,999,999 platform", {"amount": 1999999}, {"approve-cfo"}, {"approve-board"}),
    ("We are buying a $2,000,000 platform", {"amount": 2000000}, {"approve-board"}, {"approve-cfo"}),
    ("We are buying a $2,000,001 platform", {"amount": 2000001}, {"approve-board"}, {"approve-cfo"}),
    ("We want to buy a $0 tool", {"amount": 0}, {"quotes-one", "approve-budget-owner"}, set()),
    # Number and currency formats.
    ("I need to buy a $30k software tool, how many quotes do I need?", {"amount": 30000, "currency": "USD", "kind": "software"},
     {"quotes-three", "approve-department-head", "security-review", "sign-contracts"}, {"legal-review"}),
    ("We want to buy 30,000 EUR of consulting services", {"amount": 30000, "currency": "EUR", "kind": "services"},
     {"quotes-three", "insurance-minimums"}, {"sso-mfa"}),
    ("We want to buy consulting worth about 30 thousand", {"amount": 30000, "approximate": True}, {"quotes-three"}, set()),
    ("Buying an ERP for $1.2m", {"amount": 1200000}, {"tender-rfp", "approve-cfo", "legal-review"}, {"approve-board"}),
    ("Buying an ERP for $2.5 million", {"amount": 2500000}, {"approve-board"}, {"approve-cfo"}),
    ("A USD 45,500 order for laptops", {"amount": 45500, "currency": "USD", "kind": "hardware"}, {"quotes-three", "capex"}, set()),
    ("A purchase of €120k for a platform", {"amount": 120000, "currency": "EUR"}, {"tender-rfp"}, set()),
    ("A purchase of 75000 dollars for a platform", {"amount": 75000, "currency": "USD"}, {"approve-finance-director"}, set()),
    ("We will spend £8,000 on training", {"amount": 8000, "currency": "GBP", "kind": "services"}, {"quotes-one"}, set()),
    ("Buying $12.5k of monitors", {"amount": 12500, "kind": "hardware"}, {"quotes-three"}, set()),
    # Multi-year terms: per-year amounts are multiplied out; long terms need the CFO.
    ("A SaaS CRM with customer data for 3 years at $40,000 a year", {"term_months": 36, "per": "year", "kind": "saas", "data": "personal"},
     {"tender-rfp", "approve-finance-director", "dpa", "dpia", "data-residency", "saas-accounting"}, {"quotes-three"}),
    ("Subscription of $30k per year, 36 months", {"amount": 30000, "per": "year", "term_months": 36}, {"approve-finance-director", "legal-review"}, set()),
    ("A $2,000 a month service for 24 months", {"per": "month", "term_months": 24}, {"approve-department-head", "quotes-three"}, set()),
    ("We want to sign a five-year deal for $60,000", {"term_months": 60}, {"approve-long-term", "approve-finance-director"}, set()),
    ("We want to sign a 3 year deal for $60,000", {"term_months": 36}, {"approve-finance-director"}, {"approve-long-term"}),
    ("We want to sign a 37 month deal for $60,000", {"term_months": 37}, {"approve-long-term"}, set()),
    ("$9,000 a year for 2 years of software", {"per": "year", "term_months": 24}, {"quotes-three", "approve-department-head"}, {"quotes-one"}),
    # Payment route.
    ("Can I buy a $1,200 tool on my card?", {"payment": "card"}, {"card-limit", "card-software"}, APPROVERS | {"po-first"}),
    ("Can I put a $2,500 order on my card?", {"amount": 2500, "payment": "card"}, {"card-limit"}, {"card-over-limit"}),
    ("Can I put a $2,501 order on my card?", {"amount": 2501, "payment": "card"}, {"card-over-limit"}, {"card-limit"}),
    ("Can I expense it? It's a $4,000 laptop", {"payment": "card", "kind": "hardware"}, {"card-over-limit"}, {"card-software"}),
    # Data.
    ("We're buying a $20k SaaS tool that will hold personal data", {"data": "personal"}, {"dpa", "dpia", "data-residency", "security-review", "sso-mfa"}, set()),
    ("We're buying a $20k tool that holds no data", {"data": "none"}, {"security-review"}, {"dpa", "data-residency", "sso-mfa"}),
    ("We're buying $20k of software holding confidential financial data", {"data": "confidential"}, {"vendor-evidence", "data-residency"}, {"dpa"}),
    ("Buying a $15,000 tool with no personal data", {"data": "internal"}, {"sso-mfa", "security-review"}, {"dpa", "dpia"}),
    # Renewals.
    ("We're renewing our $30k a year subscription", {"renewal": True, "per": "year"},
     {"renewal-reminder", "renewal-confirm", "notice-by-procurement", "renewal-cap", "renewal-competition"}, COMPETITION),
    ("Renewal of a $20,000 a year contract", {"renewal": True}, {"renewal-reminder", "renewal-cap"}, {"renewal-confirm"}),
    ("Renewing a $9,000 licence", {"renewal": True}, {"renewal-reminder"}, {"renewal-competition", "renewal-confirm"}),
    ("We are renewing our $1.2m ERP contract for 36 months, it holds personal data", {"renewal": True, "term_months": 36},
     {"renewal-competition", "approve-cfo", "dpa", "renewal-confirm"}, {"tender-rfp"}),
    # Missing facts: a kind or data alone, with a buying verb.
    ("We want to buy a SaaS tool for the team", {"kind": "saas"}, {"sign-contracts", "saas-accounting", "security-review"}, APPROVERS),
]


@pytest.mark.parametrize("question,facts,present,absent", CASES, ids=[c[0][:48] for c in CASES])
def test_case_table(question, facts, present, absent):
    case = case_for(question, previous=None, glossary=GLOSSARY)
    assert case is not None
    read = case.facts.model_dump()
    assert {k: read[k] for k in facts} == facts
    rules = {r.rule for r in case.requirements if r.condition is None}
    assert present <= rules, sorted(present - rules)
    assert not (absent & rules), sorted(absent & rules)


def test_table_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("question", [
    "What is SaaS?", "What does a purchase order mean?", "Explain the three-quote rule", "What is personal data?",
    "How does auto-renewal work?", "Our telecom contract says we must give notice six months ahead", "99.9% uptime, is that good?",
])
def test_no_case_without_facts(question):
    assert case_for(question, previous=None, glossary=GLOSSARY) is None


def test_missing_amount_is_asked_for_and_missing_data_is_conditional():
    case = case_for("We want to buy a SaaS tool for the team", previous=None, glossary=GLOSSARY)
    assert any("total value" in q for q in case.questions)
    conditions = {r.rule: r.condition for r in case.requirements if r.condition}
    assert conditions["dpa"] == "if it will hold personal data"
    assert conditions["data-residency"] == "if it will hold confidential data or personal data"
    assert conditional("Buying a $15k thing")["sso-mfa"] == "if it is SaaS or software and it will hold any company data"


def test_assumptions_name_what_was_not_stated():
    case = case_for("Buying $30,000 of software a year", previous=None, glossary=GLOSSARY)
    text = " ".join(case.assumptions)
    assert "one-year term" in text and "purchase order" in text and "new purchase" in text
    eur = case_for("Buying 30,000 EUR of software", previous=None, glossary=GLOSSARY)
    assert any("EUR" in a and "USD" in a for a in eur.assumptions)


def test_follow_up_recomputes_from_the_previous_facts():
    first = case_for("I need to buy a $30k software tool that holds customer data", previous=None, glossary=GLOSSARY)
    assert "quotes-three" in {r.rule for r in first.requirements}
    previous = first.facts.model_dump()
    follow = case_for("and if it's $120k?", previous=previous, glossary=GLOSSARY)
    assert follow.facts.amount == 120000 and follow.facts.kind == "software" and follow.facts.data == "personal"
    rules = {r.rule for r in follow.requirements if r.condition is None}
    assert {"tender-rfp", "approve-finance-director", "legal-review", "dpa"} <= rules and "quotes-three" not in rules
    card = case_for("what if I put it on my card?", previous=previous, glossary=GLOSSARY)
    assert "card-over-limit" in {r.rule for r in card.requirements}


@pytest.mark.parametrize("text,amount,per", [
    ("$30k", 30000, None), ("30,000 EUR", 30000, None), ("about 30 thousand", 30000, None), ("$1.2m", 1200000, None),
    ("€ 5,000 per month", 5000, "month"), ("USD 7500 annually", 7500, "year"), ("$40,000/year", 40000, "year"),
    ("25 licences", None, None), ("3 years", None, None), ("99.9% uptime", None, None),
])
def test_amount_formats(text, amount, per):
    facts = extract_facts(f"We buy {text}")
    assert facts.amount == amount and facts.per == per


def test_computed_answers_follow_the_org_values(tmp_path: Path):
    copy = tmp_path / "glossary"
    shutil.copytree(SHIPPED_GLOSSARY, copy)
    org_path = copy / "org.yaml"
    org = yaml.safe_load(org_path.read_text())
    org["company"]["currency"] = "€"
    org["company"]["currency_code"] = "EUR"
    org["thresholds"]["three_quotes"] = 20000
    org["thresholds"]["legal_review"] = 25000
    org["approvals"]["department_head_below"] = 30000
    org["approvals"]["finance_director_below"] = 500000
    org["security"]["review_lead_time_days"] = 1
    org_path.write_text(yaml.safe_dump(org, allow_unicode=True))
    result = load_glossary(copy)
    assert result.ok(), result.errors
    edited = result.glossary
    question = "I need to buy a €15k software tool"
    assert "quotes-three" in applied(question) and "quotes-one" in applied(question, glossary=edited)
    thirty = applied("We buy €30,000 of software", glossary=edited)
    assert "approve-finance-director" in thirty and "legal-review" in thirty  # moved bands, both from the org file
    assert "approve-department-head" in applied("We buy €30,000 of software")
    # A two-year commitment of €300k is now under the finance director, so the multi-year rule adds the CFO.
    two_years = applied("A two-year deal of €300,000 for software", glossary=edited)
    assert {"approve-finance-director", "approve-multi-year"} <= two_years
    review = next(r for r in case_for(question, previous=None, glossary=edited).requirements if r.rule == "security-review")
    assert "1 working day," in review.text  # singular now, from the plural filter
    assert "€20,000" in edited.policy.rules["quotes-three"].text
    assert "€20,000" in edited.terms["quote"].section("rules")  # term pages follow too
    assert "$10,000" not in edited.terms["quote"].section("rules")


def test_api_answer_carries_the_case_before_the_definition(shipped_client):
    body = shipped_client.post("/api/ask", json={"question": "I need to buy a $30k software tool, how many quotes do I need?"}).json()
    case = body["case"]
    assert case["facts"]["amount"] == 30000 and case["facts"]["total"] == 30000 and case["facts"]["kind"] == "software"
    first = case["requirements"][0]
    assert first["rule"] == "quotes-three" and first["term"]["slug"] == "three-quote-rule" and first["term"]["url"]
    markdown = body["answer_markdown"]
    assert markdown.startswith("**For your case** ($30,000, software):")
    assert "Three written quotes" in markdown and "(/terms/three-quote-rule)" in markdown
    assert markdown.index("For your case") < markdown.index("Our rules")
    assert "<strong>For your case</strong>" in body["answer_html"]
    # The follow-up recomputes from the stored facts of the previous turn (database conversation store).
    follow = shipped_client.post("/api/ask", json={"question": "and if it's $120k?", "conversation_id": body["conversation_id"]}).json()
    assert follow["case"]["facts"]["amount"] == 120000 and follow["case"]["facts"]["kind"] == "software"
    rules = [r["rule"] for r in follow["case"]["requirements"] if "condition" not in r]
    assert "tender-rfp" in rules and "approve-finance-director" in rules and "quotes-three" not in rules


def test_api_answer_has_no_case_without_facts(shipped_client):
    body = shipped_client.post("/api/ask", json={"question": "What is a purchase order?"}).json()
    assert "case" not in body and not body["answer_markdown"].startswith("**For your case**")


def test_case_is_documented_in_the_openapi_schema(shipped_client):
    schema = shipped_client.get("/openapi.json").json()["components"]["schemas"]
    assert "case" in schema["AskResponse"]["properties"]
    assert schema["CaseRequirement"]["properties"]["rule"]["description"]
    assert schema["CaseFacts"]["properties"]["total"]["description"]
