"""The Slack app (slack-bolt, HTTP mode at /slack/events): slash command, message shortcut, mentions.

Bolt verifies every request's signature and timestamp (five-minute replay window) with the signing
secret before any listener runs. Listeners are synchronous and run on bolt's thread pool after the
request is acknowledged, so Slack's three-second limit never waits for an answer. Everything is
answered through app.faces.ask; the replies are Block Kit built from the answer's Markdown, with
every text node escaped (app.faces.render), so no message can inject a mention, a link or mrkdwn.
"""

from __future__ import annotations

import html
import json
import logging
import re

from fastapi import FastAPI, Request
from slack_bolt import App as BoltApp
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from starlette.concurrency import run_in_threadpool

from app.faces import ask as service
from app.faces.render import slack_escape, to_slack
from app.schemas import AskResponse

log = logging.getLogger("glossary.slack")

FACE = "slack"
COMMAND = "/glossary"
SHORTCUT = "explain_with_glossary"
SECTION_CHARS = 2900  # a section's text may hold 3,000 characters
ANSWER_CHARS = 5800  # the short answer: at most two sections, then a link to the full page
VALUE_CHARS = 2000  # a button's value may hold 2,000 characters
AUDIENCE_LABELS = {"procurement": "For procurement", "it": "For IT"}
USAGE = ("Ask me about a procurement or IT term: `/glossary What does SOC 2 mean for us?` "
         "(start with `it:` or `procurement:` to get that audience's view).")

_MENTION = re.compile(r"<[@!#][^>]*>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]*)(?:\|([^>]*))?>")


def slack_to_text(text: str) -> str:
    """What a Slack message says, as plain text: mentions dropped, links as their labels, entities decoded."""
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text or "")
    text = _MENTION.sub(" ", text)
    return re.sub(r"[ \t]+", " ", html.unescape(text)).strip()


def _value(**fields) -> str | None:
    value = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return value if len(value) <= VALUE_CHARS else None


def _sections(parts: list[str]) -> tuple[list[str], bool]:
    """Pack mrkdwn blocks into section texts within Slack's limits; True when the answer was cut."""
    sections, current, used = [], "", 0
    for part in parts:
        if used + len(part) > ANSWER_CHARS:
            if current:
                sections.append(current)
            return sections, True
        if current and len(current) + len(part) + 2 > SECTION_CHARS:
            sections.append(current)
            current = ""
        if len(part) > SECTION_CHARS:
            part = part[: SECTION_CHARS - 1] + "…"
        current = f"{current}\n\n{part}" if current else part
        used += len(part)
    if current:
        sections.append(current)
    return sections, False


def answer_blocks(response: AskResponse, *, base: str, question: str, audience: str | None,
                  explain: bool = False) -> list[dict]:
    """Block Kit for one answer: the short answer, linked terms, audience and thumbs buttons."""
    sections, cut = _sections(to_slack(response.answer_markdown, base))
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": s, "verbatim": True}}
                          for s in sections]
    case = getattr(response, "case", None)
    if case:
        text = case if isinstance(case, str) else json.dumps(case, ensure_ascii=False)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "verbatim": True,
                                                   "text": "*For your case:* " + " ".join(to_slack(text, base))[:2900]}})
    top = response.terms[0] if response.terms else None
    if cut and top is not None:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "verbatim": True,
                                                        "text": _link(top.url, base, "Read the whole entry")}]})
    linked = response.terms if response.confident else response.suggestions
    if linked:
        label = "Linked" if response.confident else "Did you mean"
        links = " · ".join(_link(h.url, base, h.term) for h in linked[:10])
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "verbatim": True,
                                                        "text": f"{label}: {links}"}]})
    buttons = []
    for key, label in AUDIENCE_LABELS.items():
        value = _value(c=response.conversation_id, q=question, a=key, x=1 if explain else 0)
        if value is not None:
            button: dict[str, object] = {"type": "button", "action_id": f"glossary_audience_{key}",
                      "text": {"type": "plain_text", "text": label}, "value": value}
            if audience == key:
                button["style"] = "primary"
            buttons.append(button)
    for rating, emoji in (("up", "👍"), ("down", "👎")):
        buttons.append({"type": "button", "action_id": f"glossary_feedback_{rating}",
                        "text": {"type": "plain_text", "text": emoji, "emoji": True},
                        "value": _value(c=response.conversation_id, t=response.turn, r=rating)})
    blocks.append({"type": "actions", "block_id": "glossary_actions", "elements": buttons})
    return blocks


def _link(url: str, base: str, label: str) -> str:
    from app.faces.render import absolute

    target = absolute(url, base)
    return f"<{target}|{slack_escape(label).replace('|', '¦')}>" if target else slack_escape(label)


def fallback_text(response: AskResponse) -> str:
    """The notification text (shown where blocks are not): the linked terms' names, escaped."""
    if response.confident and response.terms:
        return slack_escape("Glossary: " + ", ".join(h.term for h in response.terms[:3]))
    return "Glossary: not in our glossary yet"


