"""Several serving processes on one database: rows written behind, drained on shutdown, follow-ups
across processes, and `glossary serve --workers 2` reloading in every worker."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.store import Store
from app.store.db import Question
from tests.fakes import FakeEmbedder
from tests.pg import wait_ready

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_GLOSSARY = ROOT / "tests" / "fixtures" / "glossary"
QUESTIONS = ["What is a PO?", "What is SSO?", "What is tail spend?", "What is a statement of work?",
             "What is the vendor master?", "What is an MSA?", "Who is the product owner?"]


def _settings(tmp_path: Path, glossary: Path = FIXTURE_GLOSSARY, **extra) -> Settings:
    return Settings(glossary_dir=glossary, index_dir=tmp_path / "index", database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
                    watch_glossary=False, rate_limit_per_minute=0, **extra)


def _stored(url: str) -> list[Question]:
    store = Store(url)  # a separate reader, as another process would be
    try:
        return store.questions()
    finally:
        store.dispose()


def test_rows_written_behind_are_all_in_the_database_after_shutdown(tmp_path):
    settings = _settings(tmp_path, workers=1)
    asked = []
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as client:
        state = client.app.state
        assert state.conversations.wait is False  # one process on SQLite: the rows are written behind
        for i in range(40):
            r = client.post("/api/ask", json={"question": QUESTIONS[i % len(QUESTIONS)] + f" ({i})"})
            assert r.status_code == 200
            asked.append(r.json()["conversation_id"])
        writer = state.store.writer
    # The lifespan's end drained the queue: every answer is a row, none lost, the thread stopped.
    rows = _stored(settings.database_url)
    assert sorted(r.conversation_id for r in rows) == sorted(asked)
    assert all(r.turn == 1 and r.question for r in rows)
    assert writer.written == 40 and not writer._thread.is_alive()


def test_a_follow_up_sees_the_turn_still_being_written(tmp_path):
    with TestClient(create_app(_settings(tmp_path, workers=1), embedder=FakeEmbedder())) as client:
        first = client.post("/api/ask", json={"question": "What is a purchase order?", "audience": "it"}).json()
        second = client.post("/api/ask", json={"question": "And who approves it?", "audience": "it",
                                                "conversation_id": first["conversation_id"]}).json()
        third = client.post("/api/ask", json={"question": "What does it mean for IT?",
                                               "conversation_id": first["conversation_id"]}).json()
    assert second["intent"] == "follow-up" and second["turn"] == 2 and second["terms"][0]["slug"] == "purchase-order"
    assert third["turn"] == 3
    rows = _stored(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert sorted(r.turn for r in rows if r.conversation_id == first["conversation_id"]) == [1, 2, 3]


def test_writer_puts_concurrent_rows_in_few_transactions(tmp_path):
    import threading

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    writer = store.writer
    threads = [threading.Thread(target=lambda n=n: [writer.submit(_row(f"c{n}-{i}")) for i in range(50)])
               for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert writer.flush(10)
    assert store.count(Question) == 200
    assert writer.batches < 200  # batched, not one transaction per row
    store.dispose()


def _row(conversation_id: str) -> dict:
    from app.store.db import now

    return {"conversation_id": conversation_id, "turn": 1, "question": "q", "audience": None, "intent": "define",
            "focus": [], "facts": None, "confident": True, "confidence": 0.9, "terms": [], "suggestions": [],
            "created_at": now()}


def test_with_several_workers_an_answer_is_stored_before_it_is_returned(tmp_path):
    settings = _settings(tmp_path, workers=2)
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as client:
        assert client.app.state.conversations.wait is True
        asked = client.post("/api/ask", json={"question": "What is SSO?"}).json()
        # Read by another connection at once, as a second worker would: the turn is there.
        assert [r.conversation_id for r in _stored(settings.database_url)] == [asked["conversation_id"]]


WORKER_SCRIPT = """
import sys, time, uvicorn
sys.path.insert(0, {root!r})
from app.config import Settings
from app.main import create_app
from app.store.writer import QuestionWriter
from tests.fakes import FakeEmbedder
# A slow disk (or a busy writer): each batch commits 0.3 s late, so a follow-up sent the moment its
# answer arrives would find nothing unless the answer waited for its row.
_write = QuestionWriter._write
QuestionWriter._write = lambda self, batch, **kw: (time.sleep(0.3), _write(self, batch, **kw))[1]
settings = Settings(glossary_dir={glossary!r}, index_dir={index!r}, database_url={url!r}, watch_glossary=False)
uvicorn.run(create_app(settings, embedder=FakeEmbedder()), host="127.0.0.1", port={port}, log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def test_follow_up_on_another_process_sharing_one_sqlite_file(tmp_path):
    """Two real processes on one SQLite file, each configured as one of two workers (GLOSSARY_WORKERS=2)."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    procs, urls = [], []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GLOSSARY_WORKERS": "2", "GLOSSARY_RATE_LIMIT_PER_MINUTE": "0"}
    try:
        for name in ("a", "b"):
            port = _free_port()
            script = WORKER_SCRIPT.format(root=str(ROOT), glossary=str(FIXTURE_GLOSSARY), index=str(tmp_path / f"index-{name}"),
                                          url=url, port=port)
            procs.append(subprocess.Popen([sys.executable, "-c", script], env=env))
            urls.append(f"http://127.0.0.1:{port}")
        for u in urls:
            wait_ready(u)
        a, b = urls
        for _ in range(3):  # each follow-up is sent the moment the previous answer arrives
            first = httpx.post(f"{a}/api/ask", json={"question": "What is a purchase order?", "audience": "it"}).json()
            cid = first["conversation_id"]
            second = httpx.post(f"{b}/api/ask", json={"question": "And who approves it?", "audience": "it",
                                                      "conversation_id": cid}).json()
            third = httpx.post(f"{a}/api/ask", json={"question": "What does it mean for IT?", "conversation_id": cid}).json()
            assert second["conversation_id"] == cid and second["turn"] == 2 and second["intent"] == "follow-up"
            assert second["terms"][0]["slug"] == "purchase-order"
            assert third["conversation_id"] == cid and third["turn"] == 3
    finally:
        _stop(procs)
    rows = _stored(url)
    assert len(rows) == 9 and len({(r.conversation_id, r.turn) for r in rows}) == 9


# `glossary serve --workers 2`, as a user runs it (the real model: marked `model`) ------------------
TOKEN = "workers-admin-token"


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    pids = [int(p) for p in out.split()]
    return [p for p in pids if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]  # not the resource tracker


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.model
def test_serve_with_two_workers_reloads_in_every_worker(tmp_path):
    glossary = tmp_path / "glossary"
    shutil.copytree(FIXTURE_GLOSSARY, glossary)
    port, log = _free_port(), (tmp_path / "serve.log").open("w+")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GLOSSARY_ADMIN_TOKEN": TOKEN, "GLOSSARY_WATCH_GLOSSARY": "false",
           "GLOSSARY_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "GLOSSARY_RATE_LIMIT_PER_MINUTE": "0"}
    cli = [sys.executable, "-c", "from app.cli import main; main()"]
    # Built first, as a deployment does: a worker that rebuilds a stale index keeps the reference model (torch).
    subprocess.run([*cli, "build", "--glossary-dir", str(glossary), "--index-dir", str(tmp_path / "index")], env=env,
                   check=True, capture_output=True, timeout=300, cwd=ROOT)
    serve = subprocess.Popen([*cli, "serve", "--workers", "2",
                              "--port", str(port), "--glossary-dir", str(glossary), "--index-dir", str(tmp_path / "index")],
                             env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, timeout=240)
        deadline = time.time() + 120
        while len(_children(serve.pid)) < 2 or log_text(log).count("Application startup complete") < 2:
            assert time.time() < deadline, log_text(log)
            time.sleep(0.3)
        workers = _children(serve.pid)
        rss = [_rss_mb(p) for p in workers]
        print(f"worker RSS MB: {rss}")
        # Each worker holds its own model and index: ~200-250 MB with the built int8 model, ~370 MB with
        # the packaged fallback file (no `glossary build-model`), whose weights ONNX Runtime turns to fp32.
        assert len(workers) == 2 and all(0 < r < 450 for r in rss)

        def summaries() -> set[str]:
            seen = set()
            for _ in range(30):  # a new connection each time, so both workers answer some
                r = httpx.post(f"{base}/api/ask", json={"question": "What is SSO?"}, headers={"Connection": "close"})
                assert r.status_code == 200
                seen.add(r.json()["terms"][0]["summary"])
            return seen

        assert summaries() == {"One company login opens many applications without separate passwords."}  # now cached
        path = glossary / "terms" / "single-sign-on.md"
        path.write_text(path.read_text().replace("summary: One company login opens many applications without separate "
                                                 "passwords.", "summary: A single sign-in for every company app."))
        r = httpx.post(f"{base}/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        assert r.status_code == 200 and r.json()["status"] == "applied"
        deadline = time.time() + 60
        while log_text(log).count("reload applied") < 2:  # the requested one, then the other worker's
            assert time.time() < deadline, log_text(log)
            time.sleep(0.2)
        assert "reload requested in another worker" in log_text(log)
        assert summaries() == {"A single sign-in for every company app."}  # no worker, no cache serves the old one
    finally:
        _stop([serve])
        log.close()
    assert serve.returncode == 0


def log_text(log) -> str:
    log.flush()
    return Path(log.name).read_text(errors="replace")


@pytest.mark.parametrize(("cores", "workers", "explicit", "threads"),
                         [(2, 1, 0, 2), (2, 2, 0, 1), (2, 4, 0, 1), (8, 2, 0, 2), (16, 4, 0, 2), (1, 1, 0, 1), (2, 2, 3, 3)])
def test_query_threads_share_the_cores_among_the_workers(monkeypatch, cores, workers, explicit, threads):
    monkeypatch.setattr("app.config.usable_cores", lambda: cores)
    assert Settings(workers=workers, onnx_threads=explicit).query_threads() == threads


def test_each_workers_onnx_session_gets_its_share_of_the_cores(monkeypatch):
    from app.search.embedder import make_embedder
    from app.search.onnx_embedder import onnx_available

    settings = Settings(workers=2)
    if not onnx_available(settings.resolved_model_path(), settings.onnx_model):
        pytest.skip("no ONNX model installed")
    monkeypatch.setattr("app.config.usable_cores", lambda: 2)
    embedder = make_embedder("onnx", settings.resolved_model_path(), settings.onnx_model, threads=settings.query_threads())
    assert embedder.session.get_session_options().intra_op_num_threads == 1
    assert embedder.encode(["What is SSO?"]).shape == (1, 384)
