"""Conversations kept in the database: the ConversationStore that every replica shares."""

from __future__ import annotations

import logging

from app.answer.conversation import Conversation, MemoryConversations, Turn, new_id
from app.store.db import Store, _aware, now


WAIT_SECONDS = 5.0  # longest an answer waits for its turn's commit before falling back to memory


class StoredConversations:
    """Conversations kept in the database (shared by every replica), with memory as a fallback.

    Each turn is a row of the `questions` table, so the last turn is one indexed lookup. Rows are
    written by the store's background writer in batches (app/store/writer.py). With `wait`, an
    answer is returned only once its row is committed: a follow-up may reach another worker or
    replica the moment the answer is out, and that process must see this turn. Without `wait` (one
    process on SQLite) the row is written behind the answer, and this process's follow-ups see it
    in the writer's pending rows until then. If the database is unreachable, answering goes on with
    conversations held in this process.
    """

    def __init__(self, store: Store, fallback: MemoryConversations, ttl_seconds: float,
                 log: logging.Logger | None = None, *, wait: bool = True):
        self.store = store
        self.fallback = fallback
        self.ttl = ttl_seconds
        self.log = log
        self.wait = wait
        self._down = False

    def _failed(self, what: str) -> None:
        """Log an outage once, with its traceback, not on every request (that floods the log)."""
        if not self._down:
            self._down = True
            if self.log:
                self.log.warning("database unavailable: %s (logged once until it is back)", what, exc_info=True)

    def _reachable(self) -> None:
        if self._down:
            self._down = False
            if self.log:
                self.log.warning("database reachable again: conversations are stored again")

    def get(self, conversation_id: str | None) -> Conversation:
        if not conversation_id:
            return Conversation(id=new_id())
        try:
            last = self.store.last_turn(conversation_id)
        except Exception:
            self._failed("using in-process conversations")
            return self.fallback.get(conversation_id)
        self._reachable()
        if last is None:
            return self.fallback.get(conversation_id)
        if (now() - _aware(last.created_at)).total_seconds() > self.ttl:
            return Conversation(id=new_id())
        turn = Turn(question=last.question or "", intent=last.intent, focus=list(last.focus or []), audience=last.audience,
                    facts=last.facts, confidence=last.confidence)
        return Conversation(id=conversation_id, turns=[turn], count=last.turn)

    def append(self, conversation: Conversation, turn: Turn, record: dict | None = None) -> int:
        """Store the turn (with the answer's record fields); fall back to memory if the database fails."""
        row = {"conversation_id": conversation.id, "turn": conversation.count + 1, "question": turn.question,
               "audience": turn.audience, "intent": turn.intent, "focus": list(turn.focus), "facts": turn.facts,
               "confident": False, "confidence": 0.0, "terms": [], "suggestions": [], "created_at": now(),
               **(record or {})}
        try:
            pending = self.store.writer.submit(row)
            if not self.wait:
                # Written behind: memory keeps the turn too, for follow-ups should the write fail.
                return self.fallback.append(conversation, turn)
            number = pending.wait(WAIT_SECONDS)
        except Exception:
            self._failed("turns kept in memory only")
            return self.fallback.append(conversation, turn)
        self._reachable()
        conversation.turns.append(turn)
        conversation.count = number
        return number
