"""The glossary for AI assistants: an MCP server (official `mcp` SDK) with tools and term resources.

Two transports: stdio (`glossary mcp`, for desktop assistants and IDEs on the same machine) and
streamable HTTP at /mcp in the service, behind `GLOSSARY_MCP_TOKEN`. Every tool goes through
app.faces.ask, so answers, rate limits, recorded gaps and feedback are the web chat's.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Annotated, Any, Callable, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import Resource as MCPResource
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from app.faces import ask as service
from app.schemas import SearchResponse, TermDetail

log = logging.getLogger("glossary.mcp")

FACE = "mcp"
TERM_URI = "glossary://terms/{slug}"

INSTRUCTIONS = """\
This server is the company's reviewed glossary of procurement and IT terms (SSO, SOC 2, MSA vs SOW,
three quotes, notice periods…), each with what it means for procurement, for IT, and the company's
own rules and numbers. Prefer it to general knowledge whenever a question touches the company's
contracts, purchasing, vendors or IT jargon: the definitions and rules here are the ones the company
applies. Cite the term page URL (`url`) of every term you rely on. When a tool says a term is not in
the glossary, say so instead of guessing, and do not present general knowledge as the company's rule."""

Audience = Annotated[Literal["procurement", "it"] | None,
                     Field(description="Who is asking: 'procurement' (buyers) or 'it' (engineers); "
                                       "omit to get both audiences' sections.")]


class TermRef(BaseModel):
    slug: str
    term: str
    url: str = Field(description="The term's page; cite it when you use the definition.")
    summary: str


class AskResult(BaseModel):
    conversation_id: str = Field(description="Pass it back to ask a follow-up in the same conversation.")
    turn: int = Field(description="The answer's number in the conversation.")
    intent: str = Field(description="define, compare, explain, follow-up, clarify or unknown (not in the glossary).")
    confident: bool = Field(description="False: the glossary does not cover this; say so rather than guess.")
    confidence: float
    answer_markdown: str = Field(description="The answer, Markdown, linking each term to its page.")
    terms: list[TermRef] = Field(description="The terms the answer links, most relevant first.")
    suggestions: list[TermRef] = Field(description="Nearest terms, offered as 'did you mean' when not confident.")
    case: Any | None = Field(None, description="'For your case': the company's rules applied to the facts "
                                               "the question states, when there is such a block.")


class FoundTerm(BaseModel):
    slug: str
    term: str
    url: str
    summary: str = Field(description="One-line meaning.")
    domain: str


class ExplainResult(BaseModel):
    terms: list[FoundTerm] = Field(description="Glossary terms the text names or describes, in order of appearance.")
    answer_markdown: str = Field(description="The explanation as Markdown, with each term's meaning for the reader.")
    conversation_id: str
    turn: int


def _ref(hit) -> TermRef:
    return TermRef(slug=hit.slug, term=hit.term, url=hit.url, summary=hit.summary)


def _tool_error(exc: service.FaceError) -> ToolError:
    return ToolError(exc.message)


def term_markdown(detail: TermDetail) -> str:
    """The whole entry as one Markdown document (the resource's content)."""
    lines = [f"# {detail.term}", "", f"<{detail.url}>", ""]
    if detail.aliases:
        lines += [f"Also called: {', '.join(detail.aliases)}", ""]
    lines += [f"Domain: {detail.domain} · Status: {detail.status} · Reviewed: {detail.reviewed}"
              f" · Owners: {', '.join(detail.owners)}", ""]
    if detail.replaced_by:
        lines += [f"Deprecated: use [{detail.replaced_by.term}]({detail.replaced_by.url}) instead.", ""]
    lines += [detail.summary, "", "## Definition", "", detail.definition_markdown]
    for title, text in (("For procurement", detail.sections.procurement), ("For IT", detail.sections.it),
                        ("Our rules", detail.sections.rules), ("Example", detail.sections.example)):
        if text:
            lines += ["", f"## {title}", "", text]
    if detail.related:
        lines += ["", "## Related", ""] + [f"- [{r.term}]({r.url})" for r in detail.related]
    if detail.references:
        lines += ["", "## References", ""] + [f"- [{r.label}]({r.url})" if r.url else f"- {r.label}"
                                             for r in detail.references]
    return "\n".join(lines).strip() + "\n"


