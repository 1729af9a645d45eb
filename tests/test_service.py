"""The ask service behind every face: typed intents with one handler each, forms off the event loop."""

from __future__ import annotations

import asyncio
from typing import get_args

import pytest
from fastapi.testclient import TestClient

from app import schemas, service
from app.answer.compose import TEMPLATES
from app.answer.context import Intent
from app.answer.handlers import HANDLERS
from app.main import create_app
from app.state import AppState, start
from tests.fakes import FakeEmbedder


def test_intents_are_the_api_intents_and_each_has_a_handler_and_template():
    assert [i.value for i in Intent] == list(get_args(schemas.Intent))
    assert set(HANDLERS) == set(Intent)
    for intent in Intent:
        name = "followup" if intent is Intent.FOLLOW_UP else intent.value.replace("-", "_")
        assert (TEMPLATES / f"{name}.md.j2").is_file(), intent


def test_the_service_answers_in_process_as_the_api_does(settings, client):
    state = start(AppState(settings), embedder=FakeEmbedder(), record=False)
    body = schemas.AskRequest(question="What is an SOW?", audience="it")
    direct = service.ask(state, body).model_dump(mode="json", exclude_none=True)
    api = client.post("/api/ask", json={"question": "What is an SOW?", "audience": "it"}).json()
    assert {k: v for k, v in direct.items() if k != "conversation_id"} == \
        {k: v for k, v in api.items() if k != "conversation_id"}
    assert state.store is None  # nothing recorded without a store


def test_the_service_refuses_with_a_status(settings):
    state = AppState(settings)
    with pytest.raises(service.Unavailable, match="still loading"):
        service.ask(state, schemas.AskRequest(question="What is an SOW?"))
    start(state, embedder=FakeEmbedder(), record=False)
    with pytest.raises(service.ServiceError, match="must not be empty") as refused:
        service.ask(state, schemas.AskRequest(question="   "))
    assert refused.value.status == 422
    with pytest.raises(service.Unavailable, match="feedback storage"):
        service.feedback(state, schemas.FeedbackRequest(conversation_id="abc", rating="up"))


@pytest.mark.parametrize("path, form", [
    ("/", {"question": "What is an SOW?"}),
    ("/feedback", {"rating": "up"}),
])
def test_no_js_forms_run_the_service_off_the_event_loop(client, monkeypatch, path, form):
    seen: list[bool] = []
    if path == "/feedback":  # feedback is taken only on an answer this browser was given
        asked = client.post("/api/ask", json={"question": "What is an SOW?"}).json()
        client.cookies.set("glossary_conversation", asked["conversation_id"])
        form = {**form, "conversation_id": asked["conversation_id"], "turn": "1"}

    def on_loop() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    for name in ("ask", "feedback"):
        real = getattr(service, name)

        def spy(*args, _real=real, **kwargs):
            seen.append(on_loop())
            return _real(*args, **kwargs)

        monkeypatch.setattr(service, name, spy)
    r = client.post(path, data=form)
    assert r.status_code == 200, r.text
    assert seen == [False], "the service ran on the event loop"


def test_widget_spotting_is_rate_limited(settings):
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 1, "rate_limit_burst": 1}),
                     embedder=FakeEmbedder())
    with TestClient(app) as c:
        assert c.post("/widget/api/spot", json={"texts": ["our SOW"]}).status_code == 200
        r = c.post("/widget/api/spot", json={"texts": ["our SOW"]})
        assert r.status_code == 429 and "too many requests" in r.json()["detail"]
