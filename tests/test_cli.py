"""The `glossary ask/search/eval` commands: the ask service in-process, recording nothing unless --record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.store import Store

pytestmark = pytest.mark.model  # the commands load the bundled model, as they do for a user

runner = CliRunner()


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    """One index for the module: every test copies the same fixture glossary, so it stays current."""
    return tmp_path_factory.mktemp("cli-index")


@pytest.fixture
def env(tmp_path: Path, fixture_glossary: Path, index_dir: Path) -> dict[str, str]:
    return {"GLOSSARY_GLOSSARY_DIR": str(fixture_glossary), "GLOSSARY_INDEX_DIR": str(index_dir),
            "GLOSSARY_DATABASE_URL": f"sqlite:///{tmp_path / 'glossary.db'}"}


def test_ask_prints_the_answer_and_records_nothing(env, tmp_path):
    result = runner.invoke(cli, ["ask", "What is a purchase order?"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("[define, confident=True")
    assert "[Purchase Order](" in result.stdout
    assert not (tmp_path / "glossary.db").exists(), "a command-line question must not reach the curators' gaps"


def test_ask_json_is_the_api_response(env):
    result = runner.invoke(cli, ["ask", "What is a purchase order?", "--json", "--audience", "it"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["intent"] == "define" and data["turn"] == 1
    assert data["terms"][0]["slug"] == "purchase-order"
    assert "score" not in data["terms"][0]  # as POST /api/ask sends it: no null fields


def test_ask_record_stores_the_question(env, tmp_path):
    result = runner.invoke(cli, ["ask", "what is a flux capacitor?", "--record"], env=env)
    assert result.exit_code == 0, result.output
    rows = Store(env["GLOSSARY_DATABASE_URL"]).questions()
    assert [(r.question, r.intent, r.confident) for r in rows] == [("what is a flux capacitor?", "unknown", False)]


def test_ask_refuses_bad_input_with_a_message(env):
    empty = runner.invoke(cli, ["ask", "   "], env=env)
    assert empty.exit_code == 2 and "question must not be empty" in empty.output
    audience = runner.invoke(cli, ["ask", "what is a PO?", "--audience", "finance"], env=env)
    assert audience.exit_code == 2 and "audience" in audience.output


def test_search_ranks_terms_without_touching_the_database(env, tmp_path):
    result = runner.invoke(cli, ["search", "SSO", "--limit", "2"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and "(single-sign-on)" in lines[0]
    assert not (tmp_path / "glossary.db").exists(), "search must not open the database (nor run its purge)"


def test_search_refuses_a_too_long_query(env):
    result = runner.invoke(cli, ["search", "x" * 5000], env=env)
    assert result.exit_code == 2 and "longer than 4000 characters" in result.output


def test_eval_scores_per_kind_and_records_nothing(env, tmp_path):
    questions = tmp_path / "questions.jsonl"
    items = [
        {"id": "d1", "question": "what is a statement of work?", "audience": None, "expect": ["Statement of Work"],
         "kind": "direct"},
        {"id": "f1", "question": "who signs it?", "turns": ["what is an MSA?", "who signs it?"], "audience": None,
         "expect": ["Master Services Agreement"], "kind": "followup"},
        {"id": "o1", "question": "what's the weather in Paris tomorrow?", "audience": None, "expect": [],
         "kind": "out_of_scope"},
    ]
    questions.write_text("\n".join(json.dumps(i) for i in items) + "\n")
    result = runner.invoke(cli, ["eval", str(questions)], env=env)
    assert result.exit_code == 0, result.output
    assert "direct           1.000  1/1" in result.stdout
    assert "followup         1.000  1/1" in result.stdout
    assert "out_of_scope    1/1 pass" in result.stdout
    assert not (tmp_path / "glossary.db").exists()


def test_eval_reports_a_bad_file(env, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok"}\nnot json\n')
    result = runner.invoke(cli, ["eval", str(bad)], env=env)
    assert result.exit_code == 2 and "bad.jsonl:2: not valid JSON" in result.output
