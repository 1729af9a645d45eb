"""Faults: damaged index files, a missing model, unreadable glossary files, the database going away,
a full disk while the index is written. Each one is reported clearly, the service keeps serving what
it can, stored feedback is not lost, and it recovers once the fault is gone."""

from __future__ import annotations

import builtins
import errno
import io
import logging
import re
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.glossary.loader import GlossaryInvalid
from app.main import create_app
from app.search.index import POINTER, IndexError_, load_index, save_index
from app.store.db import Question
from tests.fakes import FakeEmbedder

SSO = "terms/single-sign-on.md"


def app_client(settings, **kwargs) -> TestClient:
    return TestClient(create_app(settings, embedder=FakeEmbedder(), **kwargs), raise_server_exceptions=False)


def current_build(index_dir: Path) -> Path:
    return index_dir / "builds" / (index_dir / POINTER).read_text().strip()


def top_slug(client, q: str = "single sign-on") -> str:
    r = client.get("/api/search", params={"q": q})
    assert r.status_code == 200, r.text
    return r.json()["results"][0]["slug"]


# --- a damaged index ----------------------------------------------------------------------------

def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


DAMAGE = {
    "vectors.npy empty": ("vectors.npy", lambda b: b""),
    "vectors.npy truncated": ("vectors.npy", _truncate),
    "vectors.npy header only": ("vectors.npy", lambda b: b[:60]),
    "vectors.npy random bytes": ("vectors.npy", lambda b: os.urandom(len(b))),
    "manifest.json truncated": ("manifest.json", _truncate),
    "manifest.json not an object": ("manifest.json", lambda b: b"[]"),
    "manifest.json not UTF-8": ("manifest.json", lambda b: b"\xff\xfe\x00"),
    "views.json truncated": ("views.json", _truncate),
    "views.json wrong rows": ("views.json", lambda b: b'[["only-a-slug"]]'),
    "views.json wrong count": ("views.json", lambda b: b'[["a", "b", "c"]]'),
    "lexical.json not an object": ("lexical.json", lambda b: b"[1, 2]"),
    "lexical.json missing": ("lexical.json", None),
    "CURRENT names no build": (POINTER, lambda b: b"nope\n"),
    "CURRENT not UTF-8": (POINTER, lambda b: b"\xff\x00"),
}


def damage(index_dir: Path, name: str, change) -> None:
    path = index_dir / POINTER if name == POINTER else current_build(index_dir) / name
    if change is None:
        path.unlink()
    else:
        path.write_bytes(change(path.read_bytes()))


@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_index_is_rebuilt_at_start(settings, case, caplog):
    with app_client(settings) as client:
        assert top_slug(client) == "single-sign-on"
    damage(settings.index_dir, *DAMAGE[case])
    with pytest.raises(IndexError_):
        load_index(settings.index_dir)
    caplog.set_level(logging.WARNING, logger="glossary")
    with app_client(settings) as client:
        assert top_slug(client) == "single-sign-on"
        assert client.get("/readyz").json()["status"] == "ready"
    assert any("rebuilding index: index at" in r.getMessage() for r in caplog.records), caplog.text
    assert load_index(settings.index_dir) is not None  # the rebuilt index was saved


@pytest.mark.parametrize("case", ["vectors.npy truncated", "manifest.json not an object", "CURRENT not UTF-8"])
def test_damaged_index_without_rebuild_is_a_clear_refusal(settings, case):
    with app_client(settings):
        pass
    damage(settings.index_dir, *DAMAGE[case])
    strict = settings.model_copy(update={"rebuild_stale_index": False})
    with pytest.raises(IndexError_) as info:
        with app_client(strict):
            pass
    message = str(info.value)
    assert "index at" in message and "run `glossary build`" in message and "GLOSSARY_REBUILD_STALE_INDEX" in message


# --- a missing model -------------------------------------------------------------------------------

@pytest.mark.parametrize("embedder", ["auto", "sentence-transformers", "onnx"])
def test_missing_model_path_names_the_setting(settings, tmp_path, embedder):
    missing = tmp_path / "no-such-model"
    broken = settings.model_copy(update={"model_path": str(missing), "embedder": embedder})
    with pytest.raises(FileNotFoundError) as info:
        with TestClient(create_app(broken)):  # no test embedder: the service loads the configured model
            pass
    assert "GLOSSARY_MODEL_PATH" in str(info.value) and str(missing) in str(info.value)


# --- unreadable glossary files ----------------------------------------------------------------

