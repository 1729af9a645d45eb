"""The cache of repeated questions: same answer without re-running the pipeline, never across contexts."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from app.answer.cache import AnswerCache
from app.answer.conversation import Conversation, Turn
from app.main import create_app
from app.search.retrieve import Retriever
from tests.fakes import FakeEmbedder


def ask(client, question, audience=None, conversation_id=None) -> dict:
    r = client.post("/api/ask", json={"question": question, "audience": audience, "conversation_id": conversation_id})
    assert r.status_code == 200, r.text
    return r.json()


def answer_part(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("conversation_id", "turn")}


def test_repeated_question_is_answered_from_the_cache(settings):
    embedder = FakeEmbedder()
    with TestClient(create_app(settings, embedder=embedder)) as client:
        first = ask(client, "What is a statement of work?", "procurement")
        calls = embedder.calls
        again = ask(client, "What is a statement of work?", "procurement")
        assert embedder.calls == calls  # no embedding, no pipeline
        assert answer_part(again) == answer_part(first)
        assert again["conversation_id"] != first["conversation_id"]  # still its own conversation and turn
        ask(client, "What is a statement of work?", "it")  # another audience is another answer
        assert embedder.calls > calls
        cache = client.app.state.resources.answers
        assert cache.hits == 1 and len(cache) == 2


def test_follow_up_is_cached_per_previous_focus(settings):
    with TestClient(create_app(settings, embedder=FakeEmbedder())) as client:
        sow = ask(client, "What is a statement of work?")
        po = ask(client, "What is a purchase order?")
        after_sow = ask(client, "Who signs it?", conversation_id=sow["conversation_id"])
        after_po = ask(client, "Who signs it?", conversation_id=po["conversation_id"])
        assert after_sow["intent"] == after_po["intent"] == "follow-up"
        assert after_sow["answer_markdown"] != after_po["answer_markdown"]


def test_cache_empties_when_the_glossary_objects_change(settings):
    embedder = FakeEmbedder()
    with TestClient(create_app(settings, embedder=embedder)) as client:
        resources = client.app.state.resources
    cache = AnswerCache()
    ctx = resources.ask_context()
    first = cache.answer("What is a purchase order?", audience=None, conversation=None, ctx=ctx)
    assert cache.answer("What is a purchase order?", audience=None, conversation=None, ctx=ctx) is first
    # A reload builds new objects: the old answers must not be served for them.
    reloaded = replace(ctx, retriever=Retriever(resources.glossary, resources.index, embedder))
    assert cache.answer("What is a purchase order?", audience=None, conversation=None, ctx=reloaded) is not first
    assert len(cache) == 1
    # The previous turn's focus is part of the key.
    conv = Conversation(id="c", turns=[Turn("What is a statement of work?", "define", ["statement-of-work"])])
    cache.answer("What is a purchase order?", audience=None, conversation=conv, ctx=reloaded)
    assert len(cache) == 2
