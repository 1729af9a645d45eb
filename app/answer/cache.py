"""Answers to repeated questions: a small LRU in front of the pipeline, one per loaded glossary and index.

An answer depends only on the question's text, the audience, the previous turn's focus (follow-ups)
and the loaded glossary, index and composer. The key holds the first three; the cache empties itself
when it is asked on behalf of different glossary/retriever/composer objects (a reload swaps them).
The text is taken as given (stripped): case and line breaks change spotting and intent, so they are
not normalized away.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from app.answer.conversation import Conversation
from app.answer.pipeline import Answer, AskContext, answer_question

MAX_ENTRIES = 512
MAX_QUESTION_CHARS = 2000  # long pasted texts are rarely asked twice; keep the cache small


class AnswerCache:
    """Thread-safe LRU of pipeline results keyed by (question, audience, previous focus)."""

    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        self._items: OrderedDict[tuple, Answer] = OrderedDict()
        self._owner: tuple = ()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def answer(self, question: str, *, audience: str | None, conversation: Conversation | None,
               ctx: AskContext) -> Answer:
        """The pipeline's answer, computed once per distinct question while the glossary is unchanged."""
        question = question.strip()
        previous = conversation.last if conversation else None
        key = (question, audience, tuple(previous.focus) if previous and previous.focus else ())
        owner = (ctx.glossary, ctx.retriever, ctx.composer, ctx.threshold)
        cacheable = len(question) <= MAX_QUESTION_CHARS and self.max_entries > 0
        if cacheable:
            with self._lock:
                if not self._same_owner(owner):
                    self._items.clear()
                    self._owner = owner
                found = self._items.get(key)
                if found is not None:
                    self._items.move_to_end(key)
                    self.hits += 1
                    return found
                self.misses += 1
        result = answer_question(question, audience=audience, conversation=conversation, ctx=ctx)
        if cacheable:
            with self._lock:
                if self._same_owner(owner):
                    self._items[key] = result
                    while len(self._items) > self.max_entries:
                        self._items.popitem(last=False)
        return result

    def _same_owner(self, owner: tuple) -> bool:
        return len(self._owner) == len(owner) and all(a is b for a, b in zip(self._owner[:3], owner[:3])) \
            and self._owner[3] == owner[3]