def make_unreadable(glossary: Path, kind: str) -> str:
    """Break one glossary file the way a root-proof test can; return the name the report must show."""
    if kind == "term not UTF-8":
        (glossary / SSO).write_bytes((glossary / SSO).read_bytes().replace(b"Single Sign-On", b"Single \xff\xfe Sign-On"))
        return "glossary/terms/single-sign-on.md"
    if kind == "term is a folder":
        (glossary / "terms" / "folder.md").mkdir()
        return "glossary/terms/folder.md"
    if kind == "org not UTF-8":
        (glossary / "org.yaml").write_bytes(b"company: \xff\n")
        return "glossary/org.yaml"
    (glossary / "org.yaml").unlink()
    (glossary / "org.yaml").mkdir()
    return "glossary/org.yaml"


KINDS = ["term not UTF-8", "term is a folder", "org not UTF-8", "org is a folder"]


@pytest.mark.parametrize("kind", KINDS)
def test_check_reports_an_unreadable_file_by_name(fixture_glossary, kind):
    name = make_unreadable(fixture_glossary, kind)
    result = CliRunner().invoke(cli, ["check", "--glossary-dir", str(fixture_glossary)])
    assert result.exit_code == 1
    assert f"{name}: error:" in result.output and "cannot read file" in result.output, result.output


@pytest.mark.parametrize("kind", KINDS)
def test_service_refuses_to_start_naming_the_file(settings, kind):
    name = make_unreadable(settings.glossary_dir, kind)
    with pytest.raises(GlossaryInvalid) as info:
        with app_client(settings):
            pass
    assert name in str(info.value) and "cannot read file" in str(info.value)


def test_file_made_unreadable_while_serving_is_refused_and_old_glossary_keeps_serving(settings):
    original = (settings.glossary_dir / SSO).read_bytes()
    with app_client(settings) as client:
        name = make_unreadable(settings.glossary_dir, "term not UTF-8")
        result = client.app.state.reloader.reload("test")
        assert result.status == "rejected"
        assert any(name in p and "cannot read file" in p for p in result.problems), result.problems
        assert top_slug(client) == "single-sign-on"
        assert client.post("/api/ask", json={"question": "What is SSO?"}).json()["terms"][0]["slug"] == "single-sign-on"
        # Fixed (and changed a little): the next reload takes it.
        (settings.glossary_dir / SSO).write_bytes(original.replace(b"without separate passwords", b"with one password"))
        assert client.app.state.reloader.reload("test").status == "applied"
        assert "one password" in client.get("/api/terms/single-sign-on").json()["summary"]


# --- the database going away ----------------------------------------------------------------------

def feedback(client, conversation_id: str, comment: str):
    return client.post("/api/feedback", json={"conversation_id": conversation_id, "rating": "down", "comment": comment})


def test_database_going_away_mid_run(settings, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="glossary")
    db_dir = tmp_path / "db"
    settings = settings.model_copy(update={"database_url": f"sqlite:///{db_dir / 'glossary.db'}"})
    with app_client(settings) as client:
        store = client.app.state.store
        before = client.post("/api/ask", json={"question": "What is SSO?"}).json()
        assert feedback(client, before["conversation_id"], "stored before the outage").status_code == 201

        # The database goes away: its folder disappears and open connections are dropped.
        away = tmp_path / "db-away"
        db_dir.rename(away)
        store.engine.dispose()

        asked = client.post("/api/ask", json={"question": "What is a purchase order?"})
        assert asked.status_code == 200 and asked.json()["terms"][0]["slug"] == "purchase-order"
        follow = client.post("/api/ask", json={"question": "And who approves it?",
                                               "conversation_id": asked.json()["conversation_id"]})
        assert follow.status_code == 200 and follow.json()["intent"] == "follow-up"  # memory carries the conversation
        assert top_slug(client) == "single-sign-on"
        assert client.get("/terms/single-sign-on").status_code == 200
        assert client.get("/readyz").status_code == 200
        refused = feedback(client, asked.json()["conversation_id"], "sent during the outage")
        assert refused.status_code == 503
        assert "not available right now" in refused.json()["detail"] and "try again" in refused.json()["detail"]
        on_page = client.post("/", data={"question": "What is SSO?"}).text  # the no-JS chat, in memory meanwhile
        page_id = re.search(r'name="conversation_id" value="([^"]+)"', on_page).group(1)
        page = client.post("/feedback", data={"conversation_id": page_id, "rating": "up"})
        assert page.status_code == 503 and "not available right now" in page.text

        for _ in range(5):
            assert client.post("/api/ask", json={"question": "What is SSO?"}).status_code == 200
        outage = [r.getMessage() for r in caplog.records if r.getMessage().startswith("database unavailable")]
        assert len(outage) == 1 and "logged once" in outage[0]  # reported once, not on every request

        # Back again: the client's retry is stored, and nothing stored before was lost.
        away.rename(db_dir)
        assert feedback(client, asked.json()["conversation_id"], "sent again after the outage").status_code == 201
        comments = sorted(f.comment for f, _ in store.feedback())
        assert comments == ["sent again after the outage", "stored before the outage"]
        assert client.post("/api/ask", json={"question": "What is an MSA?"}).status_code == 200
        assert store.count(Question) >= 2
        assert any(r.getMessage().startswith("database reachable again") for r in caplog.records)


