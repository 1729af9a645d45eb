"""Term spotting: find glossary names and aliases in free text, with word boundaries and case rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from app.glossary.model import Glossary
from app.search.text import is_ordinary_word, question_subject, same_lemma

# Short acronyms that are also everyday words: matched only when written in capitals.
COMMON_WORDS = frozenset(
    """ad am as at be by do go he hi if in is it me my no of on or so to up us we pr po ps gr ha dr ga az ea ip
    ok id cab sow sod ham rom var sig lol doa pam sam tam cal eol eos bpo mya pace rest ram art bat car cat
    dam fat map net pat pet pin pit pot rat rip sat sit tip top van web win sap pos pig ace aim air ale ant
    spa elf emu opt oat ash""".split()
)
_SEP = re.compile(r"[^0-9a-z&]")
_WORD_RUN = re.compile(r"[0-9a-z&]+")
# Spots of recent texts (term sections, questions) are kept per Spotter, i.e. per loaded glossary.
MEMO_ENTRIES = 2048
MEMO_MAX_CHARS = 2000


def _fold(ch: str) -> str:
    low = ch.lower()
    return low if len(low) == 1 else ch


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """Lowercase and turn separators into single spaces, keeping a map back to original offsets."""
    low = text.lower()
    if len(low) != len(text):  # a character that lowercases to two (e.g. 'İ'): go character by character
        return _normalize_chars(text)
    # Same result as _normalize_chars, by word runs instead of a Python step per character.
    out: list[str] = []
    offsets: list[int] = []
    end = -1
    for match in _WORD_RUN.finditer(low):
        if end >= 0:
            out.append(" ")
            offsets.append(end)
        start, end = match.span()
        out.append(match.group())
        offsets.extend(range(start, end))
    if 0 <= end < len(text):
        out.append(" ")
        offsets.append(end)
    return "".join(out), offsets


def _normalize_chars(text: str) -> tuple[str, list[int]]:
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        low = _fold(ch)
        if _SEP.match(low):
            if out and out[-1] != " ":
                out.append(" ")
                offsets.append(i)
        else:
            out.append(low)
            offsets.append(i)
    return "".join(out), offsets


def is_acronym(alias: str) -> bool:
    """Acronym-like: one word with two capitals ('SSO', 'IdP') or a capital and a digit ('K8s', '2FA')."""
    if " " in alias.strip():
        return False
    upper = sum(c.isupper() for c in alias)
    return upper >= 2 or (upper >= 1 and any(c.isdigit() for c in alias))


@dataclass(frozen=True)
class Spot:
    """One mention of a glossary name in a text."""

    start: int
    end: int
    surface: str
    alias: str
    slugs: tuple[str, ...]
    strong: bool  # an acronym, a multi-word name or the canonical name, not just an everyday word


@dataclass(frozen=True)
class _Entry:
    alias: str
    slugs: tuple[str, ...]
    acronym: bool
    strong: bool
    ordinary: bool = False  # an everyday word ("Company", "Order"): spotted only when marked or asked about
    derived: bool = False  # matched through its stem ("renewed" ~ "Renewal"), not as written


def _is_product_name(alias: str) -> bool:
    """A capitalised name that is no everyday word ('Okta', 'ServiceNow'): a strong mention, like an acronym."""
    word = alias.strip()
    return (" " not in word and len(word) >= 3 and word[0].isupper() and not word.isupper()
            and not is_ordinary_word(word, rare=True))


_Grouped = dict[str, dict[str, list[str]]]  # normalized name -> alias as written -> slugs of its terms


def _group_names(glossary: Glossary) -> tuple[_Grouped, set[str]]:
    """Group every name and alias (and their variants) by normalized form; also the curated canonical names."""
    grouped: _Grouped = {}
    canonical: set[str] = set()
    for slug, term in glossary.terms.items():
        # A curated term's name is a strong mention; an imported one-word name ("supplier",
        # "Invoice") is not strong on that ground alone.
        if "imported" not in term.tags:
            canonical.add(normalize_with_map(term.term)[0])
        for alias in term.names:
            key = normalize_with_map(alias)[0].strip()
            if not key:
                continue
            for variant in _variants(key, alias):
                grouped.setdefault(variant, {}).setdefault(alias, [])
                if slug not in grouped[variant][alias]:
                    grouped[variant][alias].append(slug)
    return grouped, canonical


def _exact_entries(grouped: _Grouped, canonical: set[str], curated: set[str],
                   imported: set[str]) -> dict[str, list[_Entry]]:
    """The entries to match as written, each marked acronym, strong or ordinary."""
    out: dict[str, list[_Entry]] = {}
    for key, by_alias in grouped.items():
        entries = []
        for alias, slugs in by_alias.items():
            acronym = is_acronym(alias)
            ordinary = (not acronym and " " not in key
                        and is_ordinary_word(key, curated=all(s in curated for s in slugs)))
            # Imported glossaries write every headword in Title Case ("Invoice"), so there a capital
            # says nothing about a product or proper name.
            product = _is_product_name(alias) and not all(s in imported for s in slugs)
            strong = not ordinary and (acronym or " " in key or key in canonical or len(key) >= 12 or product)
            entries.append(_Entry(alias, tuple(slugs), acronym, strong, ordinary))
        out[key] = entries
    return out


def _stemmed_entries(grouped: _Grouped, curated: set[str]) -> dict[str, list[_Entry]]:
    """The entries to match by stem: multi-word names and one-word names long enough, not acronyms."""
    stem_grouped: dict[str, list[_Entry]] = {}
    for key, by_alias in grouped.items():
        single = " " not in key
        if single and (len(key) < 5 or any(is_acronym(a) for a in by_alias)):
            continue
        stemmed = " ".join(_stem(w) for w in key.split())
        if single and len(stemmed) < 4:
            continue
        for alias, slugs in by_alias.items():
            if all(e.alias != alias for e in stem_grouped.get(stemmed, [])):
                ordinary = single and is_ordinary_word(key, curated=all(s in curated for s in slugs))
                stem_grouped.setdefault(stemmed, []).append(
                    _Entry(alias, tuple(slugs), False, not single, ordinary, derived=True))
    return stem_grouped


def _automaton(entries: dict[str, list[_Entry]]) -> ahocorasick.Automaton:
    """An Aho-Corasick automaton yielding (key, entries) for each key; built only when there are keys."""
    automaton = ahocorasick.Automaton()
    for key, key_entries in entries.items():
        automaton.add_word(key, (key, tuple(key_entries)))
    if entries:
        automaton.make_automaton()
    return automaton


class Spotter:
    """An Aho-Corasick automaton over every normalized name and alias in the glossary."""

    def __init__(self, glossary: Glossary):
        grouped, canonical = _group_names(glossary)
        # Approved terms that were not imported: their curators chose their aliases.
        curated = {slug for slug, term in glossary.terms.items() if term.status == "approved" and "imported" not in term.tags}
        imported = {slug for slug, term in glossary.terms.items() if "imported" in term.tags}
        self._automaton = _automaton(_exact_entries(grouped, canonical, curated, imported))
        self._empty = not grouped
        # Names also match in other word forms: 'encrypted at rest' ~ 'encryption at rest', and a one-word
        # name through its derived and inflected forms ('renewed' ~ 'Renewal', 'onboarded' ~ 'Onboarding').
        stem_grouped = _stemmed_entries(grouped, curated)
        self._stemmed = _automaton(stem_grouped)
        self._has_stemmed = bool(stem_grouped)
        self._memo = lru_cache(maxsize=MEMO_ENTRIES)(lambda text, limit: tuple(self._spot(text, limit)))

    def spot(self, text: str, limit: int = 200) -> list[Spot]:
        """Return non-overlapping mentions, longest first at each place, in order of appearance."""
        if self._empty or not text:
            return []
        if len(text) <= MEMO_MAX_CHARS:
            # Answers autolink the same term sections again and again: remember recent texts' spots.
            return list(self._memo(text, limit))
        return self._spot(text, limit)

    def _spot(self, text: str, limit: int) -> list[Spot]:
        reading = _Reading.of(text)
        found = self._exact_matches(text) + self._stemmed_matches(text)
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        spots: list[Spot] = []
        last_end = -1
        for o_start, o_end, key, entries in found:
            if o_start < last_end:
                continue
            accepted = _accepted(entries, key, text, o_start, o_end, reading)
            if not accepted:
                continue
            slugs = tuple(dict.fromkeys(s for e in accepted for s in e.slugs))
            spots.append(Spot(o_start, o_end, text[o_start:o_end], accepted[0].alias, slugs, any(e.strong for e in accepted)))
            last_end = o_end
            if len(spots) >= limit:
                break
        return spots

    def _exact_matches(self, text: str) -> list[tuple[int, int, str, tuple[_Entry, ...]]]:
        """Names found as written, on word boundaries, with their offsets in the original text."""
        norm, offsets = normalize_with_map(text)
        found = []
        for end, (key, entries) in self._automaton.iter(norm):
            start = end - len(key) + 1
            if (start > 0 and norm[start - 1] != " ") or (end + 1 < len(norm) and norm[end + 1] != " "):
                continue
            found.append((offsets[start], offsets[end] + 1, key, entries))
        return found

    def _stemmed_matches(self, text: str) -> list[tuple[int, int, str, tuple[_Entry, ...]]]:
        if not self._has_stemmed:
            return []
        words = [(m.start(), m.end(), _stem(_fold_word(m.group()))) for m in _WORD.finditer(text)]
        joined, starts, pos = [], {}, 0
        for i, (_, _, stem) in enumerate(words):
            starts[pos] = i
            joined.append(stem)
            pos += len(stem) + 1
        stemmed = " ".join(joined)
        ends = {starts_at + len(words[i][2]) - 1: i for starts_at, i in starts.items()}
        out = []
        for end, (key, entries) in self._stemmed.iter(stemmed):
            start = end - len(key) + 1
            if start in starts and end in ends:
                first, last = starts[start], ends[end]
                # A multi-word name's head noun (last word) must be the same word (its lemma: 'policies' ~
                # 'policy'); only modifiers may change form. One-word names match through the stem alone.
                head = text[words[last][0] : words[last][1]].lower()
                kept = tuple(e for e in entries if first == last or _same_head(e.alias, head))
                if kept:
                    out.append((words[first][0], words[last][1], key, kept))
        return out


_WORD = re.compile(r"[0-9A-Za-z&]+")


def _same_head(alias: str, head: str) -> bool:
    last = _WORD.findall(alias)[-1].lower()
    return last.removesuffix("s") == head.removesuffix("s") or same_lemma(last, head)


@dataclass(frozen=True)
class _Reading:
    """What the whole text says about how to read its words: the writer's casing and what it asks about."""

    lowercase_writer: bool
    subject: str
    title_case: bool

    @classmethod
    def of(cls, text: str) -> _Reading:
        """Read the casing and the subject of `text`."""
        return cls(not any(c.isupper() for c in text), normalize_with_map(question_subject(text))[0].strip(),
                   _mostly_capitalised(text))


