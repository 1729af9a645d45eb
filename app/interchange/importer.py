"""Plan an import (a per-row report and the files it would write), check it, then write it.

Rules, also in the README ("Import and export"):

* Each row is typed (`rows.ImportRow`) and becomes a record (`records.TermRecord`, checked by
  the loader's model). A row without `term`, without a definition, without a domain (none in the
  row and no `--domain`), or with a bad value is an **error** row; the other rows go on.
* A row that lacks summary, owners, reviewed, or the For procurement / For IT / Example text gets
  derived values (first sentence of the definition, `--owner`, today, "To be written by the
  curators.") and becomes a **draft** tagged `imported`.
* Rows of one import with the same slug are one term: the first row leads, later rows add their
  aliases, references, related, tags and questions, and a different definition is appended as
  "Also defined as (source): …"; different domains make it `shared`.
* A slug that already has a file is **skipped**, unless `force` (**overwrite** the file) or
  `merge` (**merge**: add the new aliases to the existing file, nothing else changes).
* Names beat aliases: an imported term whose name is already a name or alias of another term is
  skipped; an imported alias that is already a name or alias of another term is dropped (kept
  only when both terms declare it under `ambiguous`).
* related / parent links to slugs that neither exist nor are imported are dropped; a parent that
  would close a loop is dropped; a deprecated term whose replacement is unknown is an error row.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from app.glossary.loader import ORG_FILE, POLICY_FILE, TERMS_DIR, LoadResult, load_glossary, load_org, split_front_matter
from app.glossary.model import normalize
from app.interchange import csv_format, jsonl_format, skos_format
from app.interchange.records import (
    LIST_FIELDS, PLACEHOLDER_TEXT, SECTION_FIELDS, RowError, TermRecord, clean_block, clean_line, drop_foreign_links,
    dump_front_matter, first_sentence, link_allowed, term_file_text, validated_record,
)
from app.interchange.rows import ImportRow
from app.text import DOMAINS, slugify

READERS = {"csv": csv_format.read, "jsonl": jsonl_format.read, "skos": skos_format.read}
DEFAULT_OWNER = "Glossary curators"
IMPORTED_TAG = "imported"
# Sections a complete term has; "our_rules" may stay empty.
_REQUIRED_SECTIONS = ("for_procurement", "for_it", "example")


@dataclass
class Source:
    """One file to import; `domain` applies to its rows that do not name one."""

    path: Path
    format: str
    domain: str | None = None


@dataclass
class ReportLine:
    where: str
    action: str  # create | overwrite | merge | skip | error
    slug: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}\t{self.action}\t{self.slug or '-'}\t{self.reason}"


@dataclass
class _Candidate:
    record: TermRecord
    where: str
    notes: list[str]
    derived: list[str]
    source_label: str | None
    action: str = ""
    reason: str = ""
    new_aliases: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    where: str
    slug: str
    error: str | None = None
    leader: _Candidate | None = None  # set for the first row of a slug
    follows: _Candidate | None = None  # set for later rows with the same slug
    notes: list[str] = field(default_factory=list)


@dataclass
class _Existing:
    term: str
    aliases: list[str]
    ambiguous: list[str]
    parent: str | None
    path: Path


@dataclass
class ImportPlan:
    """What an import would do: one report line per input row and the files to write."""

    glossary_dir: Path
    lines: list[ReportLine]
    files: dict[str, str]  # slug -> whole new text of terms/<slug>.md

    def counts(self) -> Counter:
        return Counter(line.action for line in self.lines)

    @property
    def errors(self) -> list[ReportLine]:
        return [line for line in self.lines if line.action == "error"]

    def summary(self) -> str:
        counts = self.counts()
        parts = [f"{counts[a]} {a}" for a in ("create", "overwrite", "merge", "skip", "error") if counts[a]]
        return f"{len(self.lines)} row(s): {', '.join(parts) or 'nothing to do'}; {len(self.files)} file(s) to write"

    def write(self) -> list[Path]:
        """Write every planned file (each one atomically); return the paths written."""
        terms = self.glossary_dir / TERMS_DIR
        terms.mkdir(parents=True, exist_ok=True)
        written = []
        for slug, text in self.files.items():
            target = terms / f"{slug}.md"
            fd, tmp = tempfile.mkstemp(prefix=f".{slug}.", suffix=".tmp", dir=terms)
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                    fh.write(text)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            written.append(target)
        return written

    def check(self) -> LoadResult:
        """Run the glossary checker on a temporary copy with the planned files written (a dry run)."""
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / self.glossary_dir.name
            (copy / TERMS_DIR).mkdir(parents=True)
            for name in (ORG_FILE, POLICY_FILE):  # the policy too: terms cite its rules
                if (self.glossary_dir / name).exists():
                    shutil.copy2(self.glossary_dir / name, copy / name)
            for path in sorted((self.glossary_dir / TERMS_DIR).glob("*.md")):
                shutil.copy2(path, copy / TERMS_DIR / path.name)
            ImportPlan(copy, self.lines, self.files).write()
            return load_glossary(copy)


# --- one row -> one candidate -----------------------------------------------------------------

DRAFT_NOTE = "(imported; --trusted keeps it)"


def build_candidate(data: dict, *, domain: str | None, owner: str, today: date, org: dict,
                    trusted: bool = False, link_hosts: list[str] | tuple[str, ...] = ()) -> _Candidate:
    """Turn one raw row into a record with derived values; raise RowError when it cannot be a term.

    The row is typed first (`ImportRow`: wrong types and shapes are errors that name the field);
    the record's fields are then gathered and checked at once by `TermRecord`, the loader's model.
    Untrusted rows (the default) arrive as drafts, and their links to hosts outside `link_hosts` keep
    only their text; `trusted` (our own export, restored) keeps status and links as they are.
    """
    row = ImportRow.of(data)
    notes = [f"ignored unknown field(s): {', '.join(row.unknown)}"] if row.unknown else []
    fields = _identity(row, domain)
    fields.update(_sections(row, org, trusted, link_hosts))
    derived = _derive(fields, row, owner, today)
    fields["references"], dropped = _references(row, trusted, link_hosts)
    notes += [f"reference link dropped (host not in GLOSSARY_IMPORT_LINK_HOSTS): {url}" for url in dropped]
    source_label = _source_reference(fields["references"], row, trusted, link_hosts)
    _status(fields, row.status, derived, notes, trusted)
    return _Candidate(record=validated_record(fields), where="", notes=notes, derived=derived, source_label=source_label)


def _identity(row: ImportRow, domain: str | None) -> dict:
    """Name, slug, list fields, domain and links of a row."""
    if not row.term:
        raise RowError("missing 'term'")
    slug = row.slug or slugify(row.term)
    if not slug:
        raise RowError(f"cannot derive a slug from {row.term!r}; give one in 'slug'")
    if not (row.domain or domain):
        raise RowError("no domain: the row names none; pass --domain it|procurement|shared")
    return {"term": row.term, "slug": slug, "domain": row.domain or domain, "replaced_by": row.replaced_by or None,
            "parent": row.parent or None, **{key: list(getattr(row, key)) for key in LIST_FIELDS}}


def _sections(row: ImportRow, org: dict, trusted: bool, link_hosts: list[str] | tuple[str, ...]) -> dict[str, str]:
    """The body sections, made inert for a term file; a definition is required."""
    texts = {}
    for column in SECTION_FIELDS:
        value = row.section(column)
        text = clean_block(value, org) if value else ""
        texts[column] = drop_foreign_links(text, link_hosts) if text and not trusted else text
    if not texts["definition"]:
        raise RowError("missing 'definition'")
    return texts


def _derive(fields: dict, row: ImportRow, owner: str, today: date) -> list[str]:
    """Fill in what the row lacks (summary, sections, owners, reviewed); return the fields derived."""
    derived: list[str] = []
    fields["summary"] = row.summary or first_sentence(fields["definition"])
    if not row.summary:
        derived.append("summary")
    for column in _REQUIRED_SECTIONS:
        if not fields[column]:
            fields[column] = PLACEHOLDER_TEXT
            derived.append(column)
    if not fields["owners"]:
        fields["owners"] = [owner]
        derived.append("owners")
    fields["reviewed"] = row.reviewed or today
    if row.reviewed is None:
        derived.append("reviewed")
    return derived


def _references(row: ImportRow, trusted: bool, link_hosts: list[str] | tuple[str, ...]) -> tuple[list[dict], list[str]]:
    """The row's references and the links dropped from them: untrusted rows keep links only to allowed hosts."""
    refs, dropped = [], []
    for ref in row.references:
        url = ref.url
        if url and not trusted and not link_allowed(url, link_hosts):
            dropped.append(url)
            url = None
        refs.append({"label": ref.label, "url": url})
    return refs, dropped


