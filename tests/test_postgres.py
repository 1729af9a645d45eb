"""Two service processes sharing one PostgreSQL: a conversation spans both, and both see the same gaps and feedback.

Marked `postgres`; `scripts/test-deps` installs the server from Debian, and the fixture starts a private
cluster on loopback. Outside CI the tests skip, saying why, when no server can be started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.pg import _free_port, postgres_or_skip, wait_ready

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parent.parent
TOKEN = "pg-admin-token"


@pytest.fixture(scope="module")
def postgres():
    server = postgres_or_skip()
    yield server
    server.stop()


SERVER_SCRIPT = """
import sys, uvicorn
sys.path.insert(0, {root!r})
from app.config import Settings
from app.main import create_app
from tests.fakes import FakeEmbedder
settings = Settings(glossary_dir={glossary!r}, index_dir={index!r}, database_url={url!r}, admin_token={token!r},
                    watch_glossary=False)
uvicorn.run(create_app(settings, embedder=FakeEmbedder()), host="127.0.0.1", port={port}, log_level="warning")
"""


@pytest.fixture(scope="module")
def replicas(postgres, tmp_path_factory):
    """Two separate uvicorn processes, same glossary, same database: like two containers behind a balancer."""
    procs, urls = [], []
    for name in ("a", "b"):
        port = _free_port()
        index = tmp_path_factory.mktemp(f"index-{name}")
        script = SERVER_SCRIPT.format(root=str(ROOT), glossary=str(ROOT / "tests/fixtures/glossary"),
                                      index=str(index), url=postgres.url, token=TOKEN, port=port)
        procs.append(subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(ROOT)}))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            wait_ready(url)
        yield urls
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def test_schema_is_migrated_by_alembic(postgres):
    from sqlalchemy import inspect

    from app.store import Store

    store = Store(postgres.url)
    assert {"questions", "feedback", "alembic_version"} <= set(inspect(store.engine).get_table_names())
    store.dispose()


def test_conversation_turns_land_on_different_processes(replicas):
    a, b = replicas
    first = httpx.post(f"{a}/api/ask", json={"question": "What is a purchase order?", "audience": "it"}).json()
    second = httpx.post(f"{b}/api/ask", json={"question": "And who approves it?", "audience": "it",
                                              "conversation_id": first["conversation_id"]}).json()
    third = httpx.post(f"{a}/api/ask", json={"question": "What does it mean for IT?", "audience": "it",
                                             "conversation_id": first["conversation_id"]}).json()
    assert second["intent"] == "follow-up" and second["turn"] == 2 and second["terms"][0]["slug"] == "purchase-order"
    assert third["turn"] == 3 and third["conversation_id"] == first["conversation_id"]


def test_both_processes_see_the_same_gaps_and_feedback(replicas):
    a, b = replicas
    auth = {"Authorization": f"Bearer {TOKEN}"}
    asked = httpx.post(f"{a}/api/ask", json={"question": "What is a supplier kickback scheme?"}).json()
    assert asked["confident"] is False
    r = httpx.post(f"{b}/api/feedback", json={"conversation_id": asked["conversation_id"], "turn": 1,
                                              "rating": "down", "comment": "please add this"})
    assert r.status_code == 201
    for url in (a, b):
        gaps = httpx.get(f"{url}/admin/gaps", headers=auth).json()["groups"]
        assert any("kickback" in q for g in gaps for q in g["questions"])
        feedback = httpx.get(f"{url}/admin/feedback", headers=auth).json()["feedback"]
        assert any(f["comment"] == "please add this" and f["question"] == "What is a supplier kickback scheme?"
                   for f in feedback)
