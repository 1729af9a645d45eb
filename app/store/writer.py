"""The `questions` rows of a process, written by one background thread in batches.

Every answered question is a row (the conversation's turn plus what the answer linked). Requests
hand their row to `QuestionWriter.submit` and the writer thread inserts everything queued
meanwhile in one transaction, so answering threads run no SQL, concurrent answers share one
commit, and in SQLite the process's writes never contend with each other for the write lock.

Whether the request waits for its row's commit is the caller's choice (app/store/conversations.py):
with several processes on one database a follow-up may reach another process at once, so there it
waits; a single process on SQLite does not, since its own pending rows answer its follow-ups
(`pending_last`). The queue is bounded (a full queue makes requests wait, never drops a row) and
drained on `close()`, which the app's shutdown and `atexit` call: a row is lost only if the
database stays unreachable through the whole drain, and that is logged with the count.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.store.db import Question

if TYPE_CHECKING:
    from app.store.db import Store

log = logging.getLogger("glossary.store")

MAX_QUEUE = 10000  # rows waiting at most (a few MB); beyond it `submit` blocks until the writer catches up
MAX_BATCH = 500  # rows per transaction
RETRY_SECONDS = 1.0  # pause before retrying a batch while the database is unreachable
MAX_ATTEMPTS = 2  # while serving, fail fast: waiting answers fall back to memory, as without the writer
DRAIN_ATTEMPTS = 3  # at shutdown, a second apart
SUBMIT_WAIT_SECONDS = 2.0  # a queue still full after this means the database is down: the caller falls back


@dataclass
class Pending:
    """A submitted row: `done` is set once it is written (or has failed), `turn` is the number it got."""

    row: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    turn: int | None = None
    error: BaseException | None = None

    def wait(self, timeout: float) -> int:
        """The turn number once written; raise if it failed or did not finish within `timeout`."""
        if not self.done.wait(timeout):
            raise TimeoutError(f"the question was not recorded within {timeout} s")
        if self.error is not None:
            raise self.error
        assert self.turn is not None
        return self.turn


class QuestionWriter:
    """One thread per store inserting submitted `questions` rows in batches; see the module docstring."""

    def __init__(self, store: Store, *, max_queue: int = MAX_QUEUE, max_batch: int = MAX_BATCH,
                 retry_seconds: float = RETRY_SECONDS):
        self.store = store
        self.max_batch = max_batch
        self.retry_seconds = retry_seconds
        self._queue: queue.Queue[Pending | None] = queue.Queue(maxsize=max_queue)
        self._pending: dict[str, Pending] = {}  # the latest unwritten row per conversation
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._down = False
        self.written = 0  # rows, and the transactions they took
        self.batches = 0
        self._thread = threading.Thread(target=self._run, name="glossary-question-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def submit(self, row: dict[str, Any]) -> Pending:
        """Queue a row (a dict of Question columns) for the next batch; raise queue.Full if the writer is stuck."""
        if self._closing.is_set():
            raise RuntimeError("the question writer is closed")
        pending, key = Pending(row), row["conversation_id"]
        with self._lock:  # visible before the writer can finish it, so it is always removed again
            previous = self._pending.get(key)
            self._pending[key] = pending
        try:
            # Blocks while full (back-pressure instead of unbounded memory), for a bounded time.
            self._queue.put(pending, timeout=SUBMIT_WAIT_SECONDS)
        except queue.Full:
            with self._lock:
                if self._pending.get(key) is pending:
                    if previous is None:
                        del self._pending[key]
                    else:
                        self._pending[key] = previous
            raise
        return pending

    def pending_last(self, conversation_id: str) -> dict[str, Any] | None:
        """The newest row of the conversation still waiting to be written by this process, if any."""
        with self._lock:
            pending = self._pending.get(conversation_id)
        return dict(pending.row, turn=pending.turn or pending.row["turn"]) if pending else None

    def backlog(self) -> int:
        return self._queue.qsize()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row submitted so far is written (or has failed); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline or not self._thread.is_alive():
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout: float = 15.0) -> None:
        """Write everything still queued, then stop the thread (idempotent)."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._queue.put(None)
        self._thread.join(timeout)
        lost = self._queue.qsize()
        if self._thread.is_alive() or lost:
            log.error("%d question row(s) could not be written before shutdown", max(lost, 1))
        atexit.unregister(self.close)

    # The writer thread -------------------------------------------------------------------------
    def _run(self) -> None:
        stop = False
        # After the stop sentinel, keep going until the queue is empty: a row submitted just as
        # close() began may sit behind it.
        while not stop or not self._queue.empty():
            first = self._queue.get() if not stop else self._queue.get_nowait()
            batch: list[Pending] = []
            sentinel = first is None
            if first is not None:
                batch.append(first)
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    sentinel = True
                else:
                    batch.append(item)
            stop = stop or sentinel
            if batch:
                self._write(batch, draining=stop or self._closing.is_set())
            for _ in range(len(batch) + (1 if sentinel else 0)):  # the stop sentinel counts as a task too
                self._queue.task_done()

    def _write(self, batch: list[Pending], *, draining: bool) -> None:
        """Insert the batch in one transaction; on a turn-number clash, row by row; retry while the database is down."""
        attempts = 0
        while True:
            try:
                self.store._ensure()
                try:
                    with Session(self.store.engine) as session, session.begin():
                        session.execute(insert(Question), [p.row for p in batch])
                    for p in batch:
                        p.turn = p.row["turn"]
                except IntegrityError:
                    # Another process took one of these turn numbers: the store renumbers row by row.
                    for p in batch:
                        p.turn = self.store.add_question(Question(**p.row))
                break
            except Exception as exc:
                attempts += 1
                if attempts >= (DRAIN_ATTEMPTS if draining else MAX_ATTEMPTS):
                    if not self._down:  # the conversations keep those turns in memory meanwhile
                        self._down = True
                        log.warning("question rows not written, the database is unavailable (logged once until it "
                                    "is back): %s", exc)
                    for p in batch:
                        p.error = exc
                    break
                time.sleep(self.retry_seconds if draining else 0.1)
        if self._down and all(p.error is None for p in batch):
            self._down = False
            log.warning("database reachable again: question rows are written again")
        self.written += sum(1 for p in batch if p.error is None)
        self.batches += 1
        with self._lock:
            for p in batch:
                if self._pending.get(p.row["conversation_id"]) is p:
                    del self._pending[p.row["conversation_id"]]
        for p in batch:
            p.done.set()