def _accepted(entries: tuple[_Entry, ...], key: str, text: str, start: int, end: int, reading: _Reading) -> list[_Entry]:
    """The entries a mention stands for: its case rules met, and an everyday word only when asked about or marked."""
    surface = text[start:end]
    accepted = [e for e in entries if _case_ok(e, surface, key, reading.lowercase_writer)]
    # An everyday word ("order", "company", a word derived from one) in running text is just a word;
    # it counts when the question is about it or the writer marks it as a term.
    if accepted and all(e.ordinary or (e.derived and " " not in key and is_ordinary_word(surface)) for e in accepted):
        asked = normalize_with_map(surface)[0].strip() == reading.subject
        if not asked and not _marked(text, start, end, reading.title_case):
            return []
    return accepted


_OPENING_QUOTES = "\"'“‘«`*"
_CLOSING_QUOTES = "\"'”’»`*"
_SENTENCE_END = re.compile(r"(^|[.!?:;\n(\[\"“'‘-]\s*)$")


def _mostly_capitalised(text: str) -> bool:
    """Headings and Title Case Lines: capitals there say nothing about which words are terms."""
    words = _WORD.findall(text)
    return len(words) >= 3 and sum(w[0].isupper() for w in words) / len(words) > 0.5


def _marked(text: str, start: int, end: int, title_case: bool) -> bool:
    """Is this mention marked as a term: quoted, capitalised mid-sentence, or written in capitals?"""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if before and before in _OPENING_QUOTES and after and after in _CLOSING_QUOTES:
        return True
    surface = text[start:end]
    if len(surface) >= 2 and surface.isupper() and not text.isupper():
        return True
    if surface[:1].isupper() and not title_case:
        return _SENTENCE_END.search(text[max(0, start - 3) : start]) is None and start > 0
    return False


