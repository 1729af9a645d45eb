"""The policy file: loader checks (each with a fixture error, reported with file, line and field) and its content."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from app.cli import cli
from app.glossary import load_glossary
from app.glossary.loader import capitalize_first, plural
from app.policy import case_for
from tests.conftest import SHIPPED_GLOSSARY

POLICY = """\
rules:
  - id: quotes-three
    term: purchase-order
    owner: Procurement
    when:
      amount: {from: org.thresholds.three_quotes, below: org.thresholds.competitive_tender}
    text: >-
      From {{ org.thresholds.three_quotes | money }} and below
      {{ org.thresholds.competitive_tender | money }}, three written quotes.
    case: Three written quotes.
  - id: tender
    term: purchase-order
    owner: Procurement
    when:
      amount: {from: org.thresholds.competitive_tender}
    text: From {{ org.thresholds.competitive_tender | money }}, a tender.
    case: A tender.
"""
OLD_RULES = ("Orders from {{ org.thresholds.three_quotes | money }} need three quotes; from "
             "{{ org.thresholds.competitive_tender | money }} a tender.")


def with_policy(glossary: Path, policy: str = POLICY, rules: str = "{{ rule('quotes-three') }} {{ rule('tender') }}") -> Path:
    (glossary / "policy.yaml").write_text(policy)
    po = glossary / "terms" / "purchase-order.md"
    po.write_text(po.read_text().replace(OLD_RULES, rules))
    tail = glossary / "terms" / "tail-spend.md"  # its threshold is now stated by a rule
    tail.write_text(tail.read_text().replace("under {{ org.thresholds.three_quotes | money }}", "below the three-quote threshold"))
    return glossary


def problems(glossary: Path, severity: str = "error") -> list[str]:
    return [str(p) for p in load_glossary(glossary).problems if p.severity == severity]


def test_cited_rules_render_into_the_section(fixture_glossary):
    result = load_glossary(with_policy(fixture_glossary))
    assert result.ok(), result.problems
    po = result.glossary.terms["purchase-order"]
    assert po.rules == ["quotes-three", "tender"]
    assert po.section("rules") == "From €5,000 and below €50,000, three written quotes. From €50,000, a tender."
    assert result.glossary.policy.rules["quotes-three"].bands["amount"] == {"from": 5000.0, "below": 50000.0}


def test_unknown_rule_id(fixture_glossary):
    with_policy(fixture_glossary, rules="{{ rule('quotes-three') }} {{ rule('tender') }} {{ rule('no-such-rule') }}")
    assert any(re.match(r"glossary/terms/purchase-order\.md:\d+: error: section Our rules: unknown rule id 'no-such-rule'", e)
               for e in problems(fixture_glossary)), problems(fixture_glossary)


def test_rule_no_term_cites(fixture_glossary):
    with_policy(fixture_glossary, rules="{{ rule('quotes-three') }}")
    warnings = problems(fixture_glossary, "warning")
    assert any(w.startswith("glossary/policy.yaml:11: warning: rules[tender]: no term cites this rule") for w in warnings), warnings


def test_value_of_a_rule_typed_outside_it(fixture_glossary):
    with_policy(fixture_glossary, rules="{{ rule('quotes-three') }} {{ rule('tender') }} Tenders start at "
                                         "{{ org.thresholds.competitive_tender | money }}.")
    errors = problems(fixture_glossary)
    assert any("section Our rules: {{ org.thresholds.competitive_tender | money }} states a value of the policy outside a rule; "
               "cite the rule instead: {{ rule('quotes-three') }}, {{ rule('tender') }}" in e for e in errors), errors


def test_threshold_typed_literally(fixture_glossary):
    with_policy(fixture_glossary, rules="{{ rule('quotes-three') }} {{ rule('tender') }} Above €50,000 ask us.")
    assert any("'€50,000' types the amount €50,000 literally" in e for e in problems(fixture_glossary))
    sow = fixture_glossary / "terms" / "statement-of-work.md"
    text = sow.read_text()
    sow.write_text(text.replace("## Our rules", "## For IT\nTenders start at €50k.\n\n## Our rules", 1) if "## For IT" not in text
                   else re.sub(r"(## For IT\n)", r"\1Tenders start at €50k. ", text, count=1))
    assert any("statement-of-work.md" in w and "'€50k' types the amount" in w for w in problems(fixture_glossary, "warning"))


def test_lead_time_typed_literally(fixture_glossary):
    org = fixture_glossary / "org.yaml"
    org.write_text(org.read_text() + "security:\n  review_lead_time_days: 15\n")
    policy = POLICY + ("  - id: review\n    term: single-sign-on\n    owner: Security\n"
                       "    text: The review takes {{ org.security.review_lead_time_days }} working days.\n")
    with_policy(fixture_glossary, policy)
    sso = fixture_glossary / "terms" / "single-sign-on.md"
    sso.write_text(sso.read_text().replace("## Our rules\n", "## Our rules\nAllow 15 working days for it. {{ rule('review') }}\n", 1))
    assert any("single-sign-on.md" in e and "'15 working days' types the lead time" in e for e in problems(fixture_glossary))


def test_lower_case_value_at_a_sentence_start(fixture_glossary):
    org = fixture_glossary / "org.yaml"
    org.write_text(org.read_text() + "systems:\n  clm: the contract register\n")
    sow = fixture_glossary / "terms" / "statement-of-work.md"
    sow.write_text(sow.read_text().replace("## Our rules\n", "## Our rules\n{{ org.systems.clm }} keeps it. ", 1))
    assert any("statement-of-work.md" in e and "starts a sentence but reads 'the contract regist" in e
               and "| capitalize_first" in e for e in problems(fixture_glossary))
    sow.write_text(sow.read_text().replace("{{ org.systems.clm }} keeps it.", "{{ org.systems.clm | capitalize_first }} keeps it."))
    assert load_glossary(fixture_glossary).ok()
    assert "The contract register keeps it." in load_glossary(fixture_glossary).glossary.terms["statement-of-work"].section("rules")


def test_possessive_after_a_parenthesis(fixture_glossary):
    org = fixture_glossary / "org.yaml"
    org.write_text(org.read_text() + "roles:\n  ciso: Chief Information Security Officer (CISO)\n")
    sow = fixture_glossary / "terms" / "statement-of-work.md"
    sow.write_text(sow.read_text().replace("## Our rules\n", "## Our rules\nIt needs the {{ org.roles.ciso }}'s approval. ", 1))
    assert any("statement-of-work.md" in e and "(CISO)'s" in e for e in problems(fixture_glossary))


@pytest.mark.parametrize("bad,message", [
    ("amount: {from: 5, above: 3}", "give either 'from' (inclusive) or 'above' (exclusive), not both"),
    ("amount: {from: org.thresholds.nothing}", "'org.thresholds.nothing' is not in org.yaml"),
    ("amount: {from: org.company.name}", "is not a number"),
    ("amount: {from: 100, below: 10}", "the lower boundary 100 is not below the upper one 10"),
    ("amount: {from: thirty}", "is neither a number nor an org path"),
    ("kind: [gadgets]", "Input should be 'saas', 'software', 'hardware' or 'services'"),
    ("colour: red", "unknown field"),
])
def test_bad_conditions_are_reported_at_their_line(fixture_glossary, bad, message):
    policy = POLICY.replace("      amount: {from: org.thresholds.competitive_tender}", f"      {bad}")
    with_policy(fixture_glossary, policy)
    errors = problems(fixture_glossary)
    assert any(e.startswith("glossary/policy.yaml:1") and "rules[tender].when" in e and message in e for e in errors), errors


def test_rule_shape_errors(fixture_glossary):
    policy = POLICY.replace("    owner: Procurement\n    when:\n      amount: {from: org.thresholds.competitive_tender}",
                            "    when:\n      amount: {from: org.thresholds.competitive_tender}")
    policy += "  - id: quotes-three\n    term: nowhere\n    owner: X\n    text: Dup.\n  - id: Bad Id\n    term: x\n    owner: X\n    text: y\n"
    with_policy(fixture_glossary, policy)
    errors = problems(fixture_glossary)
    assert any(e.startswith("glossary/policy.yaml:11: error: rules[tender].owner: required field is missing") for e in errors), errors
    assert any(e.startswith("glossary/policy.yaml:17: error: rules[quotes-three].id: duplicate rule id (also line 2)") for e in errors), errors
    assert any("rules[Bad Id].id" in e for e in errors), errors


def test_unknown_term_and_unless(fixture_glossary):
    policy = POLICY.replace("  - id: tender\n    term: purchase-order", "  - id: tender\n    term: purchase-orders\n    unless: [ghost]")
    with_policy(fixture_glossary, policy)
    errors = problems(fixture_glossary)
    assert any("rules[tender].term: 'purchase-orders' is not a known slug" in e for e in errors), errors
    assert any("rules[tender].unless: unknown rule id 'ghost'" in e for e in errors), errors


def test_invalid_yaml_and_placeholders_in_rules(fixture_glossary):
    with_policy(fixture_glossary, "rules:\n  - id: x\n    text: [unclosed\n")
    assert any(e.startswith("glossary/policy.yaml:4: error: policy: invalid YAML") for e in problems(fixture_glossary)), problems(fixture_glossary)
    with_policy(fixture_glossary, POLICY.replace("a tender.", "a tender {{ rule('quotes-three') }}."))
    assert any("rules[tender].text: only {{ org.… }} placeholders are allowed, not {{ rule('quotes-three') }}" in e
               for e in problems(fixture_glossary)), problems(fixture_glossary)


def test_cli_check_reports_policy_errors(fixture_glossary):
    with_policy(fixture_glossary, rules="{{ rule('quotes-three') }} {{ rule('nope') }}")
    result = CliRunner().invoke(cli, ["check", "--glossary-dir", str(fixture_glossary)])
    assert result.exit_code == 1 and "unknown rule id 'nope'" in result.output


def test_filters_read_in_singular_and_plural():
    assert plural(1, "hour") == "1 hour" and plural(4, "hour") == "4 hours" and plural(1.5, "day") == "1.5 days"
    assert plural(1, "working day") == "1 working day" and plural(2, "person", "people") == "2 people"
    assert capitalize_first("the contract register in X") == "The contract register in X"


# --- The shipped policy, tested like code --------------------------------------------------

SHIPPED = load_glossary(SHIPPED_GLOSSARY)
RAW = yaml.safe_load((SHIPPED_GLOSSARY / "policy.yaml").read_text())


def test_shipped_policy_loads_without_problems():
    assert SHIPPED.ok() and not SHIPPED.problems, SHIPPED.problems
    assert "FICTIONAL" in (SHIPPED_GLOSSARY / "policy.yaml").read_text()


def test_every_rule_is_cited_by_its_home_term_or_another():
    glossary = SHIPPED.glossary
    cited = {r for t in glossary.terms.values() for r in t.rules}
    assert set(glossary.policy.rules) == cited
    for rule in glossary.policy.rules.values():
        assert rule.term in glossary.terms
        assert rule.id in glossary.terms[rule.term].rules, f"{rule.id} is not cited by its home term {rule.term}"


def test_rules_state_numbers_only_through_placeholders():
    for raw in RAW["rules"]:
        for field in ("text", "case"):
            text = re.sub(r"\{\{.*?\}\}", "", raw.get(field) or "")
            assert not re.search(r"[$€£]\s?\d|\b\d{2,}\b", text.replace("TLS 1.2", "").replace("SOC 2", "").replace("27001", "")), (raw["id"], field)


def test_every_rule_has_an_owner_and_a_short_case_line():
    owners = {r.owner for r in SHIPPED.glossary.policy.rules.values()}
    assert owners <= {"Procurement", "Finance", "Legal", "Information Security", "Data Protection Officer", "IT Operations"}
    for rule in SHIPPED.glossary.policy.rules.values():
        assert rule.case is None or len(rule.case) <= 220, rule.id
        assert not re.search(r"\)'s|\(s\)", rule.text + (rule.case or "")), rule.id


@pytest.mark.parametrize("family,payment", [
    ({"approve-budget-owner", "approve-department-head", "approve-finance-director", "approve-cfo", "approve-board"}, "po"),
    ({"quotes-one", "quotes-three", "tender-rfp"}, "po"),
])
def test_bands_cover_every_amount_exactly_once(family, payment):
    glossary = SHIPPED.glossary
    edges = sorted({v for r in family for v in glossary.policy.rules[r].bands["amount"].values()})
    for amount in [0, 1, *[e + d for e in edges for d in (-1, 0, 1)], 10**9]:
        case = case_for(f"We are buying a new ${amount:,.0f} service", previous=None, glossary=glossary)
        hits = {r.rule for r in case.requirements if r.condition is None} & family
        assert len(hits) == 1, (amount, hits)


