"""The MCP server through the SDK's own client: streamable HTTP against a live service, and stdio
against a real `glossary mcp` process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from app.main import create_app
from tests.fakes import FakeEmbedder
from tests.live import LiveService

TOKEN = "mcp-test-token-0123456789"
BASE = "https://glossary.example"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def live(settings):
    service = LiveService(create_app(settings.model_copy(update={"mcp_token": TOKEN, "public_base_url": BASE}),
                                     embedder=FakeEmbedder())).start()
    yield service
    service.stop()


def http_client(url: str, token: str = TOKEN) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30, read=60))
    return Client(streamable_http_client(url + "/mcp", http_client=http))


def run(coro_fn):
    return anyio.run(coro_fn)


def structured(result) -> dict:
    assert not result.is_error, result.content
    return result.structured_content


async def exercise(client: Client, base: str) -> dict:
    """List and call every tool, read a term resource, and try bad arguments; return what came back."""
    out: dict = {}
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"ask", "define", "explain_text", "search"}
    assert "cite" in tools["ask"].description.lower() and "url" in tools["ask"].description.lower()
    assert tools["ask"].input_schema["properties"]["audience"]
    out["ask"] = structured(await client.call_tool("ask", {"question": "What is SSO?", "audience": "it"}))
    out["follow"] = structured(await client.call_tool("ask", {"question": "and who approves it?",
                                                              "conversation_id": out["ask"]["conversation_id"]}))
    out["define"] = structured(await client.call_tool("define", {"term": "SSO"}))
    out["explain"] = structured(await client.call_tool("explain_text", {"text": (
        "Hi team, the supplier's MSA is signed. Please raise a purchase order before the SOW starts, "
        "and make sure single sign-on is configured before go-live.")}))
    out["search"] = structured(await client.call_tool("search", {"query": "company login for many apps", "limit": 3}))
    resources = (await client.list_resources()).resources
    out["resources"] = sorted(str(r.uri) for r in resources)
    read = await client.read_resource("glossary://terms/single-sign-on")
    out["resource"] = read.contents[0].text
    out["errors"] = {}
    for name, args in (("ask", {"question": ""}), ("ask", {"question": "What is SSO?", "audience": "finance"}),
                       ("ask", {"question": "x" * 5000}), ("define", {"term": "no such thing"}),
                       ("search", {"query": "sso", "limit": 500}), ("ask", {}),
                       ("ask", {"question": "What is SSO?", "conversation_id": "../etc"})):
        result = await client.call_tool(name, args)
        assert result.is_error, (name, args)
        out["errors"][f"{name} {json.dumps(args)[:60]}"] = result.content[0].text
    with pytest.raises(MCPError, match="no glossary term with slug 'nope'"):
        await client.read_resource("glossary://terms/nope")
    return out


def check(out: dict, base: str) -> None:
    ask = out["ask"]
    assert ask["intent"] == "define" and ask["confident"] is True
    assert ask["answer_markdown"].startswith(f"**[Single Sign-On]({base}/terms/single-sign-on)**")
    assert ask["terms"][0] == {"slug": "single-sign-on", "term": "Single Sign-On", "url": f"{base}/terms/single-sign-on",
                               "summary": "One company login opens many applications without separate passwords."}
    assert out["follow"]["conversation_id"] == ask["conversation_id"] and out["follow"]["turn"] == 2
    d = out["define"]
    assert d["slug"] == "single-sign-on" and d["sections"]["rules"] and d["url"] == f"{base}/terms/single-sign-on"
    assert [t["slug"] for t in out["explain"]["terms"]][:4] == [
        "master-services-agreement", "purchase-order", "statement-of-work", "single-sign-on"]
    assert all(t["summary"] and t["url"].startswith(base + "/terms/") for t in out["explain"]["terms"])
    assert out["search"]["results"] and len(out["search"]["results"]) <= 3
    assert "glossary://terms/single-sign-on" in out["resources"] and len(out["resources"]) == 7
    assert out["resource"].startswith("# Single Sign-On\n") and "## Our rules" in out["resource"]
    errors = "\n".join(out["errors"].values())
    for expected in ("question", "audience", "at most 4000 characters", "no glossary term is called 'no such thing'",
                     "less than or equal to 50", "Field required", "conversation_id"):
        assert expected in errors, (expected, errors)


def test_http_transport_with_the_sdk_client(live):
    out = run(lambda: _with(http_client(live.url)))
    check(out, BASE)


async def _with(client: Client) -> dict:
    async with client:
        return await exercise(client, BASE)


def test_http_requires_the_bearer_token(live):
    probe = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    for auth in (None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x", TOKEN):
        h = dict(headers, **({"Authorization": auth} if auth else {}))
        r = httpx.post(live.url + "/mcp", json=probe, headers=h)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer"), auth
        assert "GLOSSARY_MCP_TOKEN" in r.json()["detail"]

    async def wrong():
        async with http_client(live.url, token="wrong-token") as client:
            await client.list_tools()

    with pytest.raises(Exception):
        run(wrong)


def test_mcp_is_off_without_a_token(client):
    assert client.post("/mcp", json={}).status_code == 404


@pytest.mark.model
def test_stdio_glossary_mcp_process(settings, real_embedder, tmp_path):
    """`glossary mcp` as an assistant starts it: a child process on stdin/stdout with the real model."""
    from app.glossary.loader import load_or_raise
    from app.resources import ensure_index

    glossary, _ = load_or_raise(settings.glossary_dir)
    ensure_index(settings, glossary, real_embedder)  # the process then starts without building
    env = {"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "GLOSSARY_GLOSSARY_DIR": str(settings.glossary_dir), "GLOSSARY_INDEX_DIR": str(settings.index_dir),
           "GLOSSARY_DATABASE_URL": settings.database_url, "GLOSSARY_WATCH_GLOSSARY": "false",
           "GLOSSARY_PUBLIC_BASE_URL": BASE, "GLOSSARY_RATE_LIMIT_PER_MINUTE": "0"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "app.cli", "mcp"], env=env, cwd=str(REPO))
    with open(tmp_path / "stderr.log", "w") as errlog:
        out = run(lambda: _stdio(params, errlog))
    check(out, BASE)
    # The process recorded its turns in the service's database, like any other face.
    from app.store import Store

    store = Store(settings.database_url)
    assert any(q.question == "What is SSO?" for q in store.questions())


async def _stdio(params: StdioServerParameters, errlog) -> dict:
    from mcp.client.stdio import stdio_client

    async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=120) as client:
        return await exercise(client, BASE)

