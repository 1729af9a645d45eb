"""Import and export (CSV, JSON Lines, SKOS): round trips, dry runs, merge rules, bad rows, hostile text,
and the external FAR/NIST glossaries imported into a scratch glossary."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.glossary import load_glossary
from app.interchange import Source, export_text, plan_import
from app.interchange.csv_format import join_list, split_list
from app.interchange.records import PLACEHOLDER_TEXT, TermRecord, read_records
from app.render import to_html
from tests.conftest import FIXTURE_GLOSSARY, SHARED
from tests.fakes import FakeEmbedder

EXTERNAL = SHARED / "external"
EXTERNAL_FILES = [("far_2101_procurement.jsonl", "procurement"),
                  ("far_part_definitions_procurement.jsonl", "procurement"),
                  ("nist_sp800-53r5_glossary_it_security.jsonl", "it")]
runner = CliRunner()


def empty_glossary(tmp_path: Path, name: str = "target") -> Path:
    """A glossary folder with the fixture's org file and no terms yet."""
    target = tmp_path / name / "glossary"
    (target / "terms").mkdir(parents=True)
    shutil.copy(FIXTURE_GLOSSARY / "org.yaml", target / "org.yaml")
    return target


def snapshot(glossary_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((glossary_dir / "terms").glob("*"))}


def write_lines(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def import_rows(glossary_dir: Path, path: Path, fmt: str = "jsonl", **kwargs):
    plan = plan_import(glossary_dir, [Source(path, fmt, kwargs.pop("domain", "procurement"))], **kwargs)
    return plan, {line.slug: line for line in plan.lines}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


# --- the parent field ---------------------------------------------------------------------------

def test_parent_must_resolve_and_not_loop(fixture_glossary):
    sow = fixture_glossary / "terms/statement-of-work.md"
    msa = fixture_glossary / "terms/master-services-agreement.md"
    edit(sow, "status: approved", "status: approved\nparent: master-services-agreement")
    result = load_glossary(fixture_glossary)
    assert result.ok(), result.problems
    assert result.glossary.terms["statement-of-work"].parent == "master-services-agreement"

    edit(msa, "status: approved", "status: approved\nparent: statement-of-work")
    errors = [str(p) for p in load_glossary(fixture_glossary).errors]
    assert any("parent: parents form a loop: master-services-agreement -> statement-of-work -> master-services-agreement"
               in e for e in errors), errors

    edit(msa, "parent: statement-of-work", "parent: nowhere")
    errors = [str(p) for p in load_glossary(fixture_glossary).errors]
    assert any("master-services-agreement.md:8: error: parent: 'nowhere' is not a known slug" in e for e in errors), errors


# --- round trips --------------------------------------------------------------------------------

def comparable(records: list[TermRecord], unordered: bool) -> list[dict]:
    """Records as a format keeps them; SKOS (RDF) keeps list items but not their order."""
    out = []
    for record in records:
        r = record.flat()
        if unordered:
            for key in ("aliases", "ambiguous", "related", "owners", "tags", "questions"):
                r[key] = sorted(r[key])
            r["references"] = sorted(r["references"], key=lambda ref: (ref["label"], ref["url"] or ""))
        out.append(r)
    return out


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "skos"])
def test_round_trip_is_lossless(fmt, fixture_glossary, tmp_path):
    # Give the fixture what it lacks: a parent, a ';' inside a list item, Markdown across lines.
    edit(fixture_glossary / "terms/statement-of-work.md", "status: approved",
         "status: approved\nparent: master-services-agreement")
    edit(fixture_glossary / "terms/single-sign-on.md", "aliases: [SSO]", "aliases: [SSO, 'login; once', single sign on]")
    edit(fixture_glossary / "terms/single-sign-on.md", "## Example\n", "## Example\n- one\n- two\n\n> quoted\n")
    original, _ = read_records(fixture_glossary)

    exported = tmp_path / f"export.{fmt}"
    result = runner.invoke(cli, ["export", "--format", fmt, "--output", str(exported), "--glossary-dir", str(fixture_glossary)])
    assert result.exit_code == 0, result.output
    target = empty_glossary(tmp_path)
    result = runner.invoke(cli, ["import", str(exported), "--format", fmt, "--write", "--trusted",
                                 "--glossary-dir", str(target)])
    assert result.exit_code == 0, result.output
    assert "7 create" in result.output

    assert load_glossary(target).ok(), load_glossary(target).problems
    back, _ = read_records(target)
    assert comparable(back, fmt == "skos") == comparable(original, fmt == "skos")
    if fmt != "skos":  # the very same files, byte for byte, once written by the importer
        again = empty_glossary(tmp_path, "again")
        exported.write_text(export_text(target, fmt), encoding="utf-8")
        plan_import(again, [Source(exported, fmt)], trusted=True).write()
        assert snapshot(again) == snapshot(target)