def _source_reference(references: list[dict], row: ImportRow, trusted: bool,
                      link_hosts: list[str] | tuple[str, ...]) -> str | None:
    """Turn the row's source and licence into a reference; return the source's label, if any.

    An untrusted row keeps the source's link only to an allowed host.
    """
    if not (row.source or row.license):
        return None
    source_label = row.source or "unnamed source"
    label = source_label + (f" ({row.license})" if row.license else "")
    url = row.source if re.match(r"^https?://\S+$", row.source) and (trusted or link_allowed(row.source, link_hosts)) else None
    if all(ref["label"] != label for ref in references):
        references.append({"label": label, "url": url})
    return source_label


def _status(fields: dict, status: str, derived: list[str], notes: list[str], trusted: bool) -> None:
    """A row with derived values is a draft tagged `imported`; an untrusted row is a draft too."""
    if derived:
        if status and status != "draft":
            notes.append(f"status {status!r} -> draft because {', '.join(derived)} had to be derived")
        fields["status"] = "draft"
        if IMPORTED_TAG not in fields["tags"]:
            fields["tags"].append(IMPORTED_TAG)
    elif trusted or status in ("draft", "deprecated"):
        fields["status"] = status or "draft"
    else:
        # Nobody here has reviewed an imported definition yet, however complete its row looks.
        notes.append(f"status {status!r} -> draft {DRAFT_NOTE}")
        fields["status"] = "draft"


