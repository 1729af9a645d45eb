"""Hot reload: validate the changed glossary, re-embed what changed, swap atomically; else keep serving.

Requests read `AppState.resources` once; a reload builds a complete new Resources object beside the
old one and replaces the reference in one assignment, so a request sees either the old glossary or
the new one, never a mix, and never an error because a rebuild is running.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from app.glossary.loader import load_glossary
from app.resources import assemble
from app.search.index import build_index, save_index

if TYPE_CHECKING:
    from app.config import Settings
    from app.state import AppState

log = logging.getLogger("glossary.reload")


@dataclass
class ReloadResult:
    status: str  # applied | unchanged | rejected | failed
    reason: str
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    embedded: int = 0
    reused: int = 0
    terms: int = 0
    at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def as_dict(self) -> dict:
        return asdict(self)


class Reloader:
    """One per app. Reloads are serialized; each one either swaps in a complete new glossary or nothing."""

    def __init__(self, state: AppState, settings: Settings):
        self.state = state
        self.settings = settings
        self._lock = threading.Lock()
        self.last: ReloadResult | None = None

    def reload(self, reason: str = "requested") -> ReloadResult:
        with self._lock:
            started = time.perf_counter()
            result = self._reload(reason)
            result.seconds = round(time.perf_counter() - started, 3)
            self.last = result
            self.state.metrics.reloads.labels(result.status).inc()
            level = logging.INFO if result.status in ("applied", "unchanged") else logging.WARNING
            log.log(level, "reload %s: %s", result.status, result.reason,
                    extra={"problems": result.problems[:20], "seconds": result.seconds})
            return result

    def _reload(self, reason: str) -> ReloadResult:
        old = self.state.resources
        assert old is not None  # the reloader starts once the first glossary is loaded
        loaded = load_glossary(self.settings.glossary_dir)
        if loaded.glossary is None:
            return ReloadResult("rejected", f"{reason}: the glossary has errors; still serving the previous version",
                                [str(p) for p in loaded.errors])
        glossary = loaded.glossary
        if glossary.content_hash == old.glossary.content_hash:
            return ReloadResult("unchanged", f"{reason}: nothing changed", terms=len(glossary))
        try:
            # Only changed views are embedded (with the serving embedder: same model, and no torch in
            # the serving process); unchanged ones reuse the old vectors.
            index = build_index(glossary, old.embedder, previous=old.index)
            save_index(index, self.settings.index_dir)
            fresh = assemble(self.settings, glossary, index, old.embedder, loaded.problems)
        except Exception as exc:  # disk full, model failure…: keep the old glossary
            log.exception("reload failed while building the index")
            return ReloadResult("failed", f"{reason}: could not build the new index ({exc.__class__.__name__}: {exc}); "
                                "still serving the previous version")
        self.state.resources = fresh  # the atomic swap
        self.state.metrics.index_loaded(index.manifest)
        return ReloadResult("applied", f"{reason}: {len(glossary)} terms", embedded=index.manifest["embedded"],
                            reused=index.manifest["reused"], terms=len(glossary))

    async def watch(self) -> None:
        """Reload when files under the glossary folder change (debounced by watchfiles)."""
        from watchfiles import awatch

        try:
            async for changes in awatch(self.settings.glossary_dir, debounce=800, step=200):
                names = sorted({path.rsplit("/", 1)[-1] for _, path in changes})[:5]
                await asyncio.to_thread(self.reload, f"files changed ({', '.join(names)})")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("glossary file watch stopped")