def test_export_to_stdout_and_rendered(fixture_glossary):
    result = runner.invoke(cli, ["export", "--format", "jsonl", "--glossary-dir", str(fixture_glossary)])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    po = next(r for r in rows if r["slug"] == "purchase-order")
    assert "{{ org.thresholds.three_quotes | money }}" in po["our_rules"]
    assert po["references"] == [{"label": "Testco buying policy", "url": None}]
    rendered = export_text(fixture_glossary, "jsonl", rendered=True)
    assert "€5,000" in rendered and "{{" not in rendered


def test_skos_uses_standard_properties(fixture_glossary):
    from rdflib import Graph, URIRef
    from rdflib.namespace import RDF, SKOS

    edit(fixture_glossary / "terms/statement-of-work.md", "status: approved",
         "status: approved\nparent: master-services-agreement")
    g = Graph().parse(data=export_text(fixture_glossary, "skos", base_uri="https://glossary.example.com"), format="turtle")
    sow = URIRef("https://glossary.example.com/terms/statement-of-work")
    msa = URIRef("https://glossary.example.com/terms/master-services-agreement")
    assert (sow, RDF.type, SKOS.Concept) in g
    assert str(g.value(sow, SKOS.prefLabel)) == "Statement of Work"
    assert {str(o) for o in g.objects(sow, SKOS.altLabel)} == {"SOW", "scope of work"}
    assert str(g.value(sow, SKOS.definition)).startswith("A statement of work")
    assert (sow, SKOS.broader, msa) in g and (msa, SKOS.narrower, sow) in g
    assert (sow, SKOS.related, URIRef("https://glossary.example.com/terms/purchase-order")) in g
    assert len(set(g.subjects(RDF.type, SKOS.ConceptScheme))) == 1


def test_csv_list_escaping():
    items = ["a; b", "back\\slash", "plain"]
    assert split_list(join_list(items)) == items
    assert split_list("x;y ;  ; z") == ["x", "y", "z"]


# --- dry run, skip, force, merge ----------------------------------------------------------------

def test_dry_run_writes_nothing(tmp_path):
    target = empty_glossary(tmp_path)
    source = write_lines(tmp_path / "in.jsonl", [{"term": "Widget", "definition": "A small thing. It does stuff."}])
    before = snapshot(target)
    result = runner.invoke(cli, ["import", str(source), "--format", "jsonl", "--domain", "it", "--glossary-dir", str(target)])
    assert result.exit_code == 0, result.output
    assert "in.jsonl:1\tcreate\twidget\tnew draft" in result.output
    assert "dry run: nothing written" in result.output
    assert snapshot(target) == before


def test_existing_slug_is_skipped_unless_force_or_merge(fixture_glossary, tmp_path):
    rows = [json.loads(line) for line in export_text(fixture_glossary, "jsonl").splitlines()]
    sow = next(r for r in rows if r["slug"] == "statement-of-work")
    sow["summary"] = "Changed by the import."
    sow["aliases"].append("work order")
    source = write_lines(tmp_path / "in.jsonl", [sow])
    path = fixture_glossary / "terms/statement-of-work.md"
    path.write_text(path.read_text().replace("domain: procurement", "domain: procurement  # kept by --merge"))
    before = path.read_text()

    plan, by_slug = import_rows(fixture_glossary, source)
    assert by_slug["statement-of-work"].action == "skip" and "--force" in by_slug["statement-of-work"].reason
    assert plan.files == {}

    plan, by_slug = import_rows(fixture_glossary, source, merge=True)
    assert by_slug["statement-of-work"].action == "merge"
    assert by_slug["statement-of-work"].reason == "adds aliases: work order"
    plan.write()
    after = path.read_text()
    assert "aliases: [SOW, scope of work, work order]" in after
    assert after.replace("aliases: [SOW, scope of work, work order]", "aliases: [SOW, scope of work]") == before
    assert load_glossary(fixture_glossary).ok()

    plan, by_slug = import_rows(fixture_glossary, source, merge=True)
    assert by_slug["statement-of-work"].action == "skip"  # nothing new any more

    plan, by_slug = import_rows(fixture_glossary, source, force=True)
    assert by_slug["statement-of-work"].action == "overwrite"
    plan.write()
    glossary = load_glossary(fixture_glossary).glossary
    assert glossary.terms["statement-of-work"].summary == "Changed by the import."