def _merge_duplicate(leader: _Candidate, other: _Candidate) -> list[str]:
    """Fold a later row with the same slug into the first one; return what happened."""
    a, b = leader.record, other.record
    notes = []
    added = [n for n in [b.term, *b.aliases] if normalize(n) not in {normalize(x) for x in [a.term, *a.aliases]}]
    if added:
        a.aliases.extend(added)
        notes.append(f"aliases merged: {', '.join(added)}")
    for key in ("ambiguous", "related", "owners", "tags", "questions"):
        mine = getattr(a, key)
        mine.extend(x for x in getattr(b, key) if x not in mine)
    for ref in b.references:
        if ref not in a.references:
            a.references.append(ref)
    notes.extend(_merge_definition(a, b, other.source_label))
    if a.domain != b.domain:
        notes.append(f"domains {a.domain} and {b.domain} -> shared")
        a.domain = "shared"
    for column in _REQUIRED_SECTIONS:
        if getattr(a, column) == PLACEHOLDER_TEXT and getattr(b, column) != PLACEHOLDER_TEXT:
            setattr(a, column, getattr(b, column))
    a.parent = a.parent or b.parent
    return notes or ["nothing new"]


def _merge_definition(a: TermRecord, b: TermRecord, source_label: str | None) -> list[str]:
    """Append a different definition as a second sense (the merged term then needs review)."""
    if normalize(b.definition) in normalize(a.definition):
        return []
    origin = f" (source: {source_label})" if source_label else ""
    a.definition += f"\n\nAlso defined as{origin}: {b.definition}"
    notes = ["its definition appended as a second sense"]
    if a.status != "draft":
        a.status = "draft"
        notes.append("status -> draft (merged definitions need review)")
    return notes


# --- the existing glossary ----------------------------------------------------------------------

def _existing_terms(terms_dir: Path) -> dict[str, _Existing]:
    """Names of every term file, read leniently: a broken file still owns its slug."""
    found = {}
    for path in sorted(terms_dir.glob("*.md")) if terms_dir.is_dir() else []:
        term, aliases, ambiguous, parent = "", [], [], None
        try:
            split = split_front_matter(path.read_text(encoding="utf-8"))
            data = yaml.safe_load(split[0]) if split else None
            if isinstance(data, dict):
                term = str(data.get("term") or "")
                aliases = [str(a) for a in data.get("aliases") or [] if a is not None]
                ambiguous = [str(a) for a in data.get("ambiguous") or [] if a is not None]
                parent = str(data["parent"]) if data.get("parent") else None
        except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError):
            pass
        found[path.stem] = _Existing(term, aliases, ambiguous, parent, path)
    return found


_TOP_KEY = re.compile(r"^[^\s#-]")


