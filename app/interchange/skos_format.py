"""SKOS as Turtle (rdflib): one skos:Concept per term in one skos:ConceptScheme.

Standard SKOS carries what other tools understand: skos:prefLabel (term), skos:altLabel
(aliases), skos:notation (slug), skos:definition (Definition section), skos:example (Example
section), skos:related, skos:broader/skos:narrower (the `parent` field) and dcterms:isReplacedBy.
Everything else goes in the `gl:` vocabulary (GLOSSARY_NS) so export -> import is lossless except
for the order of list items (RDF has none; import sorts them).

Import of any SKOS file: the slug is skos:notation, else derived from prefLabel; a concept with
no gl: fields becomes a draft like any other entry that lacks fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, TextIO

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.term import Node
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD

from app.interchange.records import TermRecord
from app.interchange.rows import RawRow
from app.text import slugify

GLOSSARY_NS = Namespace("https://glossary-assistant.invalid/ns#")
GL = GLOSSARY_NS
DEFAULT_BASE_URI = "https://glossary.invalid"

# record key -> predicate, for single text values and for lists of text.
_TEXT = {"summary": GL.summary, "domain": GL.domain, "status": GL.status, "definition": SKOS.definition,
         "for_procurement": GL.forProcurement, "for_it": GL.forIT, "our_rules": GL.ourRules,
         "example": SKOS.example}
_TEXT_LISTS = {"aliases": SKOS.altLabel, "ambiguous": GL.ambiguous, "owners": GL.owner, "tags": GL.tag,
               "questions": GL.question}


def concept_uri(base_uri: str, slug: str) -> URIRef:
    return URIRef(f"{base_uri.rstrip('/')}/terms/{slug}")


def scheme_uri(base_uri: str) -> URIRef:
    return URIRef(f"{base_uri.rstrip('/')}/terms/")


def to_graph(records: list[TermRecord], base_uri: str = DEFAULT_BASE_URI, title: str = "Glossary") -> Graph:
    g = Graph()
    g.bind("skos", SKOS)
    g.bind("dcterms", DCTERMS)
    g.bind("gl", GL)
    scheme = scheme_uri(base_uri)
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, DCTERMS.title, Literal(title)))
    for record in records:
        r = record.flat()
        c = concept_uri(base_uri, r["slug"])
        g.add((c, RDF.type, SKOS.Concept))
        g.add((c, SKOS.inScheme, scheme))
        g.add((c, SKOS.prefLabel, Literal(r["term"])))
        g.add((c, SKOS.notation, Literal(r["slug"])))
        for key, predicate in _TEXT.items():
            if r.get(key):
                g.add((c, predicate, Literal(r[key])))
        for key, predicate in _TEXT_LISTS.items():
            for item in r.get(key) or []:
                g.add((c, predicate, Literal(item)))
        for target in r.get("related") or []:
            g.add((c, SKOS.related, concept_uri(base_uri, target)))
        if r.get("parent"):
            parent = concept_uri(base_uri, r["parent"])
            g.add((c, SKOS.broader, parent))
            g.add((parent, SKOS.narrower, c))
        else:
            g.add((scheme, SKOS.hasTopConcept, c))
            g.add((c, SKOS.topConceptOf, scheme))
        if r.get("replaced_by"):
            g.add((c, DCTERMS.isReplacedBy, concept_uri(base_uri, r["replaced_by"])))
        if r.get("reviewed"):
            g.add((c, GL.reviewed, Literal(r["reviewed"], datatype=XSD.date)))
        for ref in r.get("references") or []:
            node = BNode()
            g.add((c, GL.reference, node))
            g.add((node, RDFS.label, Literal(ref["label"])))
            if ref.get("url"):
                g.add((node, GL.url, Literal(ref["url"], datatype=XSD.anyURI)))
    return g


def write(records: Iterable[TermRecord], out: TextIO, base_uri: str = DEFAULT_BASE_URI, title: str = "Glossary") -> None:
    out.write(to_graph(list(records), base_uri, title).serialize(format="turtle"))


def _texts(g: Graph, subject, predicate) -> list[str]:
    return sorted(str(o) for o in g.objects(subject, predicate) if isinstance(o, Literal))


def _one(g: Graph, subject, predicate, notes: list[str], name: str) -> str | None:
    """One literal; with several, prefer no language tag or English, and say so."""
    values = [o for o in g.objects(subject, predicate) if isinstance(o, Literal)]
    if not values:
        return None
    values.sort(key=lambda o: (o.language not in (None, "en"), o.language or "", str(o)))
    if len(values) > 1:
        notes.append(f"{len(values)} values for {name}, kept '{values[0]}'")
    return str(values[0])


def read(path: Path) -> list[RawRow]:
    """One RawRow per skos:Concept; a file that is not Turtle is one error row (line in the message)."""
    g = Graph()
    try:
        g.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises BadSyntax and a few others; all mean "not readable Turtle"
        return [_unreadable(path, exc)]
    concepts = set(g.subjects(RDF.type, SKOS.Concept))
    slugs: dict = {}
    for c in concepts:
        notation = _one(g, c, SKOS.notation, [], "notation")
        label = _one(g, c, SKOS.prefLabel, [], "prefLabel")
        slugs[c] = notation or slugify(label or "") or _tail(c)
    rows = [_concept_row(g, c, path, slugs) for c in sorted(concepts, key=lambda node: (slugs[node], str(node)))]
    if not concepts:
        rows.append(RawRow(path.name, error="no skos:Concept in the file"))
    return rows


def _unreadable(path: Path, exc: Exception) -> RawRow:
    """The error row of a file rdflib cannot parse, with the line when rdflib tells where."""
    text, index, why = getattr(exc, "_str", None), getattr(exc, "_i", None), getattr(exc, "_why", None)
    if isinstance(text, bytes) and isinstance(index, int) and why:
        line = text[:index].rstrip().count(b"\n") + 1  # rdflib's own line count is off
        return RawRow(f"{path.name}:{line}", error=f"invalid Turtle at line {line}: {why}; nothing imported from this file")
    message = " ".join(str(exc).split())[:300]
    return RawRow(path.name, error=f"invalid Turtle: {message}; nothing imported from this file")


def _concept_row(g: Graph, c: Node, path: Path, slugs: dict) -> RawRow:
    """One concept as a row: its labels and texts, then its links to other concepts and references."""
    where = f"{path.name}:<{c}>"
    notes: list[str] = []
    term = _one(g, c, SKOS.prefLabel, notes, "prefLabel")
    if not term:
        return RawRow(where, error="concept has no skos:prefLabel")
    data: dict = {"term": term}
    notation = _one(g, c, SKOS.notation, notes, "notation")
    if notation:
        data["slug"] = notation
    for key, predicate in _TEXT.items():
        value = _one(g, c, predicate, notes, key)
        if value is not None:
            data[key] = value
    for key, predicate in _TEXT_LISTS.items():
        values = _texts(g, c, predicate)
        if values:
            data[key] = values
    _links(g, c, slugs, data, notes)
    reviewed = _one(g, c, GL.reviewed, notes, "reviewed")
    if reviewed:
        data["reviewed"] = reviewed
    references = []
    for node in g.objects(c, GL.reference):
        label = _one(g, node, RDFS.label, notes, "reference label")
        if label:
            references.append({"label": label, "url": _one(g, node, GL.url, notes, "reference url")})
    if references:
        data["references"] = sorted(references, key=lambda r: (r["label"], r["url"] or ""))
    return RawRow(where, data=data, notes=tuple(notes))


def _links(g: Graph, c: Node, slugs: dict, data: dict, notes: list[str]) -> None:
    """related, parent (skos:broader, or the inverse narrower) and replaced_by, as slugs."""

    def slug_of(node: Node) -> str:
        return slugs.get(node) or _tail(node)

    related = sorted(slug_of(o) for o in g.objects(c, SKOS.related))
    if related:
        data["related"] = related
    parents = sorted(slug_of(o) for o in g.objects(c, SKOS.broader))
    parents = parents or sorted(slug_of(s) for s in g.subjects(SKOS.narrower, c))
    if parents:
        data["parent"] = parents[0]
        if len(parents) > 1:
            notes.append(f"several broader concepts, kept '{parents[0]}' as parent")
    replaced = sorted(slug_of(o) for o in g.objects(c, DCTERMS.isReplacedBy))
    if replaced:
        data["replaced_by"] = replaced[0]


def _tail(node) -> str:
    text = str(node).rstrip("/#")
    for sep in "/#:":
        text = text.rsplit(sep, 1)[-1]
    return slugify(text)
