"""Text helpers shared by indexing and retrieval: plain text from Markdown, tokens for BM25."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import lru_cache

import snowballstemmer

from app.glossary.model import Term
from app.search import words

STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being below between
    both but by can could did do does doing down during each even ever every few for from further get gets
    got had has have having he her here hers him his how i if in into is it its itself just let like may me
    might more most much must my no nor not now of off on once only or other our ours out over own per please
    quite really same say says she should so some such than that the their theirs them then there these they
    this those though through to too under until up us very was we were what whats when where which while who
    whom why will with would yes yet you your yours actually anyone someone something thing things kind sort
    mean means meaning called call name named know tell explain define definition stand stands term word
    exactly usually still already someone s t""".split()
)
# A word at least this common in English (wordfreq's Zipf scale: 4 = once per 100,000 words; its
# lemma counts too, so 'supplies' is as common as 'supply') is an everyday word: as a glossary name it is spotted only when marked as a term or asked about.
ORDINARY_ZIPF = 4.0
# A curator who gave an approved term an everyday alias ("legacy", "staging") meant it: only very common
# words (Zipf >= 5: "production", "data") need marking there.
CURATED_ORDINARY_ZIPF = 5.0
RARE_ZIPF = 3.5  # below this a capitalised alias reads as a product or proper name ("Okta", "Jira")
_TOKEN = re.compile(r"[a-z0-9]+(?:[&+][a-z0-9]+)*")
_local = threading.local()


def _stemmer():
    """This thread's stemmer: a Snowball stemmer keeps its working state in the instance, so one shared
    by the request threads garbles words and raises IndexError under concurrent requests."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    return words.zipf(word)


@lru_cache(maxsize=65536)
def _lemmas(word: str) -> frozenset[str]:
    return words.lemmas(word)


def lemma_zipf(word: str, *, zipf: Callable[[str], float] = _zipf,
               lemmas: Callable[[str], frozenset[str]] = _lemmas) -> float:
    """The Zipf frequency of a word or its most common lemma ('supplies' counts as 'supply'); from the
    shipped tables, exact from RARE_ZIPF up (tests pass wordfreq and lemminflect themselves)."""
    return max(zipf(form) for form in lemmas(word.lower()))


def is_ordinary_word(word: str, *, rare: bool = False, curated: bool = False) -> bool:
    """Is this one word common in everyday English (`rare=True`: at least not rare; `curated=True`: as
    an alias a curator chose for an approved term)?"""
    return lemma_zipf(word) >= (RARE_ZIPF if rare else CURATED_ORDINARY_ZIPF if curated else ORDINARY_ZIPF)


def same_lemma(a: str, b: str) -> bool:
    """Are two words forms of one word ('policies' ~ 'policy', 'analyses' ~ 'analysis')?"""
    return bool(_lemmas(a.lower()) & _lemmas(b.lower()))


_LEADS = ("what is a ", "what is an ", "what is the ", "what is ", "what's a ", "what's an ", "what's the ",
          "what's ", "whats a ", "whats an ", "whats ", "what are ", "what does ", "what do ", "define ",
          "meaning of ", "explain ", "who is ", "who are ")


_TAIL = re.compile(r"\s+(mean|means|stand for|stands for)(\s+(for|to|here|in)\b.*)?$", re.I)


def question_subject(query: str) -> str:
    """Reduce 'What is an NDA?' to 'NDA': what a short definitional question is about."""
    text = query.strip().rstrip("?!. ").strip()
    low = text.lower()
    for lead in _LEADS:
        if low.startswith(lead):
            text = text[len(lead) :]
            break
    text = _TAIL.sub("", text)
    return text.strip().strip("\"'“”‘’")


def tokenize(text: str) -> list[str]:
    """Lowercase, split, drop stop words and stem: the BM25 vocabulary."""
    return [_stem(w) for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS]


# A link's text may not contain a bracket and its destination no parenthesis: each match attempt
# then stops at the next bracket, so 60,000 "[" are one pass (it was quadratic: 9.9 s).
_MD = re.compile(r"\[([^\[\]]+)\]\([^()]*\)|[*_`#>|]+")


def plain(markdown: str) -> str:
    """Drop Markdown syntax but keep link texts, for embedding and BM25."""
    return " ".join(_MD.sub(lambda m: m.group(1) or " ", markdown).split())


# What import writes into sections it could not fill (app.interchange.records.PLACEHOLDER_TEXT):
# no content to embed or search.
PLACEHOLDER = "To be written by the curators."


def _section_text(term: Term, key: str) -> str:
    text = plain(term.section(key))
    return "" if text == PLACEHOLDER else text


def term_views(term: Term) -> list[tuple[str, str]]:
    """Return the (kind, text) views a term is embedded as; several views catch several phrasings."""
    names = ", ".join(term.aliases)
    views = [("name", f"{term.term}" + (f" ({names})" if names else "") + f": {term.summary}")]
    for key in ("definition", "procurement", "it", "example"):
        text = _section_text(term, key)
        if text:
            views.append((key, f"{term.term}: {text}"))
    views.extend(("question", q) for q in term.questions)
    return views


def lexical_document(term: Term) -> list[str]:
    """Return the BM25 tokens for a term: names weigh double, then summary, body and questions."""
    names = " ".join(term.names)
    body = " ".join(_section_text(term, k) for k in ("definition", "procurement", "it", "example"))
    text = " ".join([names, names, term.summary, body, " ".join(term.questions), " ".join(term.tags)])
    return tokenize(text)