def test_cli_refuses_force_with_merge(fixture_glossary, tmp_path):
    source = write_lines(tmp_path / "in.jsonl", [{"term": "X", "definition": "Y."}])
    result = runner.invoke(cli, ["import", str(source), "--format", "jsonl", "--domain", "it", "--force", "--merge",
                                 "--glossary-dir", str(fixture_glossary)])
    assert result.exit_code == 2 and "not both" in result.output


# --- rules across rows and terms ----------------------------------------------------------------

def test_drafts_get_derived_values(tmp_path):
    target = empty_glossary(tmp_path)
    source = write_lines(tmp_path / "in.jsonl", [{
        "term": "Cloud access security broker", "aliases": ["CASB"],
        "definition": "A tool between users and cloud services, e.g. for policy. It enforces security policies.",
        "source": "https://example.org/casb", "license": "CC0"}])
    plan = plan_import(target, [Source(source, "jsonl", "it")], owner="IT Security")
    plan.write()
    term = load_glossary(target).glossary.terms["cloud-access-security-broker"]
    assert term.status == "draft" and term.domain == "it" and term.owners == ["IT Security"]
    assert term.summary == "A tool between users and cloud services, e.g. for policy."
    assert term.section("procurement") == term.section("it") == term.section("example") == PLACEHOLDER_TEXT
    assert term.section("rules") == ""
    assert term.references[0].label == "https://example.org/casb (CC0)"
    assert term.references[0].url is None  # example.org is not in GLOSSARY_IMPORT_LINK_HOSTS
    assert "imported" in term.tags


def test_same_slug_twice_in_one_import_is_merged(tmp_path):
    target = empty_glossary(tmp_path)
    far = write_lines(tmp_path / "far.jsonl", [
        {"term": "Component", "aliases": [], "definition": "An article that goes into an end product.", "source": "FAR"}])
    nist = write_lines(tmp_path / "nist.jsonl", [
        {"term": "component", "aliases": ["system element"], "definition": "A discrete part of a system.", "source": "NIST"},
        {"term": "System component", "aliases": ["component"], "definition": "A part of a system.", "source": "NIST"}])
    plan = plan_import(target, [Source(far, "jsonl", "procurement"), Source(nist, "jsonl", "it")])
    lines = {line.where: line for line in plan.lines}
    assert lines["far.jsonl:1"].action == "create"
    assert lines["nist.jsonl:1"].action == "merge" and "same slug as far.jsonl:1" in lines["nist.jsonl:1"].reason
    assert "definition appended" in lines["nist.jsonl:1"].reason and "shared" in lines["nist.jsonl:1"].reason
    assert "'component' (also 'component')" in lines["nist.jsonl:2"].reason  # a name beats an alias
    plan.write()
    glossary = load_glossary(target).glossary
    component = glossary.terms["component"]
    assert component.domain == "shared" and component.aliases == ["system element"]
    assert "Also defined as (source: NIST): A discrete part of a system." in component.section("definition")
    assert glossary.terms["system-component"].aliases == []


