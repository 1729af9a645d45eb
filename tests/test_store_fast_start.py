"""Opening a database that is already at the newest schema revision skips Alembic entirely."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from app.store import Store
from app.store.migrate import alembic_config, head_revisions, is_current


def test_head_revisions_match_alembic():
    assert head_revisions() == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_current_database_opens_without_alembic(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_engine(url)
    assert not is_current(engine)  # no schema yet
    Store(url).dispose()  # creates the schema through Alembic
    assert is_current(engine)

    def no_alembic(*args, **kwargs):
        raise AssertionError("Alembic ran although the schema was current")

    monkeypatch.setattr(command, "upgrade", no_alembic)
    store = Store(url)
    assert store.ping()
    store.dispose()
    engine.dispose()
