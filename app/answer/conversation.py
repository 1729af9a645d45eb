"""Conversations kept server-side under an id, bounded in number, length and idle time."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Turn:
    question: str
    intent: str
    focus: list[str]  # the slugs the answer was about, most relevant first
    audience: str | None = None
    facts: dict | None = None  # the case facts the answer used (app/policy), so "and if it's $120k?" can follow on
    confidence: float | None = None  # the answer's confidence, carried by a follow-up that stays on its term


@dataclass
class Conversation:
    id: str
    turns: list[Turn] = field(default_factory=list)
    count: int = 0  # turns ever added, so numbering survives trimming
    touched: float = field(default_factory=time.monotonic)

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None


class ConversationStore(Protocol):
    """Where conversations live: this process (MemoryConversations) or the database (app.store.StoredConversations)."""

    def get(self, conversation_id: str | None) -> Conversation: ...
    def append(self, conversation: Conversation, turn: Turn, record: dict | None = None) -> int: ...


def new_id() -> str:
    return secrets.token_urlsafe(12)


class MemoryConversations:
    """An LRU of conversations in this process; idle ones expire, the oldest go first when full."""

    def __init__(self, ttl_seconds: float = 3600, max_conversations: int = 10000, max_turns: int = 50):
        self.ttl = ttl_seconds
        self.max_conversations = max_conversations
        self.max_turns = max_turns
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, conversation_id: str | None) -> Conversation:
        """Return the conversation, or a new empty one when the id is unknown or expired."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if conversation_id and conversation_id in self._items:
                conv = self._items[conversation_id]
                conv.touched = now
                self._items.move_to_end(conversation_id)
                return conv
        return Conversation(id=new_id())

    def append(self, conversation: Conversation, turn: Turn, record: dict | None = None) -> int:
        """Add a turn and return its number (1-based); `record` (answer details) is not kept in memory."""
        with self._lock:
            conversation.turns.append(turn)
            conversation.count += 1
            del conversation.turns[: -self.max_turns]
            conversation.touched = time.monotonic()
            self._items[conversation.id] = conversation
            self._items.move_to_end(conversation.id)
            while len(self._items) > self.max_conversations:
                self._items.popitem(last=False)
            return conversation.count

    def _expire(self, now: float) -> None:
        while self._items:
            oldest = next(iter(self._items.values()))
            if now - oldest.touched <= self.ttl:
                break
            self._items.popitem(last=False)