def test_alias_clashes_with_existing_terms(fixture_glossary, tmp_path):
    source = write_lines(tmp_path / "in.jsonl", [
        {"term": "Security Assertion Markup Language", "aliases": ["SSO", "SAML"], "definition": "An XML standard."},
        {"term": "SOW", "definition": "Something else called SOW."},
        {"term": "Purchase Requisition", "aliases": ["PR"], "definition": "An internal request to buy."},
        {"term": "Pull Request", "aliases": ["PR"], "definition": "A proposed code change."}])
    plan, by_slug = import_rows(fixture_glossary, source, domain="it")
    saml = by_slug["security-assertion-markup-language"]
    assert saml.action == "create" and "'SSO' (also 'single-sign-on')" in saml.reason
    assert by_slug["sow"].action == "skip" and "already a name or alias of 'statement-of-work'" in by_slug["sow"].reason
    assert "'PR' declared ambiguous" in by_slug["pull-request"].reason
    assert "'PR' declared ambiguous" in by_slug["purchase-requisition"].reason
    plan.write()
    glossary = load_glossary(fixture_glossary).glossary
    assert glossary.terms["security-assertion-markup-language"].aliases == ["SAML"]
    assert {t.slug for t in glossary.lookup("PR")} == {"purchase-requisition", "pull-request"}


def test_unresolved_links_are_dropped_or_refused(tmp_path):
    target = empty_glossary(tmp_path)
    base = {"domain": "it", "summary": "S.", "owners": ["IT"], "reviewed": "2026-01-01", "for_procurement": "P.",
            "for_it": "I.", "example": "E."}
    source = write_lines(tmp_path / "in.jsonl", [
        {**base, "term": "A", "definition": "A.", "status": "approved", "related": ["b", "nowhere"], "parent": "nowhere"},
        {**base, "term": "B", "definition": "B.", "status": "approved", "parent": "a"},
        {**base, "term": "Old", "definition": "O.", "status": "deprecated", "replaced_by": "nowhere"},
        {**base, "term": "Older", "definition": "O.", "status": "deprecated", "replaced_by": "old"}])
    plan, by_slug = import_rows(target, source)
    assert by_slug["a"].action == "create" and "related dropped (unknown slug): nowhere" in by_slug["a"].reason
    assert "parent dropped (unknown slug): nowhere" in by_slug["a"].reason
    assert by_slug["old"].action == "error" and by_slug["older"].action == "error"  # the replacement cascades
    plan.write()
    glossary = load_glossary(target).glossary
    assert glossary.terms["a"].status == "draft" and glossary.terms["a"].related == ["b"]  # imported: a draft
    assert glossary.terms["b"].parent == "a"


# --- bad rows -----------------------------------------------------------------------------------

def test_bad_jsonl_rows_are_reported_and_the_rest_imported(tmp_path):
    target = empty_glossary(tmp_path)
    source = write_lines(tmp_path / "bad.jsonl", [
        {"term": "Good one", "definition": "Fine."},
        '{"term": "broken", "definition": ',
        '["not", "an", "object"]',
        {"aliases": ["nameless"], "definition": "No term."},
        {"term": "No definition"},
        {"term": "Bad date", "definition": "D.", "reviewed": "31/12/2026"},
        {"term": "Bad domain", "definition": "D.", "domain": "finance"},
        {"term": "Bad aliases", "definition": "D.", "aliases": "one, two"},
        "",
        {"term": "Good two", "definition": "Also fine."}])
    result = runner.invoke(cli, ["import", str(source), "--format", "jsonl", "--domain", "procurement", "--write",
                                 "--glossary-dir", str(target)])
    assert result.exit_code == 1, result.output
    out = result.output
    assert "bad.jsonl:1\tcreate\tgood-one" in out and "bad.jsonl:10\tcreate\tgood-two" in out
    assert "bad.jsonl:2\terror\t-\tinvalid JSON" in out
    assert "bad.jsonl:3\terror\t-\texpected a JSON object, got list" in out
    assert "bad.jsonl:4\terror\t-\tmissing 'term'" in out
    assert "bad.jsonl:5\terror\tno-definition\tmissing 'definition'" in out
    assert "bad.jsonl:6\terror\tbad-date\treviewed: '31/12/2026' is not a date" in out
    assert "bad.jsonl:7\terror\tbad-domain\tdomain: Input should be" in out
    assert "bad.jsonl:8\terror\tbad-aliases\taliases: must be a list" in out
    assert "10 row(s)" not in out and "9 row(s): 2 create, 7 error" in out
    assert sorted(snapshot(target)) == ["good-one.md", "good-two.md"]


