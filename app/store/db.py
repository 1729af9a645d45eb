"""SQLAlchemy store (SQLite by default, PostgreSQL by URL) for gaps and feedback."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Unanswered(Base):
    __tablename__ = "unanswered"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    suggestions: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    turn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class Store:
    """A thin repository over the database; one instance per process."""

    def __init__(self, url: str):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, pool_pre_ping=True)
        Base.metadata.create_all(self.engine)

    def record_unanswered(self, question: str, confidence: float, suggestions: list[str]) -> None:
        with Session(self.engine) as session, session.begin():
            session.add(Unanswered(question=question, confidence=confidence, suggestions=list(suggestions)))

    def unanswered(self, limit: int = 500) -> list[Unanswered]:
        with Session(self.engine) as session:
            return list(session.scalars(select(Unanswered).order_by(Unanswered.created_at.desc()).limit(limit)))

    def add_feedback(self, conversation_id: str, turn: int | None, rating: str, comment: str) -> int:
        with Session(self.engine) as session, session.begin():
            row = Feedback(conversation_id=conversation_id, turn=turn, rating=rating, comment=comment)
            session.add(row)
            session.flush()
            return row.id

    def feedback(self, limit: int = 500) -> list[Feedback]:
        with Session(self.engine) as session:
            return list(session.scalars(select(Feedback).order_by(Feedback.created_at.desc()).limit(limit)))

    def dispose(self) -> None:
        self.engine.dispose()