def _fold_word(word: str) -> str:
    return word.lower()


def _stem(word: str) -> str:
    from app.search.text import _stem as stem

    return stem(word)


def _variants(key: str, alias: str) -> list[str]:
    """The alias, its plural ('SLAs', 'webhooks', 'businesses') and, for a two-word name, its closed
    compound ('true up' -> 'trueup'; hyphens and spaces already normalise to one space)."""
    forms = [key]
    words = key.split()
    if len(words) == 2 and len(key) >= 6 and not any(c.isdigit() for c in key):
        forms.append("".join(words))
    variants = []
    for form in forms:
        variants.append(form)
        if not form[-1].isalpha() or is_acronym(alias) and form.endswith("s"):
            continue
        if form.endswith(("s", "x", "z", "ch", "sh")):
            if not is_acronym(alias):
                variants.append(form + "es")
        else:
            variants.append(form + "s")
            if form.endswith("y") and form[-2:-1] not in "aeiou" and not is_acronym(alias):
                variants.append(form[:-1] + "ies")
    return list(dict.fromkeys(variants))


def _case_ok(entry: _Entry, surface: str, key: str, lowercase_writer: bool) -> bool:
    if not entry.acronym:
        return True
    bare = surface[:-1] if surface.endswith("s") and not entry.alias.endswith(("s", "S")) else surface
    letters = re.sub(r"[^0-9A-Za-z&]", "", bare)
    target = re.sub(r"[^0-9A-Za-z&]", "", entry.alias)
    if letters == target or letters == target.upper():
        return True
    if key in COMMON_WORDS or (key.endswith("s") and key[:-1] in COMMON_WORDS):
        return False
    # A long acronym in any case is safe; a short one only from someone who writes everything lowercase.
    return len(target) >= 4 or (lowercase_writer and len(target) == 3)
