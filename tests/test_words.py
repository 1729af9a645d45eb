"""The shipped word tables give the answers wordfreq and lemminflect give, without loading either."""

from __future__ import annotations

import itertools
import json
import random
import re
import string
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from lemminflect.core.Lemmatizer import Lemmatizer
from wordfreq import get_frequency_list, lossy_tokenize

from app.glossary import load_glossary
from app.search import text, words
from tests.conftest import FIXTURE_GLOSSARY, SHARED, SHIPPED_GLOSSARY

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = (text.RARE_ZIPF, text.ORDINARY_ZIPF, text.CURATED_ORDINARY_ZIPF)


def test_tables_are_current_for_the_installed_libraries():
    """Fails after a wordfreq or lemminflect upgrade until scripts/build-word-tables is run."""
    built = words.build_tables()
    with np.load(words.TABLES_PATH) as shipped:
        assert sorted(shipped.files) == sorted(built)
        assert json.loads(str(shipped["versions"])) == words.library_versions()
        for name, array in built.items():
            assert np.array_equal(shipped[name], array), f"{words.TABLES_PATH.name}: {name} is stale"


def test_the_floor_sits_below_every_threshold():
    assert words.ZIPF_FLOOR < min(THRESHOLDS) and words.BELOW_FLOOR < words.ZIPF_FLOOR


def test_simple_tokens_split_as_wordfreq_splits_them():
    # Every string up to 5 characters over letters, digits, the dot and a few separators, then every
    # separator the pattern treats as one around and between words.
    samples = ["".join(chars) for n in range(1, 6) for chars in itertools.product("ab12.-&/ ", repeat=n)]
    samples += [f"{a}{c}{b}" for c in string.punctuation + " \t" for a, b in (("ab", "cd"), ("a1", "2b"), ("12", "34"))]
    samples += [f"{c}ab{c}{c}cd{c}" for c in string.punctuation]
    for sample in samples:
        assert words._tokens(sample) == lossy_tokenize(sample, "en"), sample


def _glossary_words() -> set[str]:
    out: set[str] = set()
    for path in (SHIPPED_GLOSSARY, FIXTURE_GLOSSARY):
        for term in load_glossary(path).glossary.terms.values():
            names = " ".join(term.names)
            body = " ".join(term.section(k) for k in ("definition", "procurement", "it", "example"))
            out |= _words(" ".join([names, term.summary, body, *term.questions]))
    return out


def _words(textual: str) -> set[str]:
    """Each whitespace-separated piece (product-name checks get those) and each word run in it."""
    pieces = {p.strip(".,;:!?()[]\"“”") for p in textual.lower().split()}
    return {w for w in pieces | set(re.findall(r"[0-9a-z&]+", textual.lower())) if w}


def _shared_words() -> set[str]:
    out: set[str] = set()
    for path in [*SHARED.glob("eval/*.jsonl"), *SHARED.glob("external/*.jsonl")]:
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            out |= _words(" ".join(v for v in record.values() if isinstance(v, str)))
            out |= _words(" ".join(a for a in record.get("aliases", []) if isinstance(a, str)))
    return out


def _library_words() -> set[str]:
    """Every 20th wordfreq token down to the rarest, every token near the floor, every 8th lemminflect
    form, and joined pairs of common tokens ('e-mail', 'at&t') whose combined frequency is near 3.5."""
    buckets = get_frequency_list("en")
    tokens = [t for bucket in buckets for t in bucket]
    near_floor = [t for bucket in buckets[540:565] for t in bucket]
    lemmatizer = Lemmatizer()
    forms = sorted(f for f in (*lemmatizer._getLemmaDict(), *lemmatizer._getOverridesDict()) if f == f.lower())
    rng = random.Random(15)
    common = [t for bucket in buckets[300:520] for t in bucket]
    pairs = [f"{rng.choice(common)}{rng.choice('-&/+.')}{rng.choice(common)}" for _ in range(3000)]
    numbers = ["20th", "1990s", "2024", "1.5", "k8s", "o365", "win10", "auth0", "3d", "24/7", "b2b", "covid-19"]
    return {*tokens[::20], *near_floor, *forms[::8], *pairs, *numbers}


@pytest.fixture(scope="module")
def sample() -> list[str]:
    words_ = _glossary_words() | _library_words()
    if SHARED.exists():
        words_ |= _shared_words()
    return sorted(words_)


def test_zipf_and_lemmas_equal_the_libraries(sample):
    assert len(sample) > 30000
    for word in sample:
        library = words.library_zipf(word)
        assert words.zipf(word) == (library if library >= words.ZIPF_FLOOR else words.BELOW_FLOOR), word
        assert words.lemmas(word) == words.library_lemmas(word), word


def test_ordinary_words_and_lemmas_equal_the_library_path(sample):
    for word in sample:
        ours = text.lemma_zipf(word)
        theirs = text.lemma_zipf(word, zipf=words.library_zipf, lemmas=words.library_lemmas)
        assert [ours >= t for t in THRESHOLDS] == [theirs >= t for t in THRESHOLDS], (word, ours, theirs)
        assert [text.is_ordinary_word(word, rare=rare, curated=curated) for rare, curated in ((True, False), (False, False), (False, True))] \
            == [theirs >= t for t in THRESHOLDS], word
    rng = random.Random(15)
    lemma_pairs = [(w, lemma) for w in sample for lemma in words.library_lemmas(w) if lemma != w]
    pairs = lemma_pairs + [(rng.choice(sample), rng.choice(sample)) for _ in range(5000)]
    pairs += [(a, b) for (a, _), (b, _) in zip(lemma_pairs, lemma_pairs[1:])]  # neighbours: shared lemmas or not
    assert len(lemma_pairs) > 1000
    for a, b in pairs:
        library = bool(words.library_lemmas(a.lower()) & words.library_lemmas(b.lower()))
        assert text.same_lemma(a, b) == library, (a, b)


def test_serving_loads_neither_library():
    """A fresh process answers every kind of word (plain, hyphenated, dotted, inflected) from the tables."""
    code = """
import sys
import app.main
from app.search.text import is_ordinary_word, same_lemma
assert is_ordinary_word("supplies") and not is_ordinary_word("okta", rare=True)
assert is_ordinary_word("e-mail") and not is_ordinary_word("sam.gov", rare=True)
assert same_lemma("policies", "policy") and same_lemma("analyses", "analysis") and not same_lemma("policy", "police")
print(sorted(m for m in sys.modules if m.split(".")[0] in ("wordfreq", "lemminflect")))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]"