def test_database_unreachable_at_start_then_back(settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("the database folder's name is taken by a file")
    settings = settings.model_copy(update={"database_url": f"sqlite:///{blocker / 'glossary.db'}"})
    with app_client(settings) as client:  # starts anyway
        asked = client.post("/api/ask", json={"question": "What is SSO?"})
        assert asked.status_code == 200
        assert feedback(client, asked.json()["conversation_id"], "while down").status_code == 503
        blocker.unlink()
        assert feedback(client, asked.json()["conversation_id"], "once back").status_code == 201
        assert [f.comment for f, _ in client.app.state.store.feedback()] == ["once back"]


def test_refusing_postgresql_keeps_answers_coming(settings):
    refusing = settings.model_copy(update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    with app_client(refusing) as client:
        assert client.post("/api/ask", json={"question": "What is SSO?"}).status_code == 200
        r = feedback(client, "abc", "x")
        assert r.status_code == 503 and "not available" in r.json()["detail"]


# --- a full disk while the index is written ------------------------------------------------------

class FullDisk:
    """Writes to files under `root` fail with ENOSPC once `budget` bytes have gone to disk.

    Installed as builtins.open and io.open (what np.save and Path.write_text call), so the index
    writer meets the error exactly where a real full disk would raise it: in the middle of a write.
    """

    def __init__(self, root: Path, budget: int):
        self.root = root.resolve()
        self.budget = budget
        self.used = 0
        self.failures = 0
        self.written: list[tuple[str, int]] = []  # (file name, bytes) of each write that went through
        self._open = io.open

    def open(self, file, mode="r", *args, **kwargs):
        handle = self._open(file, mode, *args, **kwargs)
        writing = any(c in mode for c in "wax+")
        if writing and isinstance(file, (str, os.PathLike)) and Path(file).resolve().is_relative_to(self.root):
            return _FillingFile(handle, self)
        return handle


class _FillingFile:
    def __init__(self, handle, disk: FullDisk):
        self._handle = handle
        self._disk = disk

    def write(self, data):
        size = len(data.encode() if isinstance(data, str) else data)
        if self._disk.used + size > self._disk.budget:
            self._disk.failures += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), getattr(self._handle, "name", None))
        self._disk.used += size
        self._disk.written.append((Path(self._handle.name).name, size))
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()


@pytest.fixture
def full_disk(monkeypatch):
    def install(root: Path, budget: int) -> FullDisk:
        disk = FullDisk(root, budget)
        monkeypatch.setattr(builtins, "open", disk.open)
        monkeypatch.setattr(io, "open", disk.open)
        return disk

    yield install
    monkeypatch.undo()


def saved_index(settings) -> tuple[Path, bytes]:
    with app_client(settings):
        pass
    return current_build(settings.index_dir), (settings.index_dir / POINTER).read_bytes()


def bytes_before(written: list[tuple[str, int]], name: str) -> int:
    """Bytes written before the first write to a file whose name starts with `name`."""
    total = 0
    for file, size in written:
        if file.startswith(name):
            return total
        total += size
    raise AssertionError(f"{name} was never written: {written}")