class GlossaryMCP(MCPServer):
    """MCPServer whose resource list is the current glossary (it changes on every reload)."""

    def __init__(self, state: Callable[[], Any], **kwargs):
        super().__init__(**kwargs)
        self._state = state

    async def list_resources(self) -> list[MCPResource]:
        listed = await super().list_resources()
        try:
            hits = service.terms(self._state())
        except service.FaceError:
            return listed
        return listed + [MCPResource(uri=TERM_URI.format(slug=h.slug), name=h.slug, title=h.term,
                                     description=h.summary, mime_type="text/markdown") for h in hits]


def build_server(state: Callable[[], Any], *, user: Callable[[], str] = lambda: "stdio") -> GlossaryMCP:
    """The MCP server over the running service's state (`state()` returns app.state)."""
    server = GlossaryMCP(state, name="glossary", title="Company glossary (procurement ⇄ IT)",
                         instructions=INSTRUCTIONS, version="0.1.0")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(name="ask", title="Ask the glossary", annotations=ToolAnnotations(open_world_hint=False))
    def ask_tool(
        question: Annotated[str, Field(min_length=1, max_length=4000,
                                       description="The question in the user's words, e.g. 'What does SOC 2 mean "
                                                   "for us?', 'MSA vs SOW?', 'Who approves a sole-source buy?'")],
        audience: Audience = None,
        conversation_id: Annotated[str | None, Field(max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                                     description="From a previous ask result, to ask a follow-up "
                                                                 "('and who signs it?'); omit for a new question.")] = None,
    ) -> AskResult:
        """Answer a question about a procurement or IT term with the company's reviewed definition and rules.

        Call this whenever the user asks what a term, acronym or clause means, how two terms differ, or what
        the company's rule is (thresholds, approvals, notice periods). The answer is Markdown with each term
        linked to its page: cite those URLs. If `confident` is false the glossary does not cover it; tell
        the user so and do not invent a company rule. Unanswered questions are passed on to the curators.
        """
        try:
            r = service.ask(state(), question, audience=audience, conversation_id=conversation_id,
                            face=FACE, user=user())
        except service.FaceError as exc:
            raise _tool_error(exc) from None
        return AskResult(conversation_id=r.conversation_id, turn=r.turn, intent=r.intent, confident=r.confident,
                         confidence=r.confidence, answer_markdown=r.answer_markdown,
                         terms=[_ref(h) for h in r.terms], suggestions=[_ref(h) for h in r.suggestions],
                         case=getattr(r, "case", None))

    @server.tool(name="define", title="Look up a glossary entry", annotations=read_only)
    def define_tool(
        term: Annotated[str, Field(min_length=1, max_length=200,
                                   description="A term's slug (single-sign-on), name (Single Sign-On) or alias (SSO).")],
    ) -> TermDetail:
        """Return one whole glossary entry: definition, sections for procurement and for IT, our rules, example,
        related terms, owners, review date and references.

        Use it when you know which term you need (from `search` or `ask`) and want every detail, e.g. the exact
        rule to quote. Cite the entry's `url`. Unknown names give an error listing the nearest terms.
        """
        try:
            detail = service.define(state(), term)
            if detail is None:
                near = service.nearest(state(), term)
                hint = "; nearest: " + ", ".join(f"{h.term} ({h.slug})" for h in near) if near else ""
                raise ToolError(f"no glossary term is called '{term}'{hint}")
        except service.FaceError as exc:
            raise _tool_error(exc) from None
        return detail

    @server.tool(name="explain_text", title="Explain the jargon in a text",
                 annotations=ToolAnnotations(open_world_hint=False))
    def explain_tool(
        text: Annotated[str, Field(min_length=1, max_length=4000,
                                   description="The pasted email, ticket, contract clause or chat message.")],
        audience: Audience = None,
    ) -> ExplainResult:
        """Find every glossary term in a pasted text (an email, a ticket, a vendor's message), in order of
        appearance, each with its one-line meaning, plus an explanation of what each means for the reader.

        Use it when the user pastes text and asks what it means or what they should do about it. Cite the
        term URLs. Terms the text describes without naming them are included too.
        """
        try:
            result = service.explain_text(state(), text, audience=audience, face=FACE, user=user())
        except service.FaceError as exc:
            raise _tool_error(exc) from None
        r = result.response
        return ExplainResult(terms=[FoundTerm(slug=f.slug, term=f.term, url=f.url, summary=f.summary, domain=f.domain)
                                    for f in result.found],
                             answer_markdown=r.answer_markdown, conversation_id=r.conversation_id, turn=r.turn)

    @server.tool(name="search", title="Search the glossary", annotations=read_only)
    def search_tool(
        query: Annotated[str, Field(min_length=1, max_length=4000,
                                    description="Words, an acronym, a misspelling or a description of a situation.")],
        limit: Annotated[int, Field(ge=1, le=50, description="How many terms to return (1-50).")] = 10,
    ) -> SearchResponse:
        """Rank glossary terms for a query, best first, with a score, summary and URL each.

        Use it to find which terms exist before calling `define`, or to list candidates when a question is
        vague. It does not answer the question; `ask` does.
        """
        try:
            return service.search(state(), query, limit, face=FACE, user=user())
        except service.FaceError as exc:
            raise _tool_error(exc) from None

    @server.resource(TERM_URI, name="term", title="Glossary term", mime_type="text/markdown",
                     description="One whole glossary entry as Markdown; list resources to see every term.")
    def term_resource(slug: str) -> str:
        try:
            detail = service.define(state(), slug)
        except service.FaceError as exc:
            raise ResourceNotFoundError(exc.message) from None
        if detail is None or detail.slug != slug:
            raise ResourceNotFoundError(f"no glossary term with slug '{slug}'")
        return term_markdown(detail)

    return server


