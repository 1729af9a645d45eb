"""The glossary's data model: terms as written by curators, after validation and org rendering."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.glossary.policy import Policy

Domain = Literal["it", "procurement", "shared"]
Status = Literal["draft", "approved", "deprecated"]

# Body headings as written in term files -> section keys used everywhere else.
SECTION_HEADINGS: dict[str, str] = {
    "Definition": "definition",
    "For procurement": "procurement",
    "For IT": "it",
    "Our rules": "rules",
    "Example": "example",
}
SECTION_TITLES = {key: heading for heading, key in SECTION_HEADINGS.items()}


def normalize(text: str) -> str:
    """Fold case, accents and punctuation so 'Auto-Renewal' and 'auto renewal' compare equal."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9&]+", " ", text.lower()).split())


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1)
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        if value and not re.match(r"^https?://", value):
            raise ValueError("must start with http:// or https://")
        return value


class FrontMatter(BaseModel):
    """The YAML header of a term file, exactly as curators write it."""

    model_config = ConfigDict(extra="forbid")

    term: str = Field(min_length=1)
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    aliases: list[str] = Field(default_factory=list)
    ambiguous: list[str] = Field(default_factory=list)
    domain: Domain
    summary: str = Field(min_length=1)
    status: Status
    replaced_by: str | None = None
    parent: str | None = None  # slug of the broader term (SKOS broader)
    related: list[str] = Field(default_factory=list)
    owners: list[str] = Field(min_length=1)
    reviewed: date
    references: list[Reference] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)

    @field_validator("aliases", "ambiguous", "related", "owners", "tags", "questions", mode="before")
    @classmethod
    def _list_of_strings(cls, value: object) -> object:
        if value is None:
            return []
        if isinstance(value, list):
            return [str(item) if isinstance(item, (int, float)) else item for item in value]
        return value


class Term(FrontMatter):
    """A validated term with its body sections rendered (org placeholders filled in, Markdown)."""

    sections: dict[str, str]
    source: str = ""
    rules: list[str] = Field(default_factory=list)  # ids of the policy rules "Our rules" cites, in order

    @property
    def names(self) -> list[str]:
        """Return the canonical name followed by every alias."""
        return [self.term, *self.aliases]

    def section(self, key: str) -> str:
        return self.sections.get(key, "")


@dataclass
class Glossary:
    """All terms by slug, with an index of normalized names and aliases."""

    terms: dict[str, Term]
    org: dict
    content_hash: str
    by_name: dict[str, list[str]] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)

    def __post_init__(self) -> None:
        if not self.by_name:
            for slug, term in self.terms.items():
                for name in term.names:
                    slugs = self.by_name.setdefault(normalize(name), [])
                    if slug not in slugs:
                        slugs.append(slug)

    def __len__(self) -> int:
        return len(self.terms)

    def get(self, slug: str) -> Term | None:
        return self.terms.get(slug)

    def lookup(self, name: str) -> list[Term]:
        """Return the terms whose name or alias equals `name` (ignoring case and punctuation)."""
        return [self.terms[s] for s in self.by_name.get(normalize(name), [])]

    def is_ambiguous(self, name: str) -> bool:
        return len(self.by_name.get(normalize(name), [])) > 1
