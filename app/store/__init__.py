"""Persistent store: questions the assistant could not answer, and feedback on answers."""

from app.store.db import Store

__all__ = ["Store"]
