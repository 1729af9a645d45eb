"""Persistent store: questions the assistant could not answer, feedback on answers, conversation turns."""

from app.store.conversations import StoredConversations
from app.store.db import Store

__all__ = ["Store", "StoredConversations"]