# The disk fills up in the middle of the vectors, or just as each later file (the pointer last) is written.
@pytest.mark.parametrize("fails_at", ["vectors.npy", "views.json", "lexical.json", "manifest.json", f".{POINTER}."])
def test_disk_full_on_index_write_leaves_the_old_index(settings, tmp_path, full_disk, monkeypatch, fails_at):
    old_build, pointer = saved_index(settings)
    old = load_index(settings.index_dir)
    rehearsal = full_disk(tmp_path / "rehearsal", 10**12)
    save_index(old, tmp_path / "rehearsal")
    monkeypatch.undo()
    budget = bytes_before(rehearsal.written, fails_at) + (1000 if fails_at == "vectors.npy" else 0)
    disk = full_disk(settings.index_dir, budget)
    with pytest.raises(OSError) as info:
        save_index(old, settings.index_dir)
    assert info.value.errno == errno.ENOSPC and disk.failures == 1
    assert (settings.index_dir / POINTER).read_bytes() == pointer
    leftovers = [p.name for p in (settings.index_dir / "builds").iterdir()] + \
                [p.name for p in settings.index_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == [old_build.name]  # no half-written build, no stray pointer
    again = load_index(settings.index_dir)
    assert np.array_equal(again.vectors, old.vectors) and again.manifest == old.manifest


def test_disk_full_during_a_reload_keeps_serving_the_old_index_then_recovers(settings, full_disk, monkeypatch):
    with app_client(settings) as client:
        path = settings.glossary_dir / SSO
        path.write_text(path.read_text().replace("without separate passwords", "while the disk is full"))
        disk = full_disk(settings.index_dir, 0)
        result = client.app.state.reloader.reload("test")
        assert result.status == "failed" and "No space left on device" in result.reason, result.reason
        assert disk.failures == 1
        assert "without separate passwords" in client.get("/api/terms/single-sign-on").json()["summary"]
        assert top_slug(client) == "single-sign-on"
        assert client.post("/api/ask", json={"question": "What is SSO?"}).status_code == 200
        monkeypatch.undo()  # space freed
        assert client.app.state.reloader.reload("test").status == "applied"
        assert "while the disk is full" in client.get("/api/terms/single-sign-on").json()["summary"]


def test_disk_full_at_start_serves_the_rebuilt_index_from_memory(settings, full_disk, caplog):
    old_build, pointer = saved_index(settings)
    path = settings.glossary_dir / SSO
    path.write_text(path.read_text().replace("without separate passwords", "changed before a restart"))
    full_disk(settings.index_dir, 0)
    caplog.set_level(logging.WARNING, logger="glossary")
    with app_client(settings) as client:
        assert "changed before a restart" in client.get("/api/terms/single-sign-on").json()["summary"]
        assert top_slug(client) == "single-sign-on"
    assert any("could not save the rebuilt index" in r.getMessage() and "No space left" in r.getMessage()
               for r in caplog.records), caplog.text
    assert (settings.index_dir / POINTER).read_bytes() == pointer and old_build.exists()


def test_cli_build_reports_a_full_disk(settings, full_disk, monkeypatch):
    """`glossary build` must fail loudly rather than pretend: only the service serves an unsaved index."""
    import app.resources as resources

    monkeypatch.setattr(resources, "reference_embedder", lambda s: FakeEmbedder())
    full_disk(settings.index_dir, 0)
    result = CliRunner().invoke(cli, ["build", "--glossary-dir", str(settings.glossary_dir),
                                      "--index-dir", str(settings.index_dir)])
    assert result.exit_code != 0 and isinstance(result.exception, OSError)
    assert result.exception.errno == errno.ENOSPC
    shutil.rmtree(settings.index_dir, ignore_errors=True)


# --- found by the load test (bench/load_test.py) -------------------------------------------------

def test_stemming_is_right_when_request_threads_stem_at_once():
    """One Snowball stemmer shared by the request threads garbled words (and raised IndexError, a 500
    on /api/ask) under 8 concurrent clients; the garbled stems were then cached for good."""
    import random
    import string
    import threading

    import snowballstemmer

    from app.search import text

    rng = random.Random(7)
    suffixes = ["ational", "ization", "fulness", "iveness", "ousness", "alism", "ements", "ingly", "ation", "ness",
                "ing", "ed", "ies", "s"]
    words = sorted({"".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9))) + rng.choice(suffixes)
                    for _ in range(5000)})
    reference = snowballstemmer.stemmer("english")
    expected = {w: reference.stemWord(w) for w in words}
    stem = text._stem.__wrapped__  # past the cache: every call really stems
    failures: list[str] = []

    def work(order: list[str]) -> None:
        for word in order:
            try:
                if stem(word) != expected[word]:
                    failures.append(f"{word}: {stem(word)} != {expected[word]}")
            except Exception as exc:  # noqa: BLE001 - any exception is the bug
                failures.append(f"{word}: {exc!r}")

    threads = [threading.Thread(target=work, args=(words if i % 2 else words[::-1],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:5]