def merged_file_text(path: Path, new_aliases: list[str]) -> str:
    """The existing term file with `new_aliases` appended to its aliases; every other line kept."""
    text = path.read_text(encoding="utf-8")
    split = split_front_matter(text)
    if split is None:
        raise RowError(f"cannot merge: {path.name} has no front matter")
    front, body, _ = split
    try:
        data = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        raise RowError(f"cannot merge: {path.name} has invalid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise RowError(f"cannot merge: {path.name} front matter is not a mapping")
    aliases = [*(data.get("aliases") or []), *new_aliases]
    new_block = dump_front_matter({"aliases": aliases}).splitlines(keepends=True)
    lines = front.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"^aliases\s*:", line)), None)
    if start is None:
        after = next((i for i, line in enumerate(lines) if re.match(r"^slug\s*:", line)), 0)
        lines[after + 1 : after + 1] = new_block
    else:
        end = start + 1
        while end < len(lines) and not _TOP_KEY.match(lines[end]):
            end += 1
        lines[start:end] = new_block
    new_front = "".join(lines)
    if not new_front.endswith("\n"):
        new_front += "\n"
    check = yaml.safe_load(new_front)
    if not isinstance(check, dict) or check.get("aliases") != aliases:  # pragma: no cover - defensive
        raise RowError(f"cannot merge: could not rewrite the aliases of {path.name}")
    return f"---\n{new_front}---\n{body}"


# --- the plan ---------------------------------------------------------------------------------

def plan_import(glossary_dir: Path, sources: list[Source], *, force: bool = False, merge: bool = False,
                owner: str = DEFAULT_OWNER, today: date | None = None, trusted: bool = False,
                link_hosts: list[str] | tuple[str, ...] = ()) -> ImportPlan:
    """Read every source and decide, row by row, what the import does; nothing is written here."""
    if force and merge:
        raise ValueError("choose --force or --merge, not both")
    _check_sources(sources)
    glossary_dir = Path(glossary_dir)
    owner = clean_line(owner) or DEFAULT_OWNER
    org, _ = load_org(glossary_dir / ORG_FILE, ORG_FILE)
    existing = _existing_terms(glossary_dir / TERMS_DIR)
    entries, groups = _read_entries(sources, owner=owner, today=today or date.today(), org=org, trusted=trusted,
                                    link_hosts=link_hosts)
    for slug, c in groups.items():
        _decide(c, exists=slug in existing, force=force, merge=merge)
    _resolve(groups, existing)
    files = _planned_files(groups, existing)
    return ImportPlan(glossary_dir, [_report_line(e) for e in entries], files)


def _check_sources(sources: list[Source]) -> None:
    for source in sources:
        if source.format not in READERS:
            raise ValueError(f"unknown format {source.format!r} (use {', '.join(READERS)})")
        if source.domain is not None and source.domain not in DOMAINS:
            raise ValueError(f"unknown domain {source.domain!r} (use {', '.join(sorted(DOMAINS))})")


def _read_entries(sources: list[Source], *, owner: str, today: date, org: dict, trusted: bool = False,
                  link_hosts: list[str] | tuple[str, ...] = ()) -> tuple[list[_Entry], dict[str, _Candidate]]:
    """One entry per row read; rows with the same slug are folded into the first (the group's leader)."""
    entries: list[_Entry] = []
    groups: dict[str, _Candidate] = {}
    for source in sources:
        for raw in READERS[source.format](Path(source.path)):
            if raw.error is not None:
                entries.append(_Entry(raw.where, "", error=raw.error))
                continue
            try:
                cand = build_candidate(raw.data or {}, domain=source.domain, owner=owner, today=today, org=org,
                                       trusted=trusted, link_hosts=link_hosts)
            except RowError as exc:
                term = (raw.data or {}).get("term")
                entries.append(_Entry(raw.where, slugify(term) if isinstance(term, str) else "", error=str(exc)))
                continue
            cand.where = raw.where
            cand.notes[:0] = list(raw.notes)
            slug = cand.record.slug
            if slug in groups:
                entries.append(_Entry(raw.where, slug, follows=groups[slug],
                                      notes=list(raw.notes) + _merge_duplicate(groups[slug], cand)))
            else:
                groups[slug] = cand
                entries.append(_Entry(raw.where, slug, leader=cand))
    return entries, groups