def test_missing_domain_is_an_error_per_row(tmp_path):
    source = write_lines(tmp_path / "in.jsonl", [{"term": "X", "definition": "Y."},
                                                 {"term": "Z", "definition": "Y.", "domain": "it"}])
    plan = plan_import(empty_glossary(tmp_path), [Source(source, "jsonl")])
    assert [(line.action, line.reason[:10]) for line in plan.lines] == [("error", "no domain:"), ("create", "new draft;")]


def test_bad_csv_rows_are_reported(tmp_path):
    target = empty_glossary(tmp_path)
    source = tmp_path / "bad.csv"
    source.write_text('term,aliases,definition,colour\n'
                      'Good,"G; GG","Fine, really.",blue\n'
                      '"Broken"x,y,z\n'
                      'Too,many,cells,here,extra\n'
                      ',,,\n'
                      '"Multi\nline",,"Two\nlines."\n'
                      '"Unclosed,a,b\n', encoding="utf-8")
    plan, by_slug = import_rows(target, source, "csv")
    lines = [str(line) for line in plan.lines]
    assert lines[0].startswith("bad.csv:2\tcreate\tgood\t") and "ignored unknown column(s): colour" in lines[0]
    assert lines[1].startswith("bad.csv:3\terror\t-\tbad CSV:")
    assert lines[2] == "bad.csv:4\terror\t-\t5 cells but the header has 4 columns"
    assert lines[3].startswith("bad.csv:6\tcreate\tmulti-line\t")
    assert lines[4].startswith("bad.csv:9\terror\t-\tbad CSV: unexpected end of data")
    plan.write()
    glossary = load_glossary(target).glossary
    assert glossary.terms["good"].aliases == ["G", "GG"]
    assert glossary.terms["multi-line"].term == "Multi line"


def test_bad_turtle_is_one_clear_error(tmp_path):
    source = tmp_path / "bad.ttl"
    source.write_text("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<a> skos:prefLabel \"x\" .\n<b> skos:\n")
    plan = plan_import(empty_glossary(tmp_path), [Source(source, "skos", "it")])
    assert len(plan.lines) == 1 and plan.lines[0].action == "error"
    assert str(plan.lines[0]) == "bad.ttl:3\terror\t-\tinvalid Turtle at line 3: objectList expected; nothing imported from this file"


def test_foreign_skos_concepts_become_drafts(tmp_path):
    source = tmp_path / "foreign.ttl"
    source.write_text("""@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <http://example.org/c/> .
ex:1 a skos:Concept ; skos:prefLabel "Vehicle"@en, "Fahrzeug"@de ; skos:definition "Something that moves people." .
ex:2 a skos:Concept ; skos:prefLabel "Car"@en ; skos:altLabel "automobile"@en ; skos:broader ex:1 ;
     skos:related ex:9 ; skos:definition "A road vehicle." .
ex:3 a skos:Concept ; skos:altLabel "nameless" .
""")
    plan, by_slug = import_rows(empty_glossary(tmp_path), source, "skos")
    assert by_slug["vehicle"].action == "create" and "kept 'Vehicle'" in by_slug["vehicle"].reason
    assert by_slug["car"].action == "create" and "related dropped (unknown slug): 9" in by_slug["car"].reason
    assert any(line.action == "error" and "no skos:prefLabel" in line.reason for line in plan.lines)
    plan.write()
    car = load_glossary(plan.glossary_dir).glossary.terms["car"]
    assert car.parent == "vehicle" and car.aliases == ["automobile"] and car.status == "draft"


# --- typed records and rows --------------------------------------------------------------------

def test_a_wrong_type_in_a_row_names_the_field_and_the_rest_imports(tmp_path):
    source = write_lines(tmp_path / "typed.jsonl", [
        {"term": "Good one", "definition": "Fine.", "aliases": [7, "seven", "seven"]},
        {"term": "Bad owners", "definition": "D.", "owners": {"name": "Ann"}},
        {"term": "Bad url", "definition": "D.", "references": [{"label": "L", "url": 5}]},
        {"term": ["a", "list"], "definition": "D."},
        {"term": "Bad flag", "definition": "D.", "summary": True},
        {"term": "Two problems", "definition": 5, "reviewed": "soon"},
        {"term": "Good two", "definition": "Also fine.", "colour": "blue"}])
    plan = plan_import(empty_glossary(tmp_path), [Source(source, "jsonl", "it")])
    assert [(line.action, line.slug, line.reason) for line in plan.lines[1:6]] == [
        ("error", "bad-owners", "owners: must be a list of text, not dict"),
        ("error", "bad-url", "references: 'url' must be text"),
        ("error", "", "term: must be text, not list"),
        ("error", "bad-flag", "summary: must be text, not bool"),
        ("error", "two-problems", "definition: must be text, not int; reviewed: 'soon' is not a date (YYYY-MM-DD)"),
    ]
    assert plan.lines[0].action == plan.lines[6].action == "create"
    assert "ignored unknown field(s): colour" in plan.lines[6].reason
    plan.write()
    assert load_glossary(plan.glossary_dir).glossary.terms["good-one"].aliases == ["7", "seven"]  # cleaned, deduplicated


