"""The built index: FAISS vectors for every term view plus BM25 tokens, saved atomically with a manifest."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from app.glossary.model import Glossary
from app.search.embedder import Embedder
from app.search.text import lexical_document, term_views

# Bump when what goes into the index changes, so older indexes count as stale.
RECIPE_VERSION = 4  # 4: import placeholders are no longer embedded or indexed
POINTER = "CURRENT"
KEEP_BUILDS = 2


class IndexError_(Exception):
    """An index on disk cannot be used; the message says why and how to fix it."""


@dataclass
class View:
    slug: str
    kind: str
    text_hash: str


@dataclass
class SearchIndex:
    """Everything retrieval loads: one vector row per view, views' owners, BM25 documents, manifest."""

    vectors: np.ndarray
    views: list[View]
    lexical: dict[str, list[str]]
    manifest: dict
    _faiss: object | None = None

    @property
    def faiss(self):
        """Return a flat inner-product FAISS index over the vectors (built on first use)."""
        if self._faiss is None:
            import faiss

            index = faiss.IndexFlatIP(self.vectors.shape[1])
            if len(self.vectors):
                index.add(self.vectors)
            self._faiss = index
        return self._faiss

    def is_stale(self, glossary: Glossary, model_id: str) -> str | None:
        """Return why this index does not fit the glossary and model, or None when it does."""
        m = self.manifest
        if m.get("recipe_version") != RECIPE_VERSION:
            return f"index recipe {m.get('recipe_version')} is older than {RECIPE_VERSION}"
        if m.get("model_id") != model_id:
            return f"index was built with model {m.get('model_id')}, not {model_id}"
        if m.get("glossary_hash") != glossary.content_hash:
            return "glossary changed since the index was built"
        return None


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def build_index(glossary: Glossary, embedder: Embedder, previous: SearchIndex | None = None) -> SearchIndex:
    """Embed every view of every term, reusing vectors of unchanged views from `previous`."""
    started = time.perf_counter()
    views: list[View] = []
    texts: list[str] = []
    for slug in sorted(glossary.terms):
        for kind, text in term_views(glossary.terms[slug]):
            views.append(View(slug, kind, _hash(text)))
            texts.append(text)
    reuse: dict[str, np.ndarray] = {}
    if previous is not None and previous.manifest.get("model_id") == embedder.model_id:
        reuse = {v.text_hash: previous.vectors[i] for i, v in enumerate(previous.views)}
    todo = [i for i, v in enumerate(views) if v.text_hash not in reuse]
    vectors = np.zeros((len(views), embedder.dim), dtype=np.float32)
    if todo:
        fresh = embedder.encode([texts[i] for i in todo])
        for row, i in enumerate(todo):
            vectors[i] = fresh[row]
    for i, v in enumerate(views):
        if v.text_hash in reuse:
            vectors[i] = reuse[v.text_hash]
    lexical = {slug: lexical_document(term) for slug, term in glossary.terms.items()}
    manifest = {
        "recipe_version": RECIPE_VERSION,
        "model_id": embedder.model_id,
        "dimension": int(embedder.dim),
        "glossary_hash": glossary.content_hash,
        "terms": len(glossary.terms),
        "views": len(views),
        "embedded": len(todo),
        "reused": len(views) - len(todo),
        "build_seconds": round(time.perf_counter() - started, 3),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return SearchIndex(vectors=vectors, views=views, lexical=lexical, manifest=manifest)


def save_index(index: SearchIndex, index_dir: Path) -> Path:
    """Write the index into a new build folder, then switch the CURRENT pointer atomically."""
    index_dir = Path(index_dir)
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    build_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    tmp = builds / f".tmp-{build_id}"
    final: Path | None = None
    try:
        tmp.mkdir()
        np.save(tmp / "vectors.npy", index.vectors)
        (tmp / "views.json").write_text(json.dumps([[v.slug, v.kind, v.text_hash] for v in index.views]))
        (tmp / "lexical.json").write_text(json.dumps(index.lexical))
        # The manifest goes last: a folder without one is never a usable build.
        (tmp / "manifest.json").write_text(json.dumps(index.manifest, indent=2))
        for path in tmp.iterdir():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        final = builds / build_id
        tmp.rename(final)
        pointer_tmp = index_dir / f".{POINTER}.{build_id}"
        pointer_tmp.write_text(build_id + "\n")
        os.replace(pointer_tmp, index_dir / POINTER)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if final is not None:  # renamed but never made current (os.replace is the last step)
            shutil.rmtree(final, ignore_errors=True)
        for stray in index_dir.glob(f".{POINTER}.*"):
            stray.unlink(missing_ok=True)
        raise
    _prune(builds, keep=build_id)
    return final


def _prune(builds: Path, keep: str) -> None:
    done = sorted((p for p in builds.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)
    for old in done[:-KEEP_BUILDS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for tmp in builds.glob(".tmp-*"):
        if time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)


def load_index(index_dir: Path) -> SearchIndex | None:
    """Load the current build, None when there is none; raise IndexError_ when it is damaged."""
    index_dir = Path(index_dir)
    pointer = index_dir / POINTER
    if not pointer.exists():
        return None
    fix = "run `glossary build` to rebuild it"
    build = index_dir / "builds"
    try:
        build = build / pointer.read_text().strip()
        manifest = json.loads((build / "manifest.json").read_text())
        vectors = np.load(build / "vectors.npy", allow_pickle=False).astype(np.float32, copy=False)
        views = [View(*row) for row in json.loads((build / "views.json").read_text())]
        lexical = json.loads((build / "lexical.json").read_text())
    # EOFError: an empty or cut-off vectors.npy; TypeError: rows of the wrong shape.
    except (OSError, ValueError, TypeError, EOFError) as exc:
        raise IndexError_(f"index at {build} is unreadable ({exc.__class__.__name__}: {exc}); {fix}") from exc
    if not isinstance(manifest, dict) or not isinstance(lexical, dict):
        raise IndexError_(f"index at {build} is damaged (manifest or lexical data is not a JSON object); {fix}")
    if vectors.ndim != 2 or len(vectors) != len(views) or vectors.shape[1] != manifest.get("dimension"):
        raise IndexError_(f"index at {build} is inconsistent (vectors {vectors.shape}, {len(views)} views); {fix}")
    return SearchIndex(vectors=vectors, views=views, lexical=lexical, manifest=manifest)
