"""Where people already work: MCP for AI assistants, a Slack app, a Teams outgoing webhook.

Each face is off until its settings are given; `install` mounts the configured ones into the service.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack, asynccontextmanager

log = logging.getLogger("glossary.faces")


def install(app, settings) -> list[str]:
    """Mount the faces whose settings are present; return their names (for the log and tests)."""
    installed: list[str] = []
    running = []  # async context managers the app's lifespan must run (the MCP session manager)
    if settings.mcp_token:
        from app.faces import mcp_server

        server = mcp_server.http_server(lambda: app.state)
        app.add_route("/mcp", mcp_server.BearerGate(settings.mcp_token, server), methods=["GET", "POST", "DELETE"],
                      include_in_schema=False)
        running.append(server.session_manager.run)
        installed.append("mcp")
    if settings.slack_signing_secret and settings.slack_bot_token:
        from app.faces import slack_app

        slack_app.install(app, settings)
        installed.append("slack")
    elif settings.slack_signing_secret or settings.slack_bot_token:
        log.warning("Slack is off: set both GLOSSARY_SLACK_SIGNING_SECRET and GLOSSARY_SLACK_BOT_TOKEN")
    if settings.teams_webhook_secret:
        from app.faces import teams

        teams.install(app, settings)
        installed.append("teams")
    if running:
        _run_in_lifespan(app, running)
    app.state.faces = installed
    return installed


def _run_in_lifespan(app, contexts) -> None:
    """Run `contexts` for as long as the app's own lifespan, inside it (resources are loaded first)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_):
        async with inner(app_) as state, AsyncExitStack() as stack:
            for context in contexts:
                await stack.enter_async_context(context())
            yield state

    app.router.lifespan_context = lifespan