def test_a_record_round_trips_term_file_to_record_to_term_file(fixture_glossary, tmp_path):
    from datetime import date

    from app.interchange.records import term_file_text

    records, _ = read_records(fixture_glossary)
    assert records and all(isinstance(r, TermRecord) and isinstance(r.reviewed, date) for r in records)
    target = empty_glossary(tmp_path)
    for record in records:
        (target / "terms" / f"{record.slug}.md").write_text(term_file_text(record), encoding="utf-8")
    back, _ = read_records(target)
    assert back == records
    for record in back:
        assert term_file_text(record) == (target / "terms" / f"{record.slug}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("change", [
    {"slug": "Not A Slug"}, {"domain": "finance"}, {"status": "published"}, {"owners": []}, {"summary": ""},
    {"reviewed": "31/12/2026"}, {"references": [{"label": "Old", "url": "ftp://files.test/x"}]},
    {"references": [{"url": "https://a.test"}]}, {"colour": "blue"}, {"aliases": "one, two"},
])
def test_the_record_rejects_what_the_front_matter_rejects(change):
    from pydantic import ValidationError

    from app.glossary.model import FrontMatter
    from app.interchange.records import RowError, validated_record

    front = {"term": "Widget", "slug": "widget", "domain": "it", "summary": "A thing.", "status": "draft",
             "owners": ["IT"], "reviewed": "2026-01-01", **change}
    with pytest.raises(ValidationError) as expected:
        FrontMatter.model_validate(front)
    with pytest.raises(RowError) as raised:
        validated_record({**front, "definition": "A small thing."})
    assert str(raised.value) == str(RowError.of(expected.value))
    [field] = change
    assert str(raised.value).startswith(field)  # the message names the field


def test_record_sections_are_text_and_the_columns_come_from_the_models():
    from app.interchange.records import COLUMNS, FIELDS, SECTION_FIELDS, RowError, validated_record
    from app.interchange.rows import ImportRow

    front = {"term": "Widget", "slug": "widget", "domain": "it", "summary": "A thing.", "status": "draft",
             "owners": ["IT"], "reviewed": "2026-01-01"}
    with pytest.raises(RowError, match="^example: Input should be a valid string$"):
        validated_record({**front, "example": 5})
    assert validated_record(front).section("procurement") == ""
    assert SECTION_FIELDS == {"definition": "definition", "for_procurement": "procurement", "for_it": "it",
                              "our_rules": "rules", "example": "example"}
    assert COLUMNS == FIELDS + list(SECTION_FIELDS)
    assert set(ImportRow.model_fields) == set(COLUMNS) | {"source", "license"}


# --- hostile text -------------------------------------------------------------------------------

