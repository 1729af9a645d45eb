"""SQLAlchemy store (SQLite by default, PostgreSQL by URL): asked questions, conversations, feedback.

The schema is owned by Alembic (app/store/migrations); opening a Store upgrades it to head.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
import logging
import threading
from typing import TYPE_CHECKING, cast
from pathlib import Path

from sqlalchemy import (
    JSON, Boolean, DateTime, Float, Integer, String, Text, UniqueConstraint, create_engine, event, func, select, update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


if TYPE_CHECKING:
    from app.store.writer import QuestionWriter

log = logging.getLogger("glossary.store")


class Base(DeclarativeBase):
    pass


def now() -> datetime:
    return datetime.now(timezone.utc)


class Question(Base):
    """One asked question and what the answer linked; also the conversation history."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("conversation_id", "turn", name="uq_questions_conversation_turn"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    turn: Mapped[int] = mapped_column(Integer)
    question: Mapped[str | None] = mapped_column(Text, nullable=True)  # purged after the retention period
    audience: Mapped[str | None] = mapped_column(String(16), nullable=True)
    intent: Mapped[str] = mapped_column(String(16), index=True)
    confident: Mapped[bool] = mapped_column(Boolean)
    confidence: Mapped[float] = mapped_column(Float)
    focus: Mapped[list] = mapped_column(JSON, default=list)
    terms: Mapped[list] = mapped_column(JSON, default=list)
    suggestions: Mapped[list] = mapped_column(JSON, default=list)
    facts: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # case facts (app/policy); purged with the text
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    turn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Store:
    """A thin repository over the database; one instance per process, safe across threads."""

    def __init__(self, url: str, *, migrate: bool = True):
        self.url = url
        args = {"connect_args": {"connect_timeout": 3}} if url.startswith("postgresql") else {}
        self.engine = create_engine(url, pool_pre_ping=True, **args)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._migrated = not migrate
        self._writer: QuestionWriter | None = None
        self._writer_lock = threading.Lock()
        if migrate:
            try:
                self._ensure()
            except Exception:
                # Serve anyway: every call retries, so the store recovers when the database is back.
                log.exception("database unavailable; feedback and gaps are not recorded until it is back")

    def _ensure(self) -> None:
        """Bring the schema up to date once the database can be reached."""
        if not self._migrated:
            from app.store.migrate import upgrade

            if self.url.startswith("sqlite:///"):
                # Here rather than at open, so a folder that cannot be made yet is retried like a database that is down.
                Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            upgrade(self.engine)
            self._migrated = True

    # Questions and conversations -------------------------------------------------------------
    @property
    def writer(self) -> QuestionWriter:
        """The background writer of this process's `questions` rows (app/store/writer.py), started on first use."""
        with self._writer_lock:
            if self._writer is None:
                from app.store.writer import QuestionWriter

                self._writer = QuestionWriter(self)
            return self._writer

    def _read_own_writes(self) -> None:
        """Before a curator's view, let this process's queued rows land (a few ms), so its lists are complete."""
        self._ensure()
        if self._writer is not None:
            self._writer.flush()

    def last_turn(self, conversation_id: str) -> Question | None:
        """The conversation's newest turn: stored, or submitted by this process and not written yet."""
        # Pending first: a row written between the two reads is then in the database read.
        pending = self._writer.pending_last(conversation_id) if self._writer is not None else None
        self._ensure()
        with Session(self.engine) as session:
            stored = session.scalars(
                select(Question).where(Question.conversation_id == conversation_id).order_by(Question.turn.desc()).limit(1)
            ).first()
        if pending is not None and (stored is None or pending["turn"] > stored.turn):
            return Question(**pending)
        return stored

    def add_question(self, row: Question) -> int:
        """Insert a turn; if another replica took that turn number meanwhile, take the next one."""
        self._ensure()
        for _ in range(5):
            try:
                with Session(self.engine, expire_on_commit=False) as session, session.begin():
                    session.add(row)
                return row.turn
            except IntegrityError:
                latest = self.last_turn(row.conversation_id)
                row = Question(**{c.name: getattr(row, c.name) for c in Question.__table__.columns if c.name != "id"})
                row.turn = (latest.turn if latest else 0) + 1
        raise RuntimeError("could not record the turn")

    def questions(self, *, since: datetime | None = None, only_gaps: bool = False, low_confidence: float = 0.0,
                  limit: int = 5000) -> list[Question]:
        self._read_own_writes()
        query = select(Question).order_by(Question.created_at.desc()).limit(limit)
        if since is not None:
            query = query.where(Question.created_at >= since)
        if only_gaps:
            query = query.where((Question.confident.is_(False)) | (Question.confidence < low_confidence))
            query = query.where(Question.intent != "not-glossary")  # not a gap in the glossary
        with Session(self.engine) as session:
            return list(session.scalars(query))

    def gap_counts(self, *, low_confidence: float = 0.0, limit: int = 1000) -> list[tuple[str, int, datetime, list]]:
        """Distinct gap questions with how often and when last asked, most asked first, and the
        suggestions of their latest asking. Counted before the window, so a flood of one-off
        questions cannot push out gaps that many people hit."""
        self._read_own_writes()
        gap = (Question.confident.is_(False)) | (Question.confidence < low_confidence)
        grouped = (select(Question.question, func.count(Question.id), func.max(Question.created_at),
                          func.max(Question.id))
                   .where(gap, Question.question.is_not(None)).group_by(Question.question)
                   .order_by(func.count(Question.id).desc(), func.max(Question.created_at).desc()).limit(limit))
        with Session(self.engine) as session:
            rows = list(session.execute(grouped))
            latest = {i: sug for i, sug in session.execute(select(Question.id, Question.suggestions)
                                                           .where(Question.id.in_([r[3] for r in rows])))}
        return [(q, int(n), _aware(seen), list(latest.get(last) or [])) for q, n, seen, last in rows
                if q is not None]  # never None (filtered above); narrows the type

    def unanswered(self, limit: int = 500) -> list[Question]:
        return self.questions(only_gaps=True, limit=limit)

    def purge_question_text(self, older_than_days: int) -> int:
        """Forget the wording of questions past the retention period (counts and terms stay)."""
        self._ensure()
        cutoff = now() - timedelta(days=older_than_days)
        with Session(self.engine) as session, session.begin():
            result = cast(CursorResult, session.execute(  # an UPDATE gives a cursor result, with a row count
                update(Question).where(Question.created_at < cutoff, Question.question.is_not(None)).values(question=None, facts=None)
            ))
            return result.rowcount or 0

    def term_counts(self) -> dict[str, int]:
        """How often each term was linked as the subject of an answer."""
        self._read_own_writes()
        counts: dict[str, int] = {}
        with Session(self.engine) as session:
            for focus in session.scalars(select(Question.focus).where(Question.confident.is_(True))):
                for slug in focus or []:
                    counts[slug] = counts.get(slug, 0) + 1
        return counts

    def linked_terms(self) -> set[str]:
        self._read_own_writes()
        linked: set[str] = set()
        with Session(self.engine) as session:
            for terms in session.scalars(select(Question.terms)):
                linked.update(terms or [])
        return linked

    # Feedback ----------------------------------------------------------------------------------
    def add_feedback(self, conversation_id: str, turn: int | None, rating: str, comment: str) -> int:
        self._ensure()
        with Session(self.engine) as session, session.begin():
            row = Feedback(conversation_id=conversation_id, turn=turn, rating=rating, comment=comment)
            session.add(row)
            session.flush()
            return row.id

    def feedback(self, rating: str | None = None, limit: int = 500) -> list[tuple[Feedback, Question | None]]:
        """Feedback, newest first, each with the question it rates (when still known)."""
        self._read_own_writes()
        query = select(Feedback).order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)
        if rating:
            query = query.where(Feedback.rating == rating)
        with Session(self.engine) as session:
            rows = list(session.scalars(query))
            out = []
            for f in rows:
                q = select(Question).where(Question.conversation_id == f.conversation_id)
                q = q.where(Question.turn == f.turn) if f.turn else q.order_by(Question.turn.desc())
                out.append((f, session.scalars(q.limit(1)).first()))
            return out

    def count(self, model) -> int:
        self._read_own_writes()
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return True

    def dispose(self) -> None:
        """Write the rows still queued, then close the connections."""
        if self._writer is not None:
            self._writer.close()
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


__all__ = ["Store", "Question", "Feedback", "Base", "now", "_aware"]
