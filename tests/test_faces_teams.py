"""The Teams outgoing webhook: HMAC-signed activities, as Teams sends them, against the real app."""

from __future__ import annotations

import base64
import json
import re

import pytest
from fastapi.testclient import TestClient

from app.faces.teams import message_text, sign
from app.main import create_app
from tests.fakes import FakeEmbedder

KEY = b"glossary-teams-webhook-test-key-32b"
SECRET = base64.b64encode(KEY).decode()
BASE = "https://glossary.example"


def activity(text: str, conversation: str = "19:abc@thread.tacv2;messageid=1700000000001") -> dict:
    return {"type": "message", "id": "1700000000002", "timestamp": "2026-12-01T10:00:00.000Z",
            "serviceUrl": "https://smba.trafficmanager.net/emea/", "channelId": "msteams",
            "from": {"id": "29:1abc", "name": "Dana Buyer", "aadObjectId": "aad-dana"},
            "conversation": {"isGroup": True, "id": conversation, "conversationType": "channel", "tenantId": "tenant-1"},
            "recipient": None, "textFormat": "plain", "text": text, "attachments": [],
            "entities": [{"type": "clientInfo", "locale": "en-US"}],
            "channelData": {"teamsChannelId": "19:abc@thread.tacv2", "tenant": {"id": "tenant-1"}}}


def send(client, payload, key: bytes = KEY, *, header: str | None = None):
    body = json.dumps(payload).encode()
    auth = sign(key, body) if header is None else header
    return client.post("/teams/messages", content=body, headers={"Authorization": auth, "Content-Type": "application/json"})


@pytest.fixture
def teams_settings(settings):
    return settings.model_copy(update={"teams_webhook_secret": SECRET, "public_base_url": BASE})


@pytest.fixture
def teams(teams_settings):
    with TestClient(create_app(teams_settings, embedder=FakeEmbedder())) as c:
        yield c


def test_signed_message_gets_the_answer(teams):
    r = send(teams, activity("<at>Glossary</at>&nbsp;What is SSO?\n"))
    assert r.status_code == 200
    reply = r.json()
    assert reply["type"] == "message" and reply["textFormat"] == "markdown"
    text = reply["text"]
    assert text.startswith(f"**[Single Sign-On]({BASE}/terms/single-sign-on)** — One company login")
    assert f"Linked: [Single Sign-On]({BASE}/terms/single-sign-on)" in text
    row = next(q for q in teams.app.state.store.questions() if q.question == "What is SSO?")
    assert row.intent == "define" and row.conversation_id.startswith("teams-")


def test_unsigned_and_wrongly_signed_messages_are_refused(teams):
    payload = activity("<at>Glossary</at> What is SSO?")
    body = json.dumps(payload).encode()
    assert teams.post("/teams/messages", content=body).status_code == 401
    assert send(teams, payload, b"another key").status_code == 401
    assert send(teams, payload, header="Bearer " + sign(KEY, body).split()[1]).status_code == 401
    assert send(teams, payload, header="HMAC").status_code == 401
    # Signed, then changed in transit.
    tampered = teams.post("/teams/messages", content=body.replace(b"SSO", b"MSA"),
                          headers={"Authorization": sign(KEY, body)})
    assert tampered.status_code == 401
    assert not [q for q in teams.app.state.store.questions()]


def test_signed_body_that_is_not_an_activity(teams):
    body = b"[1, 2"
    assert teams.post("/teams/messages", content=body, headers={"Authorization": sign(KEY, body)}).status_code == 400


def test_thread_follow_up_and_separate_threads(teams):
    send(teams, activity("<at>Glossary</at> What is a purchase order?"))
    follow = send(teams, activity("<at>Glossary</at> and who approves it?")).json()["text"]
    assert "three quotes" in follow
    elsewhere = send(teams, activity("<at>Glossary</at> and who approves it?",
                                     conversation="19:abc@thread.tacv2;messageid=1700000000999")).json()["text"]
    assert elsewhere != follow
    groups: dict[str, list] = {}
    for q in sorted(teams.app.state.store.questions(), key=lambda q: q.turn):
        groups.setdefault(q.conversation_id, []).append(q.intent)
    assert sorted(groups.values(), key=len)[1] == ["define", "follow-up"]
    assert sorted(groups.values(), key=len)[0] != ["follow-up"]


def test_audience_prefix(teams):
    text = send(teams, activity("<at>Glossary</at> for IT: what is a purchase order?")).json()["text"]
    assert "**For IT:**" in text and "**For procurement:**" not in text


def test_markup_in_message_and_in_term_files_stays_text(settings, fixture_glossary):
    path = fixture_glossary / "terms" / "single-sign-on.md"
    original = "summary: One company login opens many applications without separate passwords."
    # A summary is plain text (pages and answers alike): its Markdown must stay characters, not markup.
    hostile = r"One login. <script>alert(1)</script> <img src=x onerror=alert(1)> [click](https://evil.example) **loud**"
    path.write_text(path.read_text().replace(original, f"summary: '{hostile}'"))
    cfg = settings.model_copy(update={"teams_webhook_secret": SECRET, "public_base_url": BASE})
    with TestClient(create_app(cfg, embedder=FakeEmbedder())) as client:
        r = send(client, activity("<at>Glossary</at> <b>What</b> is <script>x()</script> SSO? [a](javascript:x)"))
        text = r.json()["text"]
    assert r.status_code == 200
    assert "<" not in text and ">" not in text  # no tag of any kind reaches Teams
    assert "&#60;script&#62;alert(1)&#60;/script&#62;" in text
    # The only links are to term pages.
    for target in re.findall(r"\]\(([^)]*)\)", text):
        assert target.startswith(BASE + "/terms/"), target
    assert "**loud**" not in text and "&#42;&#42;loud&#42;&#42;" in text


def test_message_text_extraction():
    assert message_text("<at>Glossary</at>&nbsp;What is <b>SSO</b>?<br>Thanks &amp; bye") == "What is SSO?\nThanks & bye"
    assert message_text("<div><at>Glossary Bot</at> explain:</div><div>MSA and SOW</div>") == "explain:\nMSA and SOW"
    assert message_text("<at>Glossary</at>") == ""


def test_empty_message_gets_usage(teams):
    assert "Ask me about" in send(teams, activity("<at>Glossary</at> ")).json()["text"]


def test_bad_secret_setting_refuses_to_start(settings):
    with pytest.raises(ValueError, match="GLOSSARY_TEAMS_WEBHOOK_SECRET is not base64"):
        create_app(settings.model_copy(update={"teams_webhook_secret": "not base64!"}), embedder=FakeEmbedder())


def test_teams_is_off_without_the_secret(client):
    assert client.post("/teams/messages", content=b"{}").status_code == 404