def test_injection_attempts_end_up_inert(tmp_path):
    target = empty_glossary(tmp_path)
    evil = {
        "term": "Evil: term\n---\nstatus: approved",
        "aliases": ["#hashtag", "!!python/object/apply:os.system ['id']", "- dash"],
        "definition": ("Starts fine. <script>alert(1)</script> <img src=x onerror=alert(2)> "
                       "[click](javascript:alert(3)) {{ ''.__class__.__mro__ }} {{ org.company.name }} "
                       "{{ org.nope }} {% for x in range(10) %}loop{% endfor %} {# hidden #}\n"
                       "## For IT\nFake section.\n# Title\r## Our rules\rsmuggled\n---\nstatus: approved"),
        "summary": "One line\n---\nowners: [Mallory]",
        "for_it": "{{{ org.company.name }}} {%- raw %}",
        "source": "x\n---\n",
    }
    source = write_lines(tmp_path / "evil.jsonl", [evil])
    plan, by_slug = import_rows(target, source)
    [line] = plan.lines
    assert line.action == "create", line
    plan.write()
    result = load_glossary(target)
    assert result.ok(), result.problems
    [term] = result.glossary.terms.values()
    assert term.term == "Evil: term --- status: approved" and term.status == "draft"
    assert term.aliases == ["#hashtag", "!!python/object/apply:os.system ['id']", "- dash"]
    assert term.summary == "One line --- owners: [Mallory]" and term.owners == ["Glossary curators"]
    definition = term.section("definition")
    assert "{ {" in definition and "__class__" in definition and "<class" not in definition
    assert "Testco" in definition  # a real org placeholder stays a placeholder
    assert "{ { org.nope }}" in definition and "{ % for" in definition and "{ # hidden #}" in definition
    assert "\\## For IT" in definition and "\\# Title" in definition and "\\## Our rules" in definition
    assert term.section("it") == "{ {{ org.company.name }}} { %- raw %}".replace("{{ org.company.name }}", "Testco")
    assert term.section("rules") == "" and term.section("procurement") == PLACEHOLDER_TEXT
    html = to_html(definition)
    assert "<script" not in html and "<img" not in html and "href" not in html and "&lt;script&gt;" in html
    assert "<h1" not in html and "<h2" not in html


# --- the external glossaries --------------------------------------------------------------------

@pytest.mark.skipif(not EXTERNAL.is_dir(), reason=f"external glossaries not found at {EXTERNAL} (../shared/external)")
def test_import_external_glossaries_then_index(tmp_path):
    from app.search.index import build_index

    target = empty_glossary(tmp_path)
    sources = [Source(EXTERNAL / name, "jsonl", domain) for name, domain in EXTERNAL_FILES]
    started = time.perf_counter()
    plan = plan_import(target, sources)
    written = plan.write()
    seconds = time.perf_counter() - started
    counts = plan.counts()
    assert counts["error"] == 0 and counts["skip"] == 0, [str(line) for line in plan.lines if line.action in ("error", "skip")]
    assert counts["create"] == len(written) > 1000 and counts["merge"] > 0
    result = load_glossary(target)
    assert result.ok(), result.errors[:5]
    glossary = result.glossary
    assert len(glossary) == len(written)
    assert all(t.status == "draft" for t in glossary.terms.values())
    assert glossary.terms["information-system"].domain == "shared"  # FAR and NIST both define it
    assert {t.slug for t in glossary.lookup("SAM")} >= {"system-for-award-management"}
    index = build_index(glossary, FakeEmbedder())
    assert index.manifest["terms"] == len(glossary) and len(index.vectors) == index.manifest["views"]
    assert seconds < 60


def _seconds(fn, *args) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - started)
    return best


def test_text_helpers_take_time_in_proportion_to_their_input():
    """first_sentence searched the whole prefix for an abbreviation at every full stop (56 KB: 38 s) and
    plain() rescanned from every '[' (60,000 of them: 9.9 s); both now cost about what normal text does."""
    from app.interchange.records import first_sentence
    from app.search.text import plain

    prose = "The buyer raises an order and the vendor delivers what was ordered, " * 800  # ~56 KB, no stop
    abbreviations = "No. " * 14000  # a full stop before a capital at every word, each after an abbreviation
    assert first_sentence("See e.g. the order. Then pay.") == "See e.g. the order."
    assert _seconds(first_sentence, abbreviations) < 20 * _seconds(first_sentence, prose) + 0.02
    brackets = "[" * 60000
    assert plain("a [link](https://x.test) and [b]") == "a link and [b]"
    assert _seconds(plain, brackets) < 20 * _seconds(plain, prose) + 0.02


