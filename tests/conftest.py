"""Shared fixtures: the small fixture glossary, the shipped glossary, apps built through create_app."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.store import Store
from tests.fakes import FakeEmbedder

HERE = Path(__file__).parent
FIXTURE_GLOSSARY = HERE / "fixtures" / "glossary"
SHIPPED_GLOSSARY = HERE.parent / "glossary"
SHARED = HERE.parent.parent / "shared"

# The suite sends hundreds of requests from one test client; rate limiting is tested on its own
# (tests/test_ratelimit.py) with explicit limits, so it is off for every other app built here.
os.environ.setdefault("GLOSSARY_RATE_LIMIT_PER_MINUTE", "0")


@pytest.fixture
def fixture_glossary(tmp_path: Path) -> Path:
    """A writable copy of the small fixture glossary."""
    target = tmp_path / "glossary"
    shutil.copytree(FIXTURE_GLOSSARY, target)
    return target


@pytest.fixture
def settings(fixture_glossary: Path, tmp_path: Path) -> Settings:
    return Settings(glossary_dir=fixture_glossary, index_dir=tmp_path / "index",
                    database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", watch_glossary=False)


@pytest.fixture
def client(settings: Settings):
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        yield c


@pytest.fixture(scope="session")
def shipped_client(tmp_path_factory):
    """The shipped glossary behind the real API, with the fake embedder (fast, deterministic)."""
    tmp = tmp_path_factory.mktemp("shipped")
    settings = Settings(glossary_dir=SHIPPED_GLOSSARY, index_dir=tmp / "index", database_url=f"sqlite:///{tmp / 'db.sqlite'}", watch_glossary=False,
                        rate_limit_per_minute=0)
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as c:
        yield c


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2 through sentence-transformers (tests marked `model`)."""
    from app.search.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(Settings().resolved_model_path())


@pytest.fixture(scope="session")
def model_client(real_embedder, tmp_path_factory):
    """The shipped glossary with the real model, as the service runs it."""
    tmp = tmp_path_factory.mktemp("model")
    settings = Settings(glossary_dir=SHIPPED_GLOSSARY, index_dir=tmp / "index", database_url=f"sqlite:///{tmp / 'db.sqlite'}", watch_glossary=False,
                        rate_limit_per_minute=0)
    with TestClient(create_app(settings, embedder=real_embedder)) as c:
        yield c


def store_for(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
