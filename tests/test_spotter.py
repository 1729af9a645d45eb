"""Term spotting: word boundaries, case rules for short acronyms, plurals, longest match."""

from __future__ import annotations

import pytest

from app.glossary import load_glossary
from app.search.spotter import Spotter, is_acronym
from tests.conftest import FIXTURE_GLOSSARY


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