def _decide(c: _Candidate, *, exists: bool, force: bool, merge: bool) -> None:
    """Create a new slug; an existing one is overwritten (--force), merged (--merge) or skipped."""
    if not exists:
        c.action, c.reason = "create", "new draft" if c.record.status == "draft" and c.derived else "new term"
    elif force:
        c.action, c.reason = "overwrite", "replaces the existing file (--force)"
    elif merge:
        c.action, c.reason = "merge", ""
    else:
        c.action, c.reason = "skip", "a term with this slug exists (--force overwrites it, --merge adds new aliases)"
    if c.derived and c.action in ("create", "overwrite"):
        c.reason += f"; derived: {', '.join(c.derived)}"


def _planned_files(groups: dict[str, _Candidate], existing: dict[str, _Existing]) -> dict[str, str]:
    """The text of every file the import writes; a file that cannot be made turns its row into an error."""
    files: dict[str, str] = {}
    for slug, c in groups.items():
        try:
            if c.action in ("create", "overwrite"):
                # The model's own checks, once more, on the record as the cross-term rules left it.
                files[slug] = term_file_text(validated_record(c.record.model_dump()))
            elif c.action == "merge":
                files[slug] = merged_file_text(existing[slug].path, c.new_aliases)
        except RowError as exc:
            c.action, c.reason = "error", str(exc)
    return files


def _report_line(e: _Entry) -> ReportLine:
    if e.error is not None:
        return ReportLine(e.where, "error", e.slug, e.error)
    if e.leader is not None:
        c = e.leader
        return ReportLine(e.where, c.action, e.slug, "; ".join(part for part in [c.reason, *c.notes] if part))
    leader = e.follows
    assert leader is not None
    action = "merge" if leader.action in ("create", "overwrite", "merge") else "skip"
    reason = f"same slug as {leader.where} ({leader.action}): " + "; ".join(e.notes)
    return ReportLine(e.where, action, e.slug, reason)


def _resolve(groups: dict[str, _Candidate], existing: dict[str, _Existing]) -> None:
    """Apply the cross-term rules: names, aliases, links, parents (see the module docstring)."""
    book = _NameBook.of(groups, existing)
    book.check_names()
    for c in [c for c in groups.values() if c.action in ("create", "overwrite", "merge")]:
        book.resolve_aliases(c)
    _check_links(groups, existing)
    _break_parent_loops(groups, existing)


def _writes(groups: dict[str, _Candidate]) -> list[_Candidate]:
    return [c for c in groups.values() if c.action in ("create", "overwrite")]


