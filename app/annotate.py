"""Define-on-hover: spot glossary terms in text taken from a host page, with the spotter's case rules.

The widget sends the text nodes of the region it annotates; spotting them together keeps the
page-wide case rules (a page written all in lower case may write 'sso'), and spots that would
cross from one node into the next are dropped. Offsets are returned in UTF-16 code units, the
unit of JavaScript strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

from app.search.spotter import Spotter

SEPARATOR = "\n\n"


@dataclass(frozen=True)
class TextSpot:
    text: int  # index of the text in the request
    start: int  # UTF-16 offsets inside that text
    end: int
    surface: str
    slugs: tuple[str, ...]


def _utf16_offsets(text: str) -> list[int] | None:
    """Map code-point offsets to UTF-16 offsets, or None when they are the same."""
    if all(ord(c) <= 0xFFFF for c in text):
        return None
    return [0, *accumulate(2 if ord(c) > 0xFFFF else 1 for c in text)]


def spot_texts(spotter: Spotter, texts: list[str], *, strong_only: bool = True, limit: int = 5000) -> list[TextSpot]:
    """Find glossary mentions in each text; mentions that are just everyday words are left out."""
    starts = []
    pos = 0
    for text in texts:
        starts.append(pos)
        pos += len(text) + len(SEPARATOR)
    joined = SEPARATOR.join(texts)
    out: list[TextSpot] = []
    index = 0
    mappings: dict[int, list[int] | None] = {}
    for spot in spotter.spot(joined, limit=limit):
        if strong_only and not spot.strong:
            continue
        while index + 1 < len(starts) and starts[index + 1] <= spot.start:
            index += 1
        start = spot.start - starts[index]
        end = spot.end - starts[index]
        text = texts[index]
        if end > len(text):  # runs into the next node
            continue
        if index not in mappings:
            mappings[index] = _utf16_offsets(text)
        mapping = mappings[index]
        if mapping is not None:
            start, end = mapping[start], mapping[end]
        out.append(TextSpot(index, start, end, spot.surface, spot.slugs))
    return out