def build_bolt(app: FastAPI, settings) -> BoltApp:
    """The bolt app and its listeners, answering from `app.state` through the ask adapter."""
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    # auth.test runs on the first request instead of at start, so the service starts without reaching Slack.
    bolt = BoltApp(signing_secret=settings.slack_signing_secret, client=client,
                   token_verification_enabled=False, request_verification_enabled=True, name="glossary",
                   logger=log)
    state = lambda: app.state  # noqa: E731
    base = settings.public_base_url

    def reply(question: str, audience: str | None, *, user: str, thread: str | None,
              explain: bool) -> tuple[list[dict], AskResponse]:
        if explain:
            response = service.explain_text(state(), question, audience=audience, face=FACE, user=user,
                                             thread=thread).response
        else:
            response = service.ask(state(), question, audience=audience, face=FACE, user=user, thread=thread)
        return answer_blocks(response, base=base, question=question, audience=audience, explain=explain), response

    def refusal(exc: service.FaceError) -> str:
        return slack_escape(f"Sorry: {exc.message}")

    @bolt.command(COMMAND)
    def on_command(ack, body, respond):
        text = slack_to_text(body.get("text", ""))
        if not text:
            ack(text=USAGE, response_type="ephemeral")
            return
        ack()
        audience, question = service.split_audience(text)
        user = f"{body.get('team_id')}:{body.get('user_id')}"
        try:
            blocks, response = reply(question, audience, user=user, thread=None, explain=False)
        except service.FaceError as exc:
            respond(text=refusal(exc), response_type="ephemeral")
            return
        respond(text=fallback_text(response), blocks=blocks, response_type="ephemeral")

    @bolt.shortcut(SHORTCUT)
    def on_shortcut(ack, body, respond):
        ack()
        message = body.get("message") or {}
        text = slack_to_text(message.get("text", ""))
        user = f"{(body.get('team') or {}).get('id')}:{(body.get('user') or {}).get('id')}"
        if not text:
            respond(text="That message has no text to explain.", response_type="ephemeral")
            return
        thread = f"{(body.get('team') or {}).get('id')}:{(body.get('channel') or {}).get('id')}:" \
                 f"{message.get('thread_ts') or message.get('ts')}"
        try:
            blocks, response = reply(text[: state().settings.max_question_chars], None, user=user, thread=thread,
                                     explain=True)
        except service.FaceError as exc:
            respond(text=refusal(exc), response_type="ephemeral")
            return
        respond(text=fallback_text(response), blocks=blocks, response_type="ephemeral")

    @bolt.event("app_mention")
    def on_mention(event, body, client):
        if event.get("bot_id"):
            return  # another bot's message: never answer bots (no reply loops)
        channel = event.get("channel")
        thread_ts = event.get("thread_ts") or event.get("ts")
        team = body.get("team_id") or event.get("team")
        user = f"{team}:{event.get('user')}"
        audience, question = service.split_audience(slack_to_text(event.get("text", "")))
        if not question:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=USAGE)
            return
        try:
            blocks, response = reply(question, audience, user=user, thread=f"{team}:{channel}:{thread_ts}",
                                     explain=False)
        except service.FaceError as exc:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=refusal(exc))
            return
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=fallback_text(response), blocks=blocks,
                                unfurl_links=False, unfurl_media=False)

    @bolt.action(re.compile(r"^glossary_audience_(procurement|it)$"))
    def on_audience(ack, body, action, respond):
        ack()
        try:
            value = json.loads(action.get("value") or "{}")
            question, audience, explain = str(value["q"]), value["a"], bool(value.get("x"))
        except (ValueError, KeyError, TypeError):
            respond(text="That button is out of date; ask again.", response_type="ephemeral", replace_original=False)
            return
        user = f"{(body.get('team') or {}).get('id')}:{(body.get('user') or {}).get('id')}"
        try:
            conversation = value.get("c")
            if explain:
                response = service.explain_text(state(), question, audience=audience, conversation_id=conversation,
                                                face=FACE, user=user).response
            else:
                response = service.ask(state(), question, audience=audience, conversation_id=conversation,
                                       face=FACE, user=user)
        except service.FaceError as exc:
            respond(text=refusal(exc), response_type="ephemeral", replace_original=False)
            return
        blocks = answer_blocks(response, base=base, question=question, audience=audience, explain=explain)
        respond(text=fallback_text(response), blocks=blocks, replace_original=True)

    @bolt.action(re.compile(r"^glossary_feedback_(up|down)$"))
    def on_feedback(ack, body, action, respond):
        ack()
        user = f"{(body.get('team') or {}).get('id')}:{(body.get('user') or {}).get('id')}"
        try:
            value = json.loads(action.get("value") or "{}")
            service.record_feedback(state(), str(value["c"]), value.get("t"), value["r"], face=FACE, user=user)
        except (ValueError, KeyError, TypeError):
            respond(text="That button is out of date.", response_type="ephemeral", replace_original=False)
            return
        except service.FaceError as exc:
            respond(text=refusal(exc), response_type="ephemeral", replace_original=False)
            return
        thanks = "Thanks, noted 👍" if value["r"] == "up" else \
            "Thanks, noted 👎: the glossary curators will look at this answer."
        respond(text=thanks, response_type="ephemeral", replace_original=False)

    return bolt


def install(app: FastAPI, settings) -> BoltApp:
    """Mount the bolt app at /slack/events (dispatched on the thread pool: listeners are synchronous)."""
    bolt = build_bolt(app, settings)
    app.state.slack = bolt

    async def slack_events(request: Request):
        body = await request.body()
        response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)

    app.add_api_route("/slack/events", slack_events, methods=["POST"], include_in_schema=False)
    return bolt
