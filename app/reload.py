"""Hot reload: validate the changed glossary, re-embed what changed, swap atomically; else keep serving.

Requests read `AppState.resources` once; a reload builds a complete new Resources object beside the
old one and replaces the reference in one assignment, so a request sees either the old glossary or
the new one, never a mix, and never an error because a rebuild is running.

Each worker process has its own Reloader and watches the glossary folder itself. A reload that
someone requests (`POST /admin/reload`, `glossary reload`) reaches one worker only, so that worker
then writes a new token into `GENERATION_FILE` in the index folder, which every worker's watcher
also watches: the others reload too (the answer cache is per worker and empties itself with the
swapped glossary, app/answer/cache.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from app.glossary.loader import load_glossary
from app.resources import assemble
from app.search.index import build_index, save_index

if TYPE_CHECKING:
    from collections.abc import Callable

    from watchfiles import Change

    from app.config import Settings
    from app.state import AppState

log = logging.getLogger("glossary.reload")

GENERATION_FILE = "reload-generation"  # in the index folder: a new token here makes every worker reload


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
        self.generation_file = Path(settings.index_dir) / GENERATION_FILE
        self._generation = self._read_generation()  # the token this worker has acted on

    @property
    def watches(self) -> bool:
        """Whether the app runs `watch()`: for glossary files when asked, and for other workers' reloads."""
        return self.settings.watch_glossary or self.settings.workers > 1

    def reload(self, reason: str = "requested", *, announce: bool = True) -> ReloadResult:
        """Reload now; with `announce` (a requested reload), make every other worker reload as well."""
        with self._lock:
            started = time.perf_counter()
            result = self._reload(reason)
            if announce and result.status == "applied" and self.settings.workers > 1:
                self._announce()
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

    def _read_generation(self) -> str:
        try:
            return self.generation_file.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def _announce(self) -> None:
        """Write a new generation token (atomically) for the other workers' watchers."""
        token = f"{os.getpid()}-{uuid.uuid4().hex}"
        try:
            self.generation_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.generation_file.with_name(f".{GENERATION_FILE}.{token}")
            tmp.write_text(token + "\n", encoding="utf-8")
            os.replace(tmp, self.generation_file)
            self._generation = token
        except OSError:
            log.exception("could not tell the other workers to reload (%s)", self.generation_file)

    def _watched(self) -> tuple[list[Path], Callable[[Change, str], bool]]:
        from watchfiles import DefaultFilter

        glossary_files = DefaultFilter()
        generation = str(self.generation_file)
        paths = [Path(self.settings.glossary_dir)] if self.settings.watch_glossary else []
        if self.settings.workers > 1:
            self.generation_file.parent.mkdir(parents=True, exist_ok=True)
            paths.append(self.generation_file.parent)

        def wanted(change: Change, path: str) -> bool:
            if path == generation:
                return True
            # The index folder holds builds that reloads write: only the generation file counts there.
            return self.settings.watch_glossary and not path.startswith(str(self.generation_file.parent) + os.sep) \
                and glossary_files(change, path)

        return paths, wanted

    async def watch(self) -> None:
        """Reload when files under the glossary folder change, or another worker announces a reload
        (debounced by watchfiles)."""
        from watchfiles import awatch

        paths, wanted = self._watched()
        if not paths:
            return
        generation = str(self.generation_file)
        try:
            async for changes in awatch(*paths, watch_filter=wanted, debounce=800, step=200):
                files = {path for _, path in changes if path != generation}
                if files:
                    names = sorted({path.rsplit("/", 1)[-1] for path in files})[:5]
                    await asyncio.to_thread(self.reload, f"files changed ({', '.join(names)})", announce=False)
                elif (token := self._read_generation()) and token != self._generation:
                    self._generation = token
                    await asyncio.to_thread(self.reload, "reload requested in another worker", announce=False)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("glossary file watch stopped")
