"""Microsoft Teams: an outgoing webhook at /teams/messages (no cloud registration, no Azure Bot resource).

Teams signs each message with HMAC-SHA256 over the raw body, keyed with the base64-decoded security
token it showed when the webhook was created, and sends `Authorization: HMAC <base64 digest>`.
Signed messages are answered synchronously (Teams waits about five seconds) through
app.faces.ask; the reply is Teams Markdown rebuilt from the answer with every text node escaped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import logging
import re
from html.parser import HTMLParser

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.faces import ask as service
from app.faces.render import absolute, teams_escape, to_teams

log = logging.getLogger("glossary.teams")

FACE = "teams"
USAGE = ("Ask me about a procurement or IT term, e.g. *@Glossary What does SOC 2 mean for us?* "
         "(start with *it:* or *procurement:* to get that audience's view).")


def secret_key(secret: str) -> bytes:
    """The HMAC key: the webhook's security token, base64-decoded (a clear error when it is not base64)."""
    try:
        key = base64.b64decode(secret.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("GLOSSARY_TEAMS_WEBHOOK_SECRET is not base64: paste the security token Teams showed "
                         "when the outgoing webhook was created") from None
    if not key:
        raise ValueError("GLOSSARY_TEAMS_WEBHOOK_SECRET is empty after base64 decoding")
    return key


def sign(key: bytes, body: bytes) -> str:
    """The Authorization header value Teams sends for `body`."""
    return "HMAC " + base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def verified(key: bytes, body: bytes, header: str | None) -> bool:
    scheme, _, given = (header or "").strip().partition(" ")
    if scheme.upper() != "HMAC" or not given:
        return False
    return hmac.compare_digest(sign(key, body).encode(), f"HMAC {given.strip()}".encode())


class _Text(HTMLParser):
    """Teams message HTML to plain text: the <at>…</at> mentions dropped, block tags as line breaks."""

    BLOCKS = {"p", "div", "br", "li", "tr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.in_mention = 0

    def handle_starttag(self, tag, attrs):
        if tag == "at":
            self.in_mention += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "at":
            self.in_mention = max(0, self.in_mention - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.in_mention:
            self.parts.append(data)


def message_text(text: str) -> str:
    """What the person wrote, without the bot's mention and markup."""
    parser = _Text()
    parser.feed(text or "")
    parser.close()
    plain = html.unescape("".join(parser.parts)).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in plain.split("\n")]
    return "\n".join(line for line in lines if line).strip()


def reply_text(response, base: str) -> str:
    """The answer as Teams Markdown: the answer itself, then the linked terms."""
    parts = [to_teams(response.answer_markdown, base)]
    case = getattr(response, "case", None)
    if case:
        text = case if isinstance(case, str) else json.dumps(case, ensure_ascii=False)
        parts.append("**For your case:** " + to_teams(text, base))
    linked = response.terms if response.confident else response.suggestions
    links = []
    for h in linked[:10]:
        url = absolute(h.url, base)
        links.append(f"[{teams_escape(h.term)}]({url})" if url else teams_escape(h.term))
    if links:
        parts.append(("Linked: " if response.confident else "Did you mean: ") + " · ".join(links))
    return "\n\n".join(p for p in parts if p)


def _message(text: str) -> JSONResponse:
    return JSONResponse({"type": "message", "textFormat": "markdown", "text": text})


def install(app: FastAPI, settings) -> None:
    """Mount POST /teams/messages, verifying every request's HMAC before reading it."""
    key = secret_key(settings.teams_webhook_secret)
    base = settings.public_base_url

    async def teams_messages(request: Request):
        body = await request.body()
        if not verified(key, body, request.headers.get("authorization")):
            return JSONResponse({"detail": "missing or wrong HMAC signature (GLOSSARY_TEAMS_WEBHOOK_SECRET)"}, 401,
                                headers={"WWW-Authenticate": "HMAC"})
        try:
            activity = json.loads(body)
            if not isinstance(activity, dict):
                raise ValueError("not an object")
        except ValueError:
            return JSONResponse({"detail": "the body is not a JSON activity"}, 400)
        sender = activity.get("from") or {}
        conversation = activity.get("conversation") or {}
        tenant = conversation.get("tenantId") or ((activity.get("channelData") or {}).get("tenant") or {}).get("id")
        user = f"{tenant}:{sender.get('aadObjectId') or sender.get('id')}"
        audience, question = service.split_audience(message_text(str(activity.get("text") or "")))
        if not question:
            return _message(USAGE)
        thread = f"{tenant}:{conversation.get('id')}" if conversation.get("id") else None
        try:
            response = await run_in_threadpool(service.ask, request.app.state, question, audience=audience,
                                               face=FACE, user=user, thread=thread)
        except service.FaceError as exc:
            return _message(teams_escape(f"Sorry: {exc.message}"))
        return _message(reply_text(response, base))

    app.add_api_route("/teams/messages", teams_messages, methods=["POST"], include_in_schema=False)
