"""Hot reload: changes show up without a restart and without a failed request; bad glossaries are refused."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.fakes import FakeEmbedder

TOKEN = "reload-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class SlowEmbedder(FakeEmbedder):
    """Makes a rebuild take a while, so requests really do arrive while it runs."""

    def encode(self, texts):
        if len(texts) > 1:
            time.sleep(0.6)
        return super().encode(texts)


def make(fixture_glossary, tmp_path, embedder=None, watch=False):
    settings = Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "index", admin_token=TOKEN,
                        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", watch_glossary=watch)
    return TestClient(create_app(settings, embedder=embedder or FakeEmbedder()))


def edit_summary(glossary, text):
    path = glossary / "terms" / "single-sign-on.md"
    path.write_text(path.read_text().replace(
        "summary: One company login opens many applications without separate passwords.", f"summary: {text}"))


def hammer(client, stop: threading.Event, results: list):
    while not stop.is_set():
        r = client.post("/api/ask", json={"question": "What is SSO?"})
        results.append((r.status_code, r.json()["terms"][0]["summary"] if r.status_code == 200 else r.text))


def test_reload_swaps_under_concurrent_requests_without_errors(fixture_glossary, tmp_path):
    with make(fixture_glossary, tmp_path, SlowEmbedder()) as client:
        stop, results = threading.Event(), []
        workers = [threading.Thread(target=hammer, args=(client, stop, results)) for _ in range(3)]
        for w in workers:
            w.start()
        edit_summary(fixture_glossary, "One sign-in, many applications.")
        r = client.post("/admin/reload", headers=AUTH)
        time.sleep(0.2)
        stop.set()
        for w in workers:
            w.join()
        assert r.status_code == 200 and r.json()["status"] == "applied", r.json()
        assert r.json()["embedded"] == 1 and r.json()["reused"] > 10  # only the changed view re-embedded
        assert results and all(code == 200 for code, _ in results)
        summaries = [s for _, s in results]
        assert "One company login opens many applications without separate passwords." in summaries  # old, during
        assert "One sign-in, many applications." in summaries  # new, once swapped
        after = client.post("/api/ask", json={"question": "What is SSO?"}).json()
        assert after["terms"][0]["summary"] == "One sign-in, many applications."
        assert client.get("/api/terms/single-sign-on").json()["summary"] == "One sign-in, many applications."


def test_invalid_glossary_is_refused_and_old_keeps_serving(fixture_glossary, tmp_path):
    with make(fixture_glossary, tmp_path) as client:
        stop, results = threading.Event(), []
        worker = threading.Thread(target=hammer, args=(client, stop, results))
        worker.start()
        path = fixture_glossary / "terms" / "single-sign-on.md"
        path.write_text(path.read_text().replace("reviewed: 2026-10-01", "reviewed: soon"))
        r = client.post("/admin/reload", headers=AUTH)
        stop.set()
        worker.join()
        assert r.status_code == 422 and r.json()["status"] == "rejected"
        assert any("single-sign-on.md:10: error: reviewed" in p for p in r.json()["problems"])
        assert all(code == 200 for code, _ in results)
        assert client.get("/api/terms/single-sign-on").status_code == 200
        assert client.get("/admin/health", headers=AUTH).json()["last_reload"]["status"] == "rejected"


def test_failed_index_write_keeps_old_glossary(fixture_glossary, tmp_path, monkeypatch):
    with make(fixture_glossary, tmp_path) as client:
        import app.reload as reload_module

        def disk_full(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(reload_module, "save_index", disk_full)
        edit_summary(fixture_glossary, "Changed while the disk is full.")
        r = client.post("/admin/reload", headers=AUTH)
        assert r.status_code == 503 and r.json()["status"] == "failed" and "No space left" in r.json()["reason"]
        assert client.get("/api/terms/single-sign-on").json()["summary"].startswith("One company login")
        monkeypatch.undo()
        assert client.post("/admin/reload", headers=AUTH).json()["status"] == "applied"  # recovers


def test_file_watch_picks_up_an_edit(fixture_glossary, tmp_path):
    with make(fixture_glossary, tmp_path, watch=True) as client:
        time.sleep(0.5)  # let the watcher start
        edit_summary(fixture_glossary, "Watched and reloaded.")
        deadline = time.time() + 20
        while time.time() < deadline:
            if client.get("/api/terms/single-sign-on").json()["summary"] == "Watched and reloaded.":
                break
            time.sleep(0.2)
        else:
            pytest.fail("the file watcher did not reload the glossary within 20 s")


def test_cli_reload_against_a_running_service(fixture_glossary, tmp_path):
    import socket

    import uvicorn
    from typer.testing import CliRunner

    from app.cli import cli

    settings = Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "index", admin_token=TOKEN,
                        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", watch_glossary=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, embedder=FakeEmbedder()), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 20
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        edit_summary(fixture_glossary, "Reloaded from the command line.")
        result = CliRunner().invoke(cli, ["reload", "--url", f"http://127.0.0.1:{port}", "--token", TOKEN])
        assert result.exit_code == 0 and result.output.startswith("applied"), result.output
        bad = CliRunner().invoke(cli, ["reload", "--url", f"http://127.0.0.1:{port}", "--token", "wrong"])
        assert bad.exit_code == 2 and "wrong admin token" in bad.output
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_term_page_and_card_show_an_edited_section_after_reload(fixture_glossary, tmp_path):
    """Term pages and cards keep their sections' HTML for the loaded glossary only: a reload drops it."""
    path = fixture_glossary / "terms" / "single-sign-on.md"
    old, new = "reach many applications", "reach every reloaded application"
    with make(fixture_glossary, tmp_path) as client:
        pages = [client.get("/terms/single-sign-on").text for _ in range(2)]
        card = client.get("/widget/api/card/single-sign-on").json()["definition_html"]
        assert old in pages[0] and pages[0] == pages[1] and old in card  # the second page comes from the cache
        path.write_text(path.read_text().replace(old, new))
        assert client.post("/admin/reload", headers=AUTH).json()["status"] == "applied"
        page = client.get("/terms/single-sign-on").text
        card = client.get("/widget/api/card/single-sign-on").json()["definition_html"]
        assert new in page and old not in page and new in card