@dataclass
class _NameBook:
    """Who holds which name or alias (normalized), across the existing and the imported terms."""

    groups: dict[str, _Candidate]
    taken: dict[str, list[str]] = field(default_factory=dict)
    ambiguous: dict[str, set[str]] = field(default_factory=dict)
    imported_aliases: dict[str, set[str]] = field(default_factory=dict)  # alias -> imported slugs holding it
    names: set[str] = field(default_factory=set)  # names of every term (existing and imported)

    @classmethod
    def of(cls, groups: dict[str, _Candidate], existing: dict[str, _Existing]) -> _NameBook:
        book = cls(groups)
        replaced = {c.record.slug for c in _writes(groups) if c.action == "overwrite"}
        for slug, ex in existing.items():
            if slug in replaced:
                continue
            for name in [ex.term, *ex.aliases]:
                if name:
                    book.take(name, slug)
            book.names.add(normalize(ex.term))
            book.ambiguous[slug] = {normalize(a) for a in ex.ambiguous}
        for c in _writes(groups):
            book.ambiguous[c.record.slug] = {normalize(a) for a in c.record.ambiguous}
        return book

    def take(self, name: str, slug: str) -> None:
        holders = self.taken.setdefault(normalize(name), [])
        if slug not in holders:
            holders.append(slug)

    def check_names(self) -> None:
        """Names beat aliases: an imported name already used by another term cannot be written."""
        for c in _writes(self.groups):
            slug, name = c.record.slug, c.record.term
            others = [s for s in self.taken.get(normalize(name), []) if s != slug]
            if others:
                c.action, c.reason = "skip", (f"the name {name!r} is already a name or alias of '{others[0]}'; "
                                              "rename it or add it by hand")
            else:
                self.take(name, slug)
                self.names.add(normalize(name))

    def resolve_aliases(self, c: _Candidate) -> None:
        """Drop the aliases that belong to another term (unless both declare them ambiguous)."""
        r = c.record
        candidates = [r.term, *r.aliases] if c.action == "merge" else list(r.aliases)
        kept, dropped = [], []
        for alias in candidates:
            fate = self._alias_fate(c, alias)
            if fate == "kept":
                kept.append(alias)
            elif fate:
                dropped.append(fate)
        if dropped:
            c.notes.append(f"alias(es) dropped, already a name or alias of another term: {', '.join(dropped)}")
        if c.action == "merge":
            c.notes = [n for n in c.notes if not n.endswith(DRAFT_NOTE)]  # a merge changes only aliases
            c.new_aliases = kept
            if kept:
                c.reason = f"adds aliases: {', '.join(kept)}"
            else:
                c.action, c.reason = "skip", "a term with this slug exists and the row adds no new alias"
            return
        r.aliases = kept
        keep = {normalize(a) for a in kept}
        r.ambiguous = [a for a in r.ambiguous if normalize(a) in keep]

    def _alias_fate(self, c: _Candidate, alias: str) -> str:
        """'kept', '' (left out silently or with a note) or the dropped alias's description."""
        slug, n = c.record.slug, normalize(alias)
        if not n:
            c.notes.append(f"alias {alias!r} dropped: no letters or digits")
            return ""
        holders = self.taken.get(n, [])
        if c.action == "merge" and slug in holders:
            return ""  # the existing term already has it
        others = [s for s in holders if s != slug]
        declared = n in self.ambiguous.get(slug, set()) and all(n in self.ambiguous.get(o, set()) for o in others)
        shared = (c.action != "merge" and n not in self.names
                  and all(o in self.imported_aliases.get(n, set()) for o in others))
        if others and not declared and not shared:
            return f"{alias!r} (also '{others[0]}')"
        if others and not declared:
            self._declare_ambiguous(c, alias, others)
        self.take(alias, slug)
        if c.action != "merge":
            self.imported_aliases.setdefault(n, set()).add(slug)
        return "kept"

    def _declare_ambiguous(self, c: _Candidate, alias: str, others: list[str]) -> None:
        """An alias two imported terms share becomes an ambiguous alias of both."""
        slug, n = c.record.slug, normalize(alias)
        for o in [slug, *others]:
            if n not in self.ambiguous[o]:
                self.ambiguous[o].add(n)
                self.groups[o].record.ambiguous.append(alias if o == slug else next(
                    a for a in self.groups[o].record.aliases if normalize(a) == n))
        c.notes.append(f"alias {alias!r} declared ambiguous (also an alias of {', '.join(others)})")
        for o in others:
            self.groups[o].notes.append(f"alias {alias!r} declared ambiguous (also an alias of {slug})")


def _check_links(groups: dict[str, _Candidate], existing: dict[str, _Existing]) -> None:
    """A replacement must exist (else the row is an error, which may cascade); unknown related/parent go."""
    while True:
        known = set(existing) | {c.record.slug for c in _writes(groups)}
        broken = [c for c in _writes(groups) if c.record.replaced_by and c.record.replaced_by not in known]
        if not broken:
            break
        for c in broken:
            c.action, c.reason = "error", f"replaced_by: '{c.record.replaced_by}' is neither in the glossary nor imported"
    known = set(existing) | {c.record.slug for c in _writes(groups)}
    for c in _writes(groups):
        r = c.record
        missing = [s for s in r.related if s not in known or s == r.slug]
        if missing:
            r.related = [s for s in r.related if s not in missing]
            c.notes.append(f"related dropped (unknown slug): {', '.join(missing)}")
        if r.parent and (r.parent not in known or r.parent == r.slug):
            c.notes.append(f"parent dropped (unknown slug): {r.parent}")
            r.parent = None


def _break_parent_loops(groups: dict[str, _Candidate], existing: dict[str, _Existing]) -> None:
    """Parents must not loop: a parent that would close a loop is dropped."""
    parents = {slug: ex.parent for slug, ex in existing.items()}
    parents.update({c.record.slug: None for c in _writes(groups)})
    for c in _writes(groups):
        slug, parent = c.record.slug, c.record.parent
        seen, current = {slug}, parent
        while current and current not in seen:
            seen.add(current)
            current = parents.get(current)
        if current == slug:
            c.notes.append(f"parent dropped: {parent} would make the parents loop")
            c.record.parent = None
        parents[slug] = c.record.parent
