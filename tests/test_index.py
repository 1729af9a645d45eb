"""Index build, atomic save, load, staleness and incremental re-embedding."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.config import Settings
from app.glossary import load_glossary
from app.resources import ensure_index
from app.search.index import IndexError_, build_index, load_index, save_index
from tests.fakes import FakeEmbedder


def test_build_save_load_roundtrip(fixture_glossary, tmp_path):
    g = load_glossary(fixture_glossary).glossary
    index = build_index(g, FakeEmbedder())
    assert index.vectors.shape == (len(index.views), 384)
    assert {v.slug for v in index.views} == set(g.terms)
    assert {v.kind for v in index.views} >= {"name", "definition", "procurement", "it", "example", "question"}
    save_index(index, tmp_path / "index")
    loaded = load_index(tmp_path / "index")
    np.testing.assert_array_equal(loaded.vectors, index.vectors)
    m = loaded.manifest
    assert m["model_id"] == "fake-hash-embedder" and m["dimension"] == 384
    assert m["glossary_hash"] == g.content_hash and m["terms"] == 7 and m["views"] == len(index.views)
    assert "build_seconds" in m and "built_at" in m
    assert loaded.is_stale(g, "fake-hash-embedder") is None
    assert "model" in loaded.is_stale(g, "other-model")


def test_failed_write_keeps_the_good_index(fixture_glossary, tmp_path, monkeypatch):
    g = load_glossary(fixture_glossary).glossary
    save_index(build_index(g, FakeEmbedder()), tmp_path / "index")
    before = (tmp_path / "index" / "CURRENT").read_text()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save", disk_full)
    with pytest.raises(OSError):
        save_index(build_index(g, FakeEmbedder()), tmp_path / "index")
    assert (tmp_path / "index" / "CURRENT").read_text() == before
    assert load_index(tmp_path / "index") is not None
    assert not list((tmp_path / "index" / "builds").glob(".tmp-*"))


def test_damaged_index_says_how_to_fix(fixture_glossary, tmp_path):
    g = load_glossary(fixture_glossary).glossary
    build = save_index(build_index(g, FakeEmbedder()), tmp_path / "index")
    (build / "vectors.npy").write_bytes(b"\x93NUMPY truncated")
    with pytest.raises(IndexError_, match="glossary build"):
        load_index(tmp_path / "index")
    # The service rebuilds a damaged index at start instead of failing.
    settings = Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "index")
    index = ensure_index(settings, g, FakeEmbedder())
    assert index.manifest["terms"] == 7
    assert load_index(tmp_path / "index") is not None


def test_stale_index_is_rebuilt_reusing_unchanged_views(fixture_glossary, tmp_path):
    settings = Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "index")
    embedder = FakeEmbedder()
    g = load_glossary(fixture_glossary).glossary
    first = ensure_index(settings, g, embedder)
    assert first.manifest["embedded"] == first.manifest["views"]
    assert ensure_index(settings, g, embedder).manifest == first.manifest  # current: loaded, not rebuilt
    path = fixture_glossary / "terms" / "single-sign-on.md"
    path.write_text(path.read_text().replace("One company login opens", "One company sign-in opens"))
    g2 = load_glossary(fixture_glossary).glossary
    second = ensure_index(settings, g2, embedder)
    assert second.manifest["glossary_hash"] == g2.content_hash
    assert second.manifest["embedded"] == 1  # only the changed name view
    assert second.manifest["reused"] == second.manifest["views"] - 1


def test_refuses_stale_index_when_rebuild_is_off(fixture_glossary, tmp_path):
    settings = Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "index", rebuild_stale_index=False)
    g = load_glossary(fixture_glossary).glossary
    with pytest.raises(IndexError_, match="run `glossary build`"):
        ensure_index(settings, g, FakeEmbedder())


def test_manifest_is_json(fixture_glossary, tmp_path):
    g = load_glossary(fixture_glossary).glossary
    build = save_index(build_index(g, FakeEmbedder()), tmp_path / "index")
    assert json.loads((build / "manifest.json").read_text())["recipe_version"] >= 1
