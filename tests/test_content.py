"""The shipped glossary is tested like code: coverage, completeness, consistency, originality."""

from __future__ import annotations

import csv
import json
import re

import pytest
import yaml
from rapidfuzz import fuzz, process

from app.glossary import load_glossary
from app.glossary.loader import split_front_matter
from app.glossary.model import normalize
from tests.conftest import SHARED, SHIPPED_GLOSSARY

RESULT = load_glossary(SHIPPED_GLOSSARY)
GLOSSARY = RESULT.glossary
TERMS = sorted(GLOSSARY.terms.values(), key=lambda t: t.slug) if GLOSSARY else []
MUST_HAVE = SHARED / "glossary-terms.tsv"
AMBIGUOUS = ["PO", "SAM", "EA", "IP", "COI", "PR"]


def words(text: str) -> int:
    return len(re.findall(r"\b[\w'’-]+\b", text))


def raw_sections(term) -> dict[str, str]:
    text = (SHIPPED_GLOSSARY.parent / term.source).read_text()
    body = split_front_matter(text)[1]
    parts = re.split(r"^## (.+)$", body, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_glossary_checks_clean():
    assert RESULT.ok(), "\n".join(map(str, RESULT.errors))
    assert not [p for p in RESULT.problems if p.severity == "warning"], RESULT.problems


@pytest.mark.skipif(not MUST_HAVE.exists(), reason="../shared/glossary-terms.tsv is not beside the repository")
def test_every_must_have_row_is_a_term_with_its_aliases():
    rows = list(csv.DictReader(MUST_HAVE.open(encoding="utf-8"), delimiter="\t"))
    assert len(rows) == 239
    by_name = {t.term: t for t in TERMS}
    missing, alias_gaps = [], []
    for row in rows:
        term = by_name.get(row["term"])
        if term is None:
            missing.append(row["term"])
            continue
        have = {normalize(a) for a in term.names}
        alias_gaps += [f"{row['term']}: {a}" for a in row["aliases"].split(";") if a and normalize(a) not in have]
        assert term.domain == row["domain"], row["term"]
    assert not missing and not alias_gaps, (missing, alias_gaps)


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.slug)
def test_entry_is_complete(term):
    summary = term.summary.strip()
    assert summary.endswith(".") and words(summary) <= 30, "summary: one plain sentence of at most 30 words"
    assert not re.search(r"[.!?]\s+[A-Z]", summary[:-1]), "summary must be one sentence"
    assert 60 <= words(term.section("definition")) <= 200, "Definition: 60-200 words"
    for key in ("procurement", "it"):
        assert 40 <= words(term.section(key)) <= 120, f"For {key}: 40-120 words"
    assert words(term.section("example")) >= 8
    if term.domain in ("procurement", "shared"):
        assert words(term.section("rules")) >= 10, "procurement and shared terms state our rule"
    assert len(term.related) >= 2 and term.owners and term.references
    assert 3 <= len(term.questions) <= 6
    for question in term.questions:
        for name in term.names:
            if len(name) > 3:
                assert normalize(name) not in normalize(question), f"question names the term: {question!r}"


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.slug)
def test_rules_use_org_placeholders_not_literal_numbers(term):
    org = yaml.safe_load((SHIPPED_GLOSSARY / "org.yaml").read_text())
    amounts = {v for block in ("thresholds", "approvals", "insurance") for v in org[block].values() if isinstance(v, int)}
    rules = raw_sections(term).get("Our rules", "")
    for amount in amounts:
        for form in (f"{amount:,}", str(amount), f"{amount // 1000}k" if amount >= 1000 else None):
            if form and len(form) >= 4:
                assert not re.search(rf"(?<![\w.,]){re.escape(form)}(?![\w,])", rules), f"{form} typed literally"


def test_ambiguous_acronyms_are_declared_on_each_sense():
    for acronym in AMBIGUOUS:
        senses = [t for t in TERMS if normalize(acronym) in {normalize(a) for a in t.ambiguous}]
        assert len(senses) >= 2, acronym


def test_no_definition_is_a_near_copy_of_another():
    texts = [normalize(t.section("definition")) for t in TERMS]
    scores = process.cdist(texts, texts, scorer=fuzz.token_sort_ratio, workers=1)
    pairs = [(TERMS[i].slug, TERMS[j].slug, scores[i][j])
             for i in range(len(TERMS)) for j in range(i + 1, len(TERMS)) if scores[i][j] >= 70]
    assert not pairs, pairs


@pytest.mark.skipif(not (SHARED / "external").exists(), reason="../shared/external is not beside the repository")
def test_nothing_is_copied_from_the_external_glossaries():
    def shingles(text: str, n: int = 8) -> set[str]:
        tokens = normalize(text).split()
        return {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}

    external: set[str] = set()
    for path in (SHARED / "external").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                external |= shingles(json.loads(line)["definition"])
    copied = {t.slug: sorted(shingles(" ".join(t.sections.values())) & external)[:2] for t in TERMS}
    assert not {k: v for k, v in copied.items() if v}


def test_org_file_is_marked_fictional_and_fully_used():
    text = (SHIPPED_GLOSSARY / "org.yaml").read_text()
    assert "FICTIONAL" in text and "replaces this file" in text
    raw = " ".join((SHIPPED_GLOSSARY / "terms" / f"{t.slug}.md").read_text() for t in TERMS)
    raw += (SHIPPED_GLOSSARY / "policy.yaml").read_text()  # rule values are used where the rules are stated
    org = yaml.safe_load(text)
    # Contacts the not-glossary answer sends people to are used by the answer, not by term files;
    # owner_contacts, handoff and policies are read by the service itself (term pages, "ask a person"),
    # and a contact counts as used when one of them names it.
    from app.answer.answerability import ROUTES

    raw += " ".join(f"org.contacts.{route}" for route, _ in ROUTES)
    app_sections = {"company", "owner_contacts", "handoff", "policies"}
    named = set(org.get("owner_contacts", {}).values()) | {r["contact"] for r in org.get("handoff", {}).values()}
    unused = [f"{b}.{k}" for b, v in org.items() if b not in app_sections for k in v
              if f"org.{b}.{k}" not in raw and not (b == "contacts" and k in named)]
    assert unused in ([], ["systems.p2p"]), unused


def test_every_term_is_reachable_from_another():
    linked = {s for t in TERMS for s in t.related}
    orphans = [t.slug for t in TERMS if t.slug not in linked]
    assert len(orphans) <= len(TERMS) // 10, orphans