def test_imported_rows_are_drafts_without_hidden_characters_or_foreign_links(tmp_path):
    """A complete row imported as approved; U+202E and U+200B stayed in names and aliases; live links
    from imported Markdown reached answers."""
    target = empty_glossary(tmp_path)
    row = {"term": "Cloud\u200b Access \u202eBroker", "aliases": ["CA\u200bSB", "\u2066CASB2\u2069"], "domain": "it",
           "summary": "A gate\u200b between staff and cloud apps.", "status": "approved", "owners": ["IT"],
           "reviewed": "2026-01-01", "for_procurement": "P.", "for_it": "I.", "example": "E.",
           "definition": "See [the vendor](https://evil.example/x \"t\"), <https://evil.example/y>, "
                         "[our wiki](https://wiki.intranet.test/casb) and [a term](/terms/single-sign-on).",
           "references": [{"label": "Vendor", "url": "https://evil.example/ref"},
                          {"label": "Wiki", "url": "https://docs.wiki.intranet.test/casb"}]}
    source = write_lines(tmp_path / "in.jsonl", [row])
    plan = plan_import(target, [Source(source, "jsonl")], link_hosts=["wiki.intranet.test"])
    plan.write()
    term = load_glossary(target).glossary.terms["cloud-access-broker"]
    assert term.status == "draft"
    assert term.term == "Cloud Access Broker" and term.aliases == ["CASB", "CASB2"]
    assert "\u200b" not in term.summary
    definition = term.section("definition")
    assert "evil.example" not in to_html(definition).split("href=")[-1] and 'href="https://evil.example' not in to_html(definition)
    assert "the vendor" in definition and "[our wiki](https://wiki.intranet.test/casb)" in definition
    assert "[a term](/terms/single-sign-on)" in definition
    assert [(r.label, r.url) for r in term.references] == [("Vendor", None), ("Wiki", "https://docs.wiki.intranet.test/casb")]


def test_csv_cells_cannot_become_spreadsheet_formulas(fixture_glossary, tmp_path):
    """A term named `=cmd|' /C calc'!A0` was exported verbatim."""
    import csv
    import io

    edit(fixture_glossary / "terms/tail-spend.md", "term: Tail Spend", "term: \"=cmd|' /C calc'!A0\"")
    edit(fixture_glossary / "terms/tail-spend.md", "## Example\n", "## Example\n- one\n@SUM(A1)\n")
    text = export_text(fixture_glossary, "csv")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells), [c for c in cells if c[:1] in "=+-@"]
    assert "'=cmd|' /C calc'!A0" in cells
    exported = tmp_path / "out.csv"
    exported.write_text(text, encoding="utf-8")
    target = empty_glossary(tmp_path)
    plan_import(target, [Source(exported, "csv")], trusted=True).write()
    back = load_glossary(target).glossary.terms["tail-spend"]
    assert back.term == "=cmd|' /C calc'!A0" and back.section("example").startswith("- one")  # lossless


def test_a_summary_is_plain_text_in_answers_as_on_pages(fixture_glossary, settings):
    """The summary was plain text on the pages but Markdown in answers (a live link from an import)."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    path = fixture_glossary / "terms/tail-spend.md"
    path.write_text(re.sub(r"^summary: .*$", 'summary: "[Click](https://evil.example) *now* is tail spend."',
                           path.read_text(), count=1, flags=re.M))
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        answer = c.post("/api/ask", json={"question": "What is tail spend?"}).json()
        page = c.get("/terms/tail-spend").text
    assert "[Click](https://evil.example) *now*" in page
    assert 'href="https://evil.example' not in answer["answer_html"] and "<em>now</em>" not in answer["answer_html"]
    assert "[Click](https://evil.example) *now*" in answer["answer_html"]


def test_import_writes_into_a_glossary_whose_terms_cite_the_policy(tmp_path):
    # The dry-run check copies the glossary to a temporary folder: without policy.yaml there, every
    # shipped term citing a rule failed it and `--write` refused to write anything.
    target = tmp_path / "glossary"
    shutil.copytree(Path(__file__).resolve().parent.parent / "glossary", target)
    assert (target / "policy.yaml").exists()
    source = tmp_path / "rows.jsonl"
    source.write_text(json.dumps({"term": "Widget frobnication", "definition": "Turning widgets until they frob."}) + "\n")
    result = runner.invoke(cli, ["import", str(source), "--format", "jsonl", "--domain", "it", "--write",
                                 "--glossary-dir", str(target)])
    assert result.exit_code == 0, result.output
    assert (target / "terms" / "widget-frobnication.md").exists()
    assert load_glossary(target).glossary is not None
