"""Term spotting: word boundaries, case rules for short acronyms, plurals, longest match."""

from __future__ import annotations

import pytest

from app.glossary import load_glossary
from app.search.spotter import Spotter, is_acronym
from tests.conftest import FIXTURE_GLOSSARY, SHIPPED_GLOSSARY


@pytest.fixture(scope="module")
def spotter() -> Spotter:
    return Spotter(load_glossary(FIXTURE_GLOSSARY).glossary)


def found(spotter: Spotter, text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.surface, tuple(sorted(s.slugs))) for s in spotter.spot(text)]


def test_acronym_detection():
    assert is_acronym("SSO") and is_acronym("IdP") and is_acronym("K8s") and is_acronym("2FA")
    assert not is_acronym("Backup") and not is_acronym("master agreement")


def test_names_aliases_and_order(spotter):
    text = "Under the master agreement we raise a PO, then the SOW starts; SSO is in scope."
    assert found(spotter, text) == [
        ("master agreement", ("master-services-agreement",)),
        ("PO", ("product-owner", "purchase-order")),
        ("SOW", ("statement-of-work",)),
        ("SSO", ("single-sign-on",)),
    ]


def test_short_acronyms_do_not_match_ordinary_words(spotter):
    assert found(spotter, "po is a river; sow the seeds; the msa of it") == [("msa", ("master-services-agreement",))]
    assert found(spotter, "Mixed Case Writer: sow and po") == []


def test_plural_possessive_and_hyphen_variants(spotter):
    assert [s for s, _ in found(spotter, "Two SOWs and the PO's number; single-sign-on and single sign on")] == [
        "SOWs", "PO", "single-sign-on", "single sign on",
    ]


def test_word_boundaries(spotter):
    assert found(spotter, "SSOs are great but PSSO and SSOX are not") == [("SSOs", ("single-sign-on",))]


def test_longest_match_wins(spotter):
    assert found(spotter, "the purchase order number is on the invoice") == [
        ("purchase order number", ("purchase-order",))
    ]


def test_strength(spotter):
    spots = spotter.spot("SSO and long tail spend")
    assert all(s.strong for s in spots)


def test_bounded_work(spotter):
    text = "SSO " * 10000
    assert len(spotter.spot(text, limit=50)) == 50


# --- Specificity: everyday words, derived forms, compounds, priors -------------------------------

@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The fixture glossary plus imported drafts whose names are everyday words."""
    import json
    import shutil

    from app.interchange import Source, plan_import

    target = tmp_path_factory.mktemp("imported") / "glossary"
    shutil.copytree(FIXTURE_GLOSSARY, target)
    rows = target.parent / "rows.jsonl"
    rows.write_text("\n".join(json.dumps(r) for r in [
        {"term": "Order", "definition": "A request to a supplier for goods or services."},
        {"term": "Company", "definition": "A business entity registered under the law."},
        {"term": "Government", "definition": "The executive authority of a state."},
        {"term": "Invoice", "definition": "A bill a supplier sends for goods or services delivered."},
    ]) + "\n")
    plan_import(target, [Source(rows, "jsonl", "procurement")]).write()
    return load_glossary(target).glossary


def test_everyday_names_are_not_spotted_in_running_text(imported):
    spotter = Spotter(imported)
    assert found(spotter, "the company wants to order more laptops before the government audit") == []


def test_everyday_names_count_when_asked_about_or_marked(imported):
    spotter = Spotter(imported)
    assert found(spotter, "what is an order") == [("order", ("order",))]
    assert found(spotter, "what does 'order' mean here?") == [("order", ("order",))]
    assert found(spotter, "The supplier says the Company must sign first.") == [("Company", ("company",))]
    assert found(spotter, "Company policy says so.") == []  # a capital that only starts the sentence
    assert all(not s.strong for s in spotter.spot("What is a Company?"))


def test_imported_title_case_names_are_no_product_names(imported):
    """Imports capitalise every headword: a rare imported word is spotted, but it is no strong, specific mention."""
    spotter = Spotter(imported)
    assert [(s.surface, s.strong) for s in spotter.spot("how do we check thousands of invoices?")] == [("invoices", False)]
    shipped = Spotter(load_glossary(SHIPPED_GLOSSARY).glossary)
    assert [(s.slugs, s.strong) for s in shipped.spot("we ship it with Docker")] == [(("container",), True)]


def test_derived_and_inflected_forms_of_names(spotter):
    shipped = Spotter(load_glossary(SHIPPED_GLOSSARY).glossary)
    assert [s.slugs for s in shipped.spot("the data is encrypted at rest")] == [("encryption-at-rest",)]
    surfaces = [s.surface for s in shipped.spot("Two service level agreements and the SLAs behind them")]
    assert surfaces == ["service level agreements", "SLAs"]
    assert [s.slugs for s in shipped.spot("the payment was escrowed")] == [("source-code-escrow",)]
    assert shipped.spot("the tool renewed itself") == []  # an everyday derived form needs marking


def test_hyphen_space_and_closed_compounds(spotter):
    shipped = Spotter(load_glossary(SHIPPED_GLOSSARY).glossary)
    for text in ("the true-up is due", "the true up is due", "the trueup is due", "two true-ups"):
        assert [s.slugs for s in shipped.spot(text)] == [("true-up",)], text


def test_drafts_and_imports_rank_below_curated_terms_on_equal_evidence(imported):
    from app.search.index import build_index
    from app.search.retrieve import Retriever
    from tests.fakes import FakeEmbedder

    retriever = Retriever(imported, build_index(imported, FakeEmbedder()), FakeEmbedder())
    assert retriever.priors["order"] < retriever.priors["purchase-order"] == 0.0
    assert imported.terms["order"].status == "draft" and "imported" in imported.terms["order"].tags


def test_imported_terms_do_not_reweigh_the_curated_terms_lexical_scores(imported):
    """BM25's idf and average length are corpus statistics: imports get their own, curated scores stay put."""
    from app.search.lexical import Bm25
    from app.search.text import lexical_document

    documents = {slug: lexical_document(term) for slug, term in imported.terms.items()}
    apart = {slug for slug, term in imported.terms.items() if "imported" in term.tags}
    alone = Bm25({s: d for s, d in documents.items() if s not in apart})
    together = Bm25(documents, apart=apart)
    question = "which order does the company need from the supplier before we pay the invoice?"
    curated = {s: v for s, v in together.relative_scores(question, 10.0).items() if s not in apart}
    assert curated and curated == alone.relative_scores(question, 10.0)
    assert apart & set(together.scores(question))  # the imported terms are still scored
    mixed = Bm25(documents)  # one index over both: the curated scores shift
    assert {s: v for s, v in mixed.scores(question).items() if s not in apart} != alone.scores(question)
