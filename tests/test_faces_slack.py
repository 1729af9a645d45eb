"""The Slack app: signed requests against the real bolt app inside the real FastAPI app, replies captured
by a local fake of the Slack Web API and response_url (tests/fake_slack.py)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.store import Store
from tests.fake_slack import BOT_USER, FakeSlack, form, interactive, signed_headers
from tests.fakes import FakeEmbedder

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BASE = "https://glossary.example"
HOSTILE = "<!channel> <@U0EVIL> <https://evil.example|click here> ~gone~ &amp;"
LITERAL_MARKERS = r"\*loud\* \_tilt\_ \`tick\`"  # Markdown-escaped: text, not formatting, on every face


@pytest.fixture
def fake():
    server = FakeSlack().start()
    yield server
    server.stop()


@pytest.fixture
def slack_settings(settings, fake):
    return settings.model_copy(update={"slack_signing_secret": SECRET, "slack_bot_token": "xoxb-test-token",
                                       "slack_api_url": fake.api_url, "public_base_url": BASE})


@pytest.fixture
def slack(slack_settings):
    with TestClient(create_app(slack_settings, embedder=FakeEmbedder())) as c:
        yield c


def post(client, body: bytes, content_type: str, **sign):
    return client.post("/slack/events", content=body, headers=signed_headers(SECRET, body, content_type=content_type, **sign))


def command(client, fake, text: str, name: str = "cmd", user: str = "U1"):
    body = form({"command": "/glossary", "text": text, "user_id": user, "team_id": "T0001", "channel_id": "C1",
                 "response_url": fake.response_url(name), "trigger_id": "1.2.3"})
    return post(client, body, "application/x-www-form-urlencoded")


def mention(client, text: str, *, ts: str, thread_ts: str | None = None):
    event = {"type": "app_mention", "user": "U1", "text": text, "ts": ts, "channel": "C1", "team": "T0001",
             "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    body = json.dumps({"token": "x", "team_id": "T0001", "api_app_id": "A1", "type": "event_callback",
                       "event_id": f"Ev{ts.replace('.', '')}", "event_time": int(time.time()), "event": event,
                       "authorizations": [{"team_id": "T0001", "user_id": BOT_USER, "is_bot": True}]}).encode()
    return post(client, body, "application/json")


def texts(blocks: list[dict]) -> list[str]:
    """Every text Slack would render in these blocks."""
    out = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            out.append(element["text"]["text"] if isinstance(element.get("text"), dict) else element.get("text", ""))
    return out


def assert_only_our_links(text: str) -> None:
    """Every Slack control sequence (<…>) in the text is a link to a term page; nothing else."""
    for token in re.findall(r"<([^>]*)>", text):
        assert token.startswith(BASE + "/terms/"), f"unexpected control sequence <{token}> in {text!r}"


def test_url_verification_and_signatures(slack, fake):
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"}).encode()
    ok = post(slack, body, "application/json")
    assert ok.status_code == 200 and ok.json() == {"challenge": "c-123"}
    # Unsigned, wrongly signed, stale (outside the five-minute replay window) and signed-for-another-body.
    unsigned = slack.post("/slack/events", content=body, headers={"Content-Type": "application/json"})
    wrong = slack.post("/slack/events", content=body, headers=signed_headers("not-the-secret", body,
                                                                                  content_type="application/json"))
    stale = post(slack, body, "application/json", timestamp=int(time.time()) - 6 * 60)
    other = signed_headers(SECRET, b'{"type":"url_verification","challenge":"other"}', content_type="application/json")
    swapped = slack.post("/slack/events", content=body, headers=other)
    for response in (unsigned, wrong, stale, swapped):
        assert response.status_code == 401, response.text
    refused = command_unsigned = slack.post("/slack/events", content=form({"command": "/glossary", "text": "SSO",
                                                                          "response_url": fake.response_url("x")}),
                                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert command_unsigned.status_code == 401 and refused.text != ""
    time.sleep(0.3)
    assert not any(p.startswith("/response/") for p in fake.paths())


def test_slash_command_answers_with_block_kit(slack, fake):
    r = command(slack, fake, "What is SSO?")
    assert r.status_code == 200
    reply = fake.wait_for("/response/cmd")[0]
    assert reply["response_type"] == "ephemeral"
    blocks = reply["blocks"]
    first = blocks[0]["text"]["text"]
    assert first.startswith(f"*<{BASE}/terms/single-sign-on|Single Sign-On>* — One company login")
    linked = [b for b in blocks if b["type"] == "context" and b["elements"][0]["text"].startswith("Linked:")]
    assert linked and f"<{BASE}/terms/single-sign-on|Single Sign-On>" in linked[0]["elements"][0]["text"]
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == ["glossary_audience_procurement", "glossary_audience_it",
                                                 "glossary_feedback_up", "glossary_feedback_down"]
    assert "Single Sign-On" in reply["text"]
    # The question is a turn like any other: stored with its answer's terms (gaps and health read these).
    store: Store = slack.app.state.store
    rows = [q for q in store.questions() if q.question == "What is SSO?"]
    assert rows and rows[0].intent == "define" and rows[0].terms[0] == "single-sign-on"


def test_empty_command_gets_usage_in_the_ack(slack, fake):
    r = command(slack, fake, "   ")
    assert r.status_code == 200 and "/glossary What does SOC 2 mean" in r.json()["text"]


def test_unknown_question_is_recorded_as_a_gap(slack, fake):
    command(slack, fake, "Where is the nearest pharmacy?", name="gap")
    reply = fake.wait_for("/response/gap")[0]
    assert "not in our glossary" in reply["text"]
    gaps = [q.question for q in slack.app.state.store.unanswered()]
    assert "Where is the nearest pharmacy?" in gaps


def test_audience_button_reanswers_and_feedback_is_recorded(slack, fake):
    command(slack, fake, "What is a purchase order?", name="po")
    blocks = fake.wait_for("/response/po")[0]["blocks"]
    buttons = {a["action_id"]: a for a in next(b for b in blocks if b["type"] == "actions")["elements"]}

    def click(action_id: str, name: str):
        payload = {"type": "block_actions", "user": {"id": "U1"}, "team": {"id": "T0001"}, "api_app_id": "A1",
                   "container": {"type": "message", "is_ephemeral": True}, "trigger_id": "1.2.3",
                   "response_url": fake.response_url(name), "channel": {"id": "C1"},
                   "actions": [{"action_id": action_id, "block_id": "glossary_actions",
                                "value": buttons[action_id]["value"], "type": "button", "action_ts": "1"}]}
        return post(slack, interactive(payload), "application/x-www-form-urlencoded")

    assert click("glossary_audience_it", "it").status_code == 200
    again = fake.wait_for("/response/it")[0]
    assert again["replace_original"] is True
    answer = "\n".join(texts(again["blocks"]))
    assert "*For IT:*" in answer and "*For procurement:*" not in answer
    it_button = next(a for b in again["blocks"] if b["type"] == "actions" for a in b["elements"]
                     if a["action_id"] == "glossary_audience_it")
    assert it_button.get("style") == "primary"

    assert click("glossary_feedback_down", "down").status_code == 200
    thanks = fake.wait_for("/response/down")[0]
    assert thanks["replace_original"] is False and "curators" in thanks["text"]
    feedback = slack.app.state.store.feedback(rating="down")
    conversation = json.loads(buttons["glossary_feedback_down"]["value"])["c"]
    assert [(f.conversation_id, f.turn, f.rating) for f, _ in feedback] == [(conversation, 1, "down")]


def test_mention_in_a_thread_follows_up_in_that_thread(slack_settings, fake):
    with TestClient(create_app(slack_settings, embedder=FakeEmbedder())) as client:
        assert mention(client, f"<@{BOT_USER}> What is a purchase order?", ts="100.000100").status_code == 200
        first = fake.wait_for("/api/chat.postMessage")[0]
        assert first["channel"] == "C1" and first["thread_ts"] == "100.000100"
        assert "Purchase Order" in first["text"]
    # A restart in between: the thread's conversation lives in the database, not in the process.
    with TestClient(create_app(slack_settings, embedder=FakeEmbedder())) as client:
        mention(client, f"<@{BOT_USER}> and who approves it?", ts="100.000200", thread_ts="100.000100")
        second = fake.wait_for("/api/chat.postMessage", 2)[1]
        assert second["thread_ts"] == "100.000100"
        assert "three quotes" in "\n".join(texts(second["blocks"]))
        rows = sorted((q for q in client.app.state.store.questions() if q.conversation_id.startswith("slack-")),
                      key=lambda q: q.turn)
        assert [(q.turn, q.intent) for q in rows] == [(1, "define"), (2, "follow-up")]
        assert rows[0].conversation_id == rows[1].conversation_id
        # Another thread is another conversation: the same words are not a follow-up there.
        mention(client, f"<@{BOT_USER}> and who approves it?", ts="200.000100")
        fake.wait_for("/api/chat.postMessage", 3)
        other = [q for q in client.app.state.store.questions() if q.conversation_id.startswith("slack-")
                 and q.conversation_id != rows[0].conversation_id]
        assert other and other[0].intent != "follow-up"
    assert "/api/auth.test" in fake.paths()  # bolt checked the token (lazily, on the first request)


def test_message_shortcut_explains_the_message(slack, fake):
    text = ("Hi team, the supplier's MSA is signed. Please raise a purchase order before the SOW starts, "
            "and make sure single sign-on is configured before go-live.")
    payload = {"type": "message_action", "callback_id": "explain_with_glossary", "trigger_id": "1.2.3",
               "response_url": fake.response_url("explain"), "user": {"id": "U1"}, "team": {"id": "T0001"},
               "channel": {"id": "C1"}, "message": {"type": "message", "user": "U2", "ts": "300.000100", "text": text}}
    assert post(slack, interactive(payload), "application/x-www-form-urlencoded").status_code == 200
    reply = fake.wait_for("/response/explain")[0]
    body = "\n".join(texts(reply["blocks"]))
    assert body.startswith("I found 4 glossary terms in your text:")
    order = [m for m in re.findall(r"terms/([a-z-]+)\|", body.split("Linked:")[0])]
    assert order[:4] == ["master-services-agreement", "purchase-order", "statement-of-work", "single-sign-on"]
    row = next(q for q in slack.app.state.store.questions() if q.question == text)
    assert row.intent == "explain"


def test_message_text_never_injects_mentions_links_or_formatting(settings, fake, fixture_glossary):
    # A term file (curator text) and a pasted message both carry Slack control sequences and mrkdwn.
    path = fixture_glossary / "terms" / "single-sign-on.md"
    original = "summary: One company login opens many applications without separate passwords."
    path.write_text(path.read_text().replace(original, f"summary: 'One company login. {HOSTILE} {LITERAL_MARKERS}'"))
    cfg = settings.model_copy(update={"slack_signing_secret": SECRET, "slack_bot_token": "xoxb-t",
                                      "slack_api_url": fake.api_url, "public_base_url": BASE})
    with TestClient(create_app(cfg, embedder=FakeEmbedder())) as client:
        command(client, fake, f"{HOSTILE} *loud* what is SSO?", name="hostile")
        reply = fake.wait_for("/response/hostile")[0]
        rendered = texts(reply["blocks"]) + [reply["text"]]
        joined = "\n".join(rendered)
        assert "&lt;!channel&gt;" in joined and "&lt;@U0EVIL&gt;" in joined
        assert "evil.example|" not in joined.replace("&lt;https://evil.example|click here&gt;", "")
        for text in rendered:
            assert_only_our_links(text)
            # Each literal formatting character is cut off from its word by zero-width spaces.
            for marker in ("*loud*", "_tilt_", "~gone~", "`tick`"):
                assert marker not in text
        assert "&amp;" in joined and re.search(r"&(?!amp;|lt;|gt;)", joined) is None  # every & escaped


def test_slack_rate_limit_per_user(settings, fake):
    cfg = settings.model_copy(update={"slack_signing_secret": SECRET, "slack_bot_token": "xoxb-t",
                                      "slack_api_url": fake.api_url, "rate_limit_per_minute": 1,
                                      "rate_limit_burst": 1})
    with TestClient(create_app(cfg, embedder=FakeEmbedder())) as client:
        command(client, fake, "What is SSO?", name="one", user="U7")
        command(client, fake, "What is SSO?", name="two", user="U7")
        command(client, fake, "What is SSO?", name="three", user="U8")
        assert "blocks" in fake.wait_for("/response/one")[0]
        assert "too many questions" in fake.wait_for("/response/two")[0]["text"]
        assert "blocks" in fake.wait_for("/response/three")[0]  # another person has their own bucket


def test_slack_is_off_without_both_settings(settings):
    for update in ({}, {"slack_signing_secret": SECRET}, {"slack_bot_token": "xoxb-t"}):
        with TestClient(create_app(settings.model_copy(update=update), embedder=FakeEmbedder())) as client:
            assert client.post("/slack/events", content=b"{}").status_code == 404


def test_manifest_matches_the_app():
    import yaml

    from app.faces import slack_app

    manifest = yaml.safe_load((Path(__file__).resolve().parent.parent / "slack" / "manifest.yaml").read_text())
    features, settings_ = manifest["features"], manifest["settings"]
    assert [c["command"] for c in features["slash_commands"]] == [slack_app.COMMAND]
    assert [s["callback_id"] for s in features["shortcuts"]] == [slack_app.SHORTCUT]
    assert settings_["event_subscriptions"]["bot_events"] == ["app_mention"]
    urls = [features["slash_commands"][0]["url"], settings_["event_subscriptions"]["request_url"],
            settings_["interactivity"]["request_url"]]
    assert all(u.endswith("/slack/events") for u in urls)
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {"app_mentions:read", "chat:write", "commands"}
