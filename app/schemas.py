"""Request and response shapes of the JSON API (clients depend on these; extra fields are fine)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from app.text import CONTROL_CHARS

Audience = Literal["procurement", "it"]
Intent = Literal["define", "compare", "explain", "follow-up", "clarify", "not-glossary", "unknown"]



def clean_text(value: str) -> str:
    """Text that can be stored and sent back: lone surrogates (from JSON escapes) become U+FFFD, controls go."""
    value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return CONTROL_CHARS.sub("", value)


CleanText = Annotated[str, AfterValidator(clean_text)]
# Conversation ids are issued by the service (URL-safe base64), so anything else is not one of ours.
ConversationId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class Hit(BaseModel):
    slug: str
    term: str
    aliases: list[str]
    domain: str
    summary: str
    url: str
    score: float | None = None
    status: str | None = None


class SearchResponse(BaseModel):
    query: str
    results: list[Hit]


class TermList(BaseModel):
    count: int
    terms: list[Hit]


class TermLink(BaseModel):
    slug: str
    term: str
    url: str


class Sections(BaseModel):
    procurement: str
    it: str
    rules: str
    example: str


class ReferenceOut(BaseModel):
    label: str
    url: str | None = None


class TermDetail(BaseModel):
    slug: str
    term: str
    aliases: list[str]
    domain: str
    status: str
    summary: str
    definition_markdown: str
    sections: Sections
    related: list[TermLink]
    owners: list[str]
    reviewed: str
    references: list[ReferenceOut]
    url: str
    replaced_by: TermLink | None = None
    tags: list[str] = []


class AskRequest(BaseModel):
    question: CleanText = Field(description="The question or pasted text.")
    audience: Audience | None = Field(None, description="Who is asking; null answers for both.")
    conversation_id: ConversationId | None = Field(None, description="Continue a conversation.")


class CaseFacts(BaseModel):
    """What the question was understood to state about a purchase; null where it said nothing."""

    amount: float | None = Field(None, description="The amount as stated, in `currency`.")
    currency: str | None = Field(None, description="ISO code of the stated currency, null when none was given.")
    per: Literal["total", "year", "month"] | None = Field(None, description="Whether the amount is per year or per month.")
    approximate: bool = Field(False, description="The question said 'about', 'around' or similar.")
    total: float | None = Field(None, description="Total value over the whole term, which the thresholds apply to.")
    term_months: int | None = Field(None, description="The contract term in months.")
    kind: Literal["saas", "software", "hardware", "services"] | None = Field(None, description="What is bought.")
    data: Literal["none", "internal", "confidential", "personal"] | None = Field(
        None, description="The most sensitive data it will hold.")
    payment: Literal["card", "po"] | None = Field(None, description="Purchasing card, or requisition and purchase order.")
    renewal: bool | None = Field(None, description="True when renewing an existing contract.")


class CaseRequirement(BaseModel):
    rule: str = Field(description="Id of the policy rule in glossary/policy.yaml.")
    text: str = Field(description="What the rule means for this case.")
    term: Hit = Field(description="The term the rule belongs to.")
    condition: str | None = Field(None, description="Present when the line applies only if a fact the question did not "
                                                    "state holds, e.g. 'if it will hold personal data'.")


class CaseOut(BaseModel):
    """'For your case': the rules the stated facts trigger, computed from the policy (no LLM)."""

    facts: CaseFacts
    requirements: list[CaseRequirement] = Field(description="Quotes or RFP, approver, signatory, reviews and their "
                                                            "lead times, notice duties: in policy order.")
    assumptions: list[str] = Field(default_factory=list, description="What was assumed for facts not stated.")
    questions: list[str] = Field(default_factory=list, description="What to tell us to make the answer exact.")


class Handoff(BaseModel):
    label: str = Field(description="Who to ask, e.g. Procurement, IT service desk, Accounts payable.")
    email: str
    url: str = Field(description="A mailto: link with the question as its subject.")


class Choice(BaseModel):
    """One answer to "which one do you mean?"."""

    slug: str
    term: str
    domain: str
    question: str = Field(description="What choosing it sends: a reply that continues the conversation.")


class AskResponse(BaseModel):
    conversation_id: str
    turn: int
    intent: Intent
    confident: bool
    confidence: float
    answer_markdown: str = Field(description="The whole answer; a `<!-- more: … -->` line starts the detail "
                                             "that pages fold under a disclosure.")
    answer_html: str
    terms: list[Hit]
    suggestions: list[Hit]
    case: CaseOut | None = Field(None, description="Present when the question states facts of a purchase (an amount, "
                                                   "a term, a payment route, a kind of purchase or data); a follow-up "
                                                   "such as 'and if it's $120k?' recomputes from the previous turn's facts.")
    followups: list[str] = Field(default_factory=list, description="Two or three questions worth asking next.")
    choices: list[Choice] = Field(default_factory=list, description="For a clarify answer: the terms to choose from, "
                                                                     "each with the reply its chip sends in this conversation.")
    handoff: Handoff | None = Field(None, description="A person to ask, when the answer is a refusal or uncertain.")


class FeedbackRequest(BaseModel):
    conversation_id: ConversationId
    turn: int | None = Field(None, ge=1, le=100000, strict=True,  # strict: true is not turn 1
                             description="The answer's turn number; null for the latest.")
    rating: Literal["up", "down"]
    comment: CleanText = Field("", max_length=2000)


class FeedbackResponse(BaseModel):
    id: int
    status: Literal["recorded"] = "recorded"


class SpotRequest(BaseModel):
    texts: list[str] = Field(max_length=1000, description="Text nodes of the annotated region, in page order.")
    audience: Audience | None = Field(None, description="The widget's data-audience: its sense of an abbreviation "
                                                        "comes first, and cards add what the term means for it.")


class SpotOut(BaseModel):
    text: int = Field(description="Index into `texts`.")
    start: int = Field(description="UTF-16 offset (JavaScript string index) of the mention.")
    end: int
    slugs: list[str] = Field(description="The term, or every sense of an ambiguous abbreviation.")


class SpotTerm(BaseModel):
    term: str
    summary: str
    url: str
    domain: str
    status: str
    replaced_by: TermLink | None = None
    for_audience: str | None = Field(None, description="First sentence of the audience's section, when one was given.")
    for_audience_title: str | None = None


class SpotResponse(BaseModel):
    spots: list[SpotOut]
    terms: dict[str, SpotTerm]


class TermCard(BaseModel):
    slug: str
    term: str
    status: str
    status_label: str
    domain: str
    summary: str
    definition_html: str
    section_title: str | None = None
    section_html: str | None = None
    rules_html: str | None = None
    url: str
    replaced_by: TermLink | None = None
