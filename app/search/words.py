"""English word frequencies (wordfreq) and lemmas (lemminflect) from small tables built from both.

Loading wordfreq's English list costs a process ~33 MB and lemminflect's lookup ~31 MB. The spotter
only asks whether a word's Zipf frequency reaches 3.5 and which lemmas a form has, so
`word_tables.npz` (built by `scripts/build-word-tables`, checked current by
tests/test_words.py) keeps just that: the frequency bucket of every wordfreq token at Zipf >= 3.45,
and the lemmas of every form lemminflect's lookup maps to something other than itself. `zipf`
recombines tokens as `wordfreq.zipf_frequency` does and equals it whenever that is >= ZIPF_FLOOR.
The libraries stay the source of truth (`library_zipf`, `library_lemmas`, `build_tables`) and are
imported only to build the tables, except two narrow edges that import wordfreq's code but never its
frequency list (~6 MB): its tokenizer for a word with `'`, `_`, `,`, `;`, `:`, `@` or non-ASCII
characters, and its digit estimate for a run of digits whose shape is a common token ("20th").
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

TABLES_PATH = Path(__file__).with_name("word_tables.npz")
# Every token below this is left out: a word made of it is below 3.5 (RARE_ZIPF) even after wordfreq
# rounds, since combining tokens only lowers the frequency and a digit estimate is at most 1.
ZIPF_FLOOR = 3.45
BELOW_FLOOR = 0.0  # what `zipf` returns for a word under ZIPF_FLOOR
# ASCII separators wordfreq's tokenizer always splits at (checked against it in tests/test_words.py).
_SPLITS = re.escape("!\"#$%&()*+-/<=>?[\\]^`{|}~") + r"\s"
_SIMPLE = re.compile(rf"[a-z0-9.{_SPLITS}]*")
# A token: letters and digits, a dot inside only between two letters or two digits ("sam.gov", "1.5").
_TOKEN = re.compile(r"[a-z0-9](?:[a-z0-9]|(?<=[a-z])\.(?=[a-z])|(?<=[0-9])\.(?=[0-9]))*")
_MULTI_DIGIT = re.compile(r"\d[\d.,]+")  # wordfreq.numbers.MULTI_DIGIT_RE: estimated, not listed


class _SortedTable:
    """Sorted UTF-8 keys with one value each, in two NumPy arrays: ~2 MB where a dict of the same
    ~50,000 short strings costs ~10 MB (and the JSON parse to build it ~20 MB more)."""

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        self.keys = keys
        self.values = values

    def get(self, key: str) -> Any:
        """The value of `key`, or None."""
        encoded = key.encode("utf-8")
        i = int(np.searchsorted(self.keys, encoded))
        if i < len(self.keys) and self.keys[i] == encoded:
            return self.values[i]
        return None


@dataclass(frozen=True)
class WordTables:
    """wordfreq bucket (-centibels) of each token at Zipf >= ZIPF_FLOOR; lemmas of each form with others."""

    buckets: _SortedTable  # token -> bucket (uint16)
    lemmas: _SortedTable  # lowercase form -> its lemmas, tab-separated (bytes)


@lru_cache(maxsize=1)
def tables() -> WordTables:
    """The shipped tables, read once per process."""
    with np.load(TABLES_PATH) as data:
        return WordTables(buckets=_SortedTable(data["tokens"], data["buckets"]),
                          lemmas=_SortedTable(data["forms"], data["lemmas"]))


def lemmas(word: str) -> frozenset[str]:
    """A lowercase word and its lemmas in lemminflect's lookup: equals `library_lemmas`."""
    found = tables().lemmas.get(word)
    others = found.decode("utf-8").split("\t") if isinstance(found, bytes) else []
    return frozenset(others) | {word}


