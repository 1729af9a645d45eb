"""The glossary loader and `glossary check`: every kind of error, reported together with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.glossary import load_glossary
from app.glossary.loader import GlossaryInvalid, load_or_raise


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture does not contain {old!r}"
    path.write_text(text.replace(old, new, 1))


def messages(glossary_dir: Path) -> list[str]:
    return [str(p) for p in load_glossary(glossary_dir).errors]


def test_fixture_glossary_is_valid(fixture_glossary):
    result = load_glossary(fixture_glossary)
    assert result.ok(), result.problems
    g = result.glossary
    assert len(g) == 7
    po = g.terms["purchase-order"]
    assert "€5,000" in po.section("rules") and "€50,000" in po.section("rules")
    assert {t.slug for t in g.lookup("po")} == {"purchase-order", "product-owner"}
    assert g.lookup("Single sign on")[0].slug == "single-sign-on"


def test_missing_field_is_reported_with_line(fixture_glossary):
    edit(fixture_glossary / "terms/statement-of-work.md", "domain: procurement\n", "")
    assert "glossary/terms/statement-of-work.md:1: error: domain: required field is missing" in messages(fixture_glossary)


def test_bad_enum_and_unknown_field(fixture_glossary):
    f = fixture_glossary / "terms/statement-of-work.md"
    edit(f, "domain: procurement", "domain: finance")
    edit(f, "owners: [Procurement]", "owners: [Procurement]\ncolour: blue")
    errors = messages(fixture_glossary)
    assert any(":5: error: domain: Input should be 'it', 'procurement' or 'shared'" in e for e in errors), errors
    assert any("colour: unknown field" in e for e in errors), errors


def test_duplicate_slug(fixture_glossary):
    source = (fixture_glossary / "terms/statement-of-work.md").read_text()
    (fixture_glossary / "terms/sow-copy.md").write_text(source)
    errors = messages(fixture_glossary)
    assert any("sow-copy.md:3: error: slug: 'statement-of-work' must match the file name 'sow-copy'" in e for e in errors)


def test_alias_on_two_terms_unless_both_declare_it_ambiguous(fixture_glossary):
    edit(fixture_glossary / "terms/master-services-agreement.md", "aliases: [MSA, master agreement]",
         "aliases: [MSA, master agreement, SOW]")
    errors = messages(fixture_glossary)
    assert any("'SOW' is also a name or alias of 'statement-of-work'" in e and "declare it under 'ambiguous'" in e
               for e in errors), errors
    # PO is on two terms and declared ambiguous on both: fine. Remove one declaration and it is an error.
    edit(fixture_glossary / "terms/product-owner.md", "ambiguous: [PO]\n", "")
    errors = messages(fixture_glossary)
    assert any("'PO' is also a name or alias of 'purchase-order'" in e for e in errors), errors


def test_related_that_does_not_resolve(fixture_glossary):
    edit(fixture_glossary / "terms/single-sign-on.md", "related: [product-owner, statement-of-work]",
         "related: [product-owner, identity-provider]")
    assert "glossary/terms/single-sign-on.md:8: error: related: 'identity-provider' is not a known slug" in messages(fixture_glossary)


def test_deprecated_needs_replacement(fixture_glossary):
    edit(fixture_glossary / "terms/vendor-master.md", "replaced_by: purchase-order\n", "")
    assert any("vendor-master.md:7: error: replaced_by: a deprecated term must name its replacement" in e
               for e in messages(fixture_glossary))


def test_unknown_placeholder_reported_at_its_line(fixture_glossary):
    edit(fixture_glossary / "terms/purchase-order.md", "{{ org.thresholds.competitive_tender | money }}",
         "{{ org.thresholds.tender_limit | money }}")
    errors = messages(fixture_glossary)
    assert any(e.startswith("glossary/terms/purchase-order.md:29: error: section Our rules: unknown placeholder "
                            "{{ org.thresholds.tender_limit | money }}") for e in errors), errors


def test_template_statements_are_refused(fixture_glossary):
    edit(fixture_glossary / "terms/purchase-order.md", "## Example\n", "## Example\n{% for x in org %}x{% endfor %}\n")
    assert any("only {{ org.… }} placeholders are allowed" in e for e in messages(fixture_glossary))


def test_sandbox_blocks_attribute_escapes(fixture_glossary):
    edit(fixture_glossary / "terms/purchase-order.md", "## Example\n", "## Example\n{{ org.__class__.__mro__ }}\n")
    assert any("unknown placeholder" in e for e in messages(fixture_glossary))


def test_bad_date(fixture_glossary):
    edit(fixture_glossary / "terms/single-sign-on.md", "reviewed: 2026-10-01", "reviewed: 2026-13-45")
    assert any("single-sign-on.md:10: error: reviewed: Input should be a valid date" in e for e in messages(fixture_glossary))


def test_invalid_yaml_and_missing_section(fixture_glossary):
    edit(fixture_glossary / "terms/tail-spend.md", "aliases: [long tail spend]", "aliases: [long tail spend")
    edit(fixture_glossary / "terms/statement-of-work.md", "## For IT\n", "## For Engineers\n")
    errors = messages(fixture_glossary)
    assert any("tail-spend.md" in e and "front matter: invalid YAML" in e for e in errors), errors
    assert any("statement-of-work.md:20: error: sections: unknown heading '## For Engineers'" in e for e in errors), errors
    assert any("statement-of-work.md" in e and "section For IT: section is missing" in e for e in errors), errors


def test_all_problems_at_once_and_cli_exit_code(fixture_glossary):
    edit(fixture_glossary / "terms/single-sign-on.md", "reviewed: 2026-10-01", "reviewed: someday")
    edit(fixture_glossary / "terms/master-services-agreement.md", "related: [statement-of-work, purchase-order]",
         "related: [nowhere]")
    with pytest.raises(GlossaryInvalid) as exc:
        load_or_raise(fixture_glossary)
    assert len(exc.value.problems) >= 2
    result = CliRunner().invoke(cli, ["check", "--glossary-dir", str(fixture_glossary)])
    assert result.exit_code == 1
    assert "single-sign-on.md:10: error: reviewed" in result.output
    assert "master-services-agreement.md:8: error: related: 'nowhere' is not a known slug" in result.output
    assert "Traceback" not in result.output


def test_cli_check_ok(fixture_glossary):
    result = CliRunner().invoke(cli, ["check", "--glossary-dir", str(fixture_glossary)])
    assert result.exit_code == 0, result.output
    assert "ok: 7 terms" in result.output


def test_service_refuses_invalid_glossary_without_traceback(fixture_glossary, tmp_path):
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app
    from tests.fakes import FakeEmbedder

    edit(fixture_glossary / "terms/single-sign-on.md", "reviewed: 2026-10-01", "reviewed: never")
    app = create_app(Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "i"), embedder=FakeEmbedder())
    with pytest.raises(GlossaryInvalid) as exc:
        with TestClient(app):
            pass
    assert "single-sign-on.md:10: error: reviewed" in str(exc.value)
    result = CliRunner().invoke(cli, ["serve", "--glossary-dir", str(fixture_glossary), "--port", "1"])
    assert result.exit_code == 1 and "single-sign-on.md:10: error: reviewed" in result.output