# Streamable HTTP ------------------------------------------------------------------------------

class BearerGate:
    """ASGI endpoint for /mcp: refuse without the right bearer token (compared in constant time)."""

    def __init__(self, token: str, server: GlossaryMCP):
        self.token = token.encode()
        self.server = server

    async def __call__(self, scope, receive, send) -> None:
        header = next((v for k, v in scope.get("headers", []) if k == b"authorization"), b"")
        scheme, _, given = header.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self.token):
            body = json.dumps({"detail": "missing or wrong bearer token for /mcp (GLOSSARY_MCP_TOKEN)"}).encode()
            await send({"type": "http.response.start", "status": 401, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="glossary-mcp"')]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.server.session_manager.handle_request(scope, receive, send)


def http_server(state: Callable[[], Any]) -> GlossaryMCP:
    """The server with its streamable HTTP session manager created (run it with `session_manager.run()`)."""
    server = build_server(state, user=lambda: "http")
    # Stateless JSON: any replica can answer any request (no sticky sessions) and proxies see plain JSON.
    # DNS-rebinding checks are off because every request must carry the bearer token anyway.
    server.streamable_http_app(stateless_http=True, json_response=True,
                               transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    return server


def run_stdio(settings) -> None:
    """`glossary mcp`: load the service in this process and speak MCP on stdin/stdout."""
    import anyio

    from app.main import create_app

    app = create_app(settings)

    async def main() -> None:
        async with app.router.lifespan_context(app):
            await build_server(lambda: app.state).run_stdio_async()

    anyio.run(main)