def zipf(word: str) -> float:
    """`wordfreq.zipf_frequency(word, "en")` when that is >= ZIPF_FLOOR, else BELOW_FLOOR."""
    buckets = tables().buckets
    one_over = 0.0
    tokens = _tokens(word)
    for token in tokens:
        smashed = _MULTI_DIGIT.sub(lambda m: re.sub(r"\d", "0", m.group()), token)
        bucket = buckets.get(smashed)
        if bucket is None:
            return BELOW_FLOOR
        freq = 10 ** (-int(bucket) / 100)  # wordfreq.cB_to_freq
        if smashed != token:
            freq *= _digit_freq(token)
        one_over += 1.0 / freq
    if not tokens:
        return BELOW_FLOOR
    return _rounded_zipf(1.0 / one_over)


def _rounded_zipf(freq: float) -> float:
    """wordfreq's rounding: the frequency to 3 significant digits, then Zipf to 2 decimals."""
    freq = round(freq, math.floor(-math.log(freq, 10)) + 3)
    zipf_value = round(math.log(freq, 10) + 9, 2)
    return zipf_value if zipf_value >= ZIPF_FLOOR else BELOW_FLOOR


def _tokens(word: str) -> list[str]:
    """wordfreq's tokens for `word` (lowercase): by pattern for plain ASCII, else by wordfreq itself."""
    if _SIMPLE.fullmatch(word):
        return _TOKEN.findall(word)
    from wordfreq import lossy_tokenize  # the tokenizer only; the frequency list stays unloaded

    return lossy_tokenize(word, "en")


def _digit_freq(token: str) -> float:
    from wordfreq.numbers import digit_freq

    return float(digit_freq(token))


# The library path: the source of truth, for building the tables and for tests.


def library_zipf(word: str) -> float:
    """wordfreq's Zipf frequency of `word` in English."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def library_lemmas(word: str) -> frozenset[str]:
    """A lowercase word and every lemma lemminflect's lookup gives it, lowercased."""
    from lemminflect import getAllLemmas

    return frozenset(lemma.lower() for forms in getAllLemmas(word).values() for lemma in forms) | {word}


def library_versions() -> dict[str, str]:
    """The installed versions of the two libraries the tables are built from."""
    from importlib.metadata import version

    return {"wordfreq": version("wordfreq"), "lemminflect": version("lemminflect")}


def build_tables() -> dict[str, np.ndarray]:
    """The tables' arrays, from the installed wordfreq and lemminflect (what the file must hold)."""
    from lemminflect.core.Lemmatizer import Lemmatizer
    from wordfreq import get_frequency_list

    floor_bucket = math.floor((9 - ZIPF_FLOOR) * 100)  # bucket i holds frequency 10 ** (-i / 100)
    buckets = {token: index for index, bucket in enumerate(get_frequency_list("en"))
               if index <= floor_bucket for token in bucket}
    lemmatizer = Lemmatizer()
    # getAllLemmas lowercases its input and looks it up in these two tables only (no rules).
    forms = {form for form in (*lemmatizer._getLemmaDict(), *lemmatizer._getOverridesDict()) if form == form.lower()}
    lemma_table = {}
    for form in forms:
        found = library_lemmas(form)
        if found != {form}:
            if any("\t" in lemma for lemma in found):
                raise ValueError(f"lemminflect lemma with a tab for {form!r}: {sorted(found)}")
            lemma_table[form] = "\t".join(sorted(found - {form}))
    return {**_sorted_arrays("tokens", "buckets", buckets, np.uint16),
            **_sorted_arrays("forms", "lemmas", lemma_table, None),
            "versions": np.array(json.dumps(library_versions(), sort_keys=True)), "zipf_floor": np.array(ZIPF_FLOOR)}


def _sorted_arrays(keys_name: str, values_name: str, table: dict, dtype: type | None) -> dict[str, np.ndarray]:
    encoded = sorted((key.encode("utf-8"), value) for key, value in table.items())
    values = [v.encode("utf-8") if isinstance(v, str) else v for _, v in encoded]
    return {keys_name: np.array([k for k, _ in encoded]), values_name: np.array(values, dtype=dtype)}


def write_tables(path: Path = TABLES_PATH) -> None:
    """Build the tables and write them to `path` (a compressed .npz)."""
    arrays: dict[str, Any] = build_tables()
    with path.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
