"""The application's state, typed: what the lifespan loads and every face (routes, CLI) reads.

`start()` loads it (glossary, index, store, conversations); the web app keeps it as `app.state`
and the lifespan fills and yields it; the CLI builds one in-process, without a database unless
asked to record.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.answer.conversation import ConversationStore, MemoryConversations
from app.config import Settings
from app.observability import Metrics
from app.resources import Resources, load_resources, new_conversations
from app.search.embedder import Embedder

if TYPE_CHECKING:
    from app.web.ratelimit import AuthThrottle, Limiter
    from app.reload import Reloader
    from app.store import Store

log = logging.getLogger("glossary")


@dataclass
class AppState:
    """Everything a running service holds; `resources` is swapped whole by a reload."""

    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    memory_conversations: MemoryConversations | None = None
    conversations: ConversationStore | None = None
    resources: Resources | None = None  # None while the glossary is loading
    store: Store | None = None  # None without a database (the CLI unless --record)
    reloader: Reloader | None = None
    rate_limiter: Limiter | None = None
    auth_throttle: AuthThrottle | None = None  # admin sign-in back-off (app/web/ratelimit.py)

    def __post_init__(self) -> None:
        if self.memory_conversations is None:
            self.memory_conversations = new_conversations(self.settings)
        if self.conversations is None:
            self.conversations = self.memory_conversations


def open_store(settings: Settings) -> Store:
    """Open the database; if it cannot be reached yet, serve anyway (the store retries on use)."""
    from app.store import Store

    store = Store(settings.database_url)
    try:
        store.purge_question_text(settings.question_retention_days)
    except Exception:
        log.warning("could not apply the question retention period now; will retry", exc_info=True)
    return store


@contextlib.contextmanager
def _one_loader_at_a_time(settings: Settings) -> Iterator[None]:
    """With several workers, load one after the other (a lock on the index folder): the first
    rebuilds a missing or stale index, the others then find it built, instead of all embedding at once."""
    if settings.workers <= 1:
        yield
        return
    import fcntl
    import os

    settings.index_dir.mkdir(parents=True, exist_ok=True)
    folder = os.open(settings.index_dir, os.O_RDONLY)  # the folder itself is the lock: no file left behind
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)  # releases the lock


def shares_database(settings: Settings) -> bool:
    """True when other processes may read this one's conversations at once: several workers, or a
    server database (replicas). Then an answer waits for its turn's commit (app/store/conversations.py)."""
    return settings.workers > 1 or not settings.database_url.startswith("sqlite")


def start(state: AppState, *, embedder: Embedder | None = None, store: Store | None = None,
          record: bool = True) -> AppState:
    """Load the glossary and index into `state`; with `record`, open the store and keep conversations there."""
    from app.store import StoredConversations

    settings = state.settings
    with _one_loader_at_a_time(settings):
        state.resources = load_resources(settings, embedder=embedder)
    state.metrics.index_loaded(state.resources.index.manifest)
    if record:
        state.store = store if store is not None else open_store(settings)
        assert state.memory_conversations is not None
        state.conversations = StoredConversations(state.store, state.memory_conversations,
                                                  settings.conversation_ttl_seconds, log,
                                                  wait=shares_database(settings))
    return state
