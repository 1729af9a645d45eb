"""The store: Alembic schema, conversations shared through the database, retention, database faults."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import inspect, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import create_app
from app.store import Store
from app.store.db import Question, now
from tests.fakes import FakeEmbedder


def test_schema_comes_from_alembic(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    tables = set(inspect(store.engine).get_table_names())
    assert {"questions", "feedback", "alembic_version"} <= tables
    with store.engine.connect() as c:
        assert c.exec_driver_sql("select version_num from alembic_version").scalar() == "0002"
    Store(f"sqlite:///{tmp_path / 's.db'}")  # opening again is a no-op upgrade


def test_upgrade_from_0001_keeps_rows_and_adds_case_facts(tmp_path):
    from sqlalchemy import create_engine

    from app.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as c:
        c.exec_driver_sql("insert into questions (conversation_id, turn, question, intent, confident, confidence, focus, terms, "
                          "suggestions, created_at) values ('c1', 1, 'old question', 'define', 1, 0.9, '[]', '[]', '[]', "
                          "'2026-11-30 10:00:00')")
    store = Store(url)
    assert "facts" in {col["name"] for col in inspect(store.engine).get_columns("questions")}
    assert store.last_turn("c1").question == "old question" and store.last_turn("c1").facts is None


def test_conversation_continues_on_another_process(settings, tmp_path):
    """Two apps sharing one database stand in for two replicas behind a load balancer."""
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as a, \
         TestClient(create_app(settings, embedder=FakeEmbedder())) as b:
        first = a.post("/api/ask", json={"question": "What is a purchase order?", "audience": "it"}).json()
        second = b.post("/api/ask", json={"question": "And who approves it?", "audience": "it",
                                          "conversation_id": first["conversation_id"]}).json()
        assert second["intent"] == "follow-up" and second["turn"] == 2
        assert second["terms"][0]["slug"] == "purchase-order"
        b.post("/api/feedback", json={"conversation_id": first["conversation_id"], "turn": 2, "rating": "down"})
        (fb, q), = a.app.state.store.feedback()
        assert q.question == "And who approves it?" and fb.rating == "down"


def test_retention_purges_question_text_but_keeps_counts(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    for i, age in enumerate([200, 10]):
        store.add_question(Question(conversation_id=f"c{i}", turn=1, question=f"q{i}", intent="define", confident=True,
                                    confidence=0.9, focus=["single-sign-on"], terms=["single-sign-on"], suggestions=[]))
        with Session(store.engine) as s, s.begin():
            s.execute(update(Question).where(Question.conversation_id == f"c{i}").values(created_at=now() - timedelta(days=age)))
    assert store.purge_question_text(90) == 1
    assert sorted((q.question or "-") for q in store.questions()) == ["-", "q1"]
    assert store.term_counts() == {"single-sign-on": 2}


def test_asking_works_when_the_database_is_down(fixture_glossary, tmp_path):
    settings = Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "index",
                        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as client:
        first = client.post("/api/ask", json={"question": "What is a purchase order?"})
        assert first.status_code == 200 and first.json()["intent"] == "define"
        follow = client.post("/api/ask", json={"question": "And who approves it?",
                                               "conversation_id": first.json()["conversation_id"]})
        assert follow.status_code == 200 and follow.json()["intent"] == "follow-up"
        fb = client.post("/api/feedback", json={"conversation_id": "x", "rating": "up"})
        assert fb.status_code == 503 and "not available" in fb.json()["detail"]
