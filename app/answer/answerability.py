"""Answerability: is this a question about what a term means or what our rule is, or a request the
glossary cannot answer (an action, a status, a helpdesk fix, personal advice, chit-chat, an attempt
to re-instruct the assistant)?

`classify` is a pure function of the question and its ranking (spots, exact and near-spelled names),
so it is tested without a model. It reads the *shape* of the sentences: an information question
about a named term ("what is…", "what does … mean", "is X the same as Y", "do we need…") is a
glossary question however it is framed; otherwise cues of an action request (an imperative, "can
you / someone …"), a status inquiry ("has PO … been approved"), a problem report ("won't start",
"keeps asking") or an override of the assistant's instructions mark it as not ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from app.glossary.model import Glossary
from app.search.retrieve import Ranking

Category = Literal["glossary", "action", "status", "helpdesk", "personal", "chitchat", "injection"]

# Where a request goes, as keys of org.yaml `contacts`.
Route = Literal["service_desk", "accounts_payable", "procurement", "hr", "facilities", "security"]


@dataclass(frozen=True)
class Verdict:
    """What the glossary can do with a question."""

    answerable: bool
    category: Category
    reason: str
    term: str | None = None  # slug of a term the question clearly names: offered, never defined
    routes: tuple[Route, ...] = field(default_factory=tuple)


_I = re.IGNORECASE

# --- Information questions about a term (checked first: they win over any other cue) -------------
MEANING = re.compile(
    r"\b(mean|means|meaning|meant|stand for|stands for|defin(e|ed|ition)|explain\w*|in plain english|"
    r"in simple (words|terms)|what exactly|another name for|(is|are) (that|this|it|they) (just|basically|really|"
    r"actually|the same|a kind of|a type of)|the same (thing )?as|same thing|difference|different from|differ|"
    r"versus|vs\.?|count as|counts as|which is which|what kind of|or is it|is it just|tell me what|"
    r"what (is|are|'s) (a|an|the)? ?(\w+ ){0,2}(for|about|supposed to))\b", _I)
# "What is that extra step called?": the question describes a term and asks its name.
NAME_QUESTION = re.compile(
    r"\b(what|which)\b[^.?!]{0,60}\b(called|named|known as|the (term|word|name) for)\b|\b(is there|what's|what is) "
    r"(a|the) (term|word|name) for\b|\bwhat do (we|you|they|people) call\b", _I)
# "What is / what's / what are" right before a named term ("what's a P-card", "what is MFA supposed to…").
WHAT_IS = re.compile(r"\b(what|who)\s*(is|'s|’s|s|are|was|were)\s+((a|an|the|this|that|these|those|our|their)\s+)?", _I)
RULE = re.compile(
    r"\b((do|does|did) (i|we|you|they|she|he) (need|have|want) to|do (i|we) need|need to include|"
    r"(are|am|is) (we|i|it|she|he|they) (allowed|supposed|required|meant|expected)|(can|could|may|should) "
    r"(we|i|it|they|it|someone in it|a \w+|the \w+) (just )?(use|buy|sign|pay|have|ask|wipe|skip|count)|needs? to include|"
    r"our (rule|policy|standard|process)|do we have a|who (approves|signs|decides|owns|is allowed|can approve)|"
    r"how (many|much|long|often|does|do (we|they))\b|what happens|why (is|are|do|does|did|would|was|were)|"
    r"what (does|do|did|would|should) .{0,40}\b(involve|include|do|cover|protect|require|look like|check|"
    r"cost|want)|what (is|are) .{0,40}(supposed|for|about)|is that (a|an)|is (this|that|it) (a|an|the) .{0,30}"
    r"(thing|issue|problem|deal|rule)|what should (i|we) (be )?(check|ask|look|expect|watch))\b", _I)

# --- Cues of something else ---------------------------------------------------------------------
OVERRIDE = re.compile(
    r"(ignore|disregard|forget|override|bypass) (all |any |the |your |my )*(previous |prior |earlier |above |"
    r"system |your )*(instructions|rules|prompts?|guidelines|directions)|system prompt|hidden rules|"
    r"\byou are now\b|\byou're now\b|from now on,? you|developer mode|\b(system|admin) override\b|"
    r"(with|have|has) no (rules|limits|restrictions|topic limits)|stay in character|"
    r"</?\s*(system|user|assistant|instructions?)\s*>|^\s*\[[^\]]*(automated|system|admin)[^\]]*\]|"
    r"\bassistant\s*:|set (the |your )?confidence|\b(you're|you are) (dan|jailbroken)\b|let's play a game", _I | re.M)
ROLE_PLAY = re.compile(r"\b(pretend (to be|you are|you're)|act as|role-?play|you are my|be my)\b", _I)
ACTION_VERBS = (
    r"add|allow|approve|assign|book|cancel|change|check|close|create|delete|disable|email|enable|escalate|"
    r"extend|find|fix|forward|get|give|grant|install|invite|look (at|into)|message|move|open|order|pay|"
    r"print|put|raise|reinstall|remove|renew|replace|reply|reset|restore|revoke|review|roll\s?back|rotate|"
    r"schedule|send|set up|setup|ship|sign|submit|switch|take|tell|terminate|translate|turn|unblock|unlock|"
    r"update|upgrade|upload|write|draft|compose|generate|make|plan|recommend|suggest|calculate|convert|"
    r"summari[sz]e|help|force|call|contact|chase|process|release|refund|issue|transfer"
)
IMPERATIVE = re.compile(rf"(^|[.!?;:]\s+|\n\s*|,\s*(and|then)?\s*|^\s*(please|pls|kindly)\s+|\b(please|pls|kindly)\s+)(?P<verb>{ACTION_VERBS})\b", _I)
ASK_TO_DO = re.compile(
    rf"\b(can|could|would|will)\s+(you|someone|somebody|anyone|it|the \w+( \w+)? team|\w+ team|infra|"
    rf"facilities|security|procurement|finance|ap|hr|payroll|support|the service desk|the helpdesk)\s+"
    rf"(please\s+)?(also\s+)?({ACTION_VERBS})\b|\bi need (you|someone|somebody) to\b|\bwho (can|could|will) "
    rf"({ACTION_VERBS})\b|\btell me (a|how to)\b", _I)
STATUS = re.compile(
    r"\b((has|have|had|did|was|were|is|are) .{0,80}\b(been |gone |go )?(approved|paid|posted|reconciled|processed|"
    r"shipped|delivered|finished|complete|completed|received|signed|sent|go through|gone through|set up|done)\b|"
    r"status of|where is my|where's my|when (should|will|can|do|does|is|are) (we|i|it|they|my|our|the|\w+ payroll) "
    r".{0,40}(expect|paid|going out|arrive|be in|be done|ready|happen|hear)|still (haven't|hasn't|not|no)|"
    r"haven't (been|heard|received)|hasn't (been|arrived)|going out this|any update on)", _I)
REFERENCE_NUMBER = re.compile(r"\b([A-Z]{2,5}-\d{3,}|(PO|INV|REQ|EXP|INC|DN|RITM|CHG)\s?#?\d{3,}|#\s?[A-Z]*\d{4,}|\d{7,})\b")
PROBLEM = re.compile(
    r"\b(won't|wont|can't|cannot|couldn't|doesn't|isn't|aren't|not) (let|start|work|working|load|open|connect|sync|"
    r"transfer|reach|reachable|print|show|showing|fire|firing)\b|\b(stopped|stuck|freez\w*|crash\w*|keeps (asking|"
    r"opening|dropping|crashing|logging|failing)|is dropping|loops|looping|blank page|blocked|locked out|"
    r"is (down|dead|broken|slow)|(are|is) down|error|expired|non-compliant|not reachable|no longer)\b", _I)
HOW_DO_I = re.compile(r"\b(how (do|can|should) (i|we) (get|reset|fix|install|unlock|connect|add|update|change|"
                      r"claim|book|request|access|log|set|apply|sign up|enrol|enroll)|where (in|do|can) .{0,30}\b(i|we)\b "
                      r"(update|find|change|request|get|claim)|who (do|should|can) (i|we) (ask|talk|speak|contact|go|email|call))\b", _I)
PERSONAL = re.compile(
    r"\b(should i (fix|buy|sell|invest|take|move|get)|what should i get|my (landlord|mortgage|deposit|payslip|salary|pension|tax code|overtime|"
    r"leave|holiday|expense claim|expenses|physio|doctor|health|newborn|baby|family|sister|brother|boss|"
    r"emergency contact|rent)|annual leave|payroll|pension|mileage|health insurance|landlord|mortgage|"
    r"i want to (bump|change|increase|reduce))\b", _I)
CHITCHAT = re.compile(
    r"^\s*(thanks|thank you|cheers|hello|hi|hey|good (morning|afternoon|evening)|have a (great|nice|good))\b|"
    r"\b(joke|poem|riddle|weather|who wrote|who won|how many .{0,30} does .{0,30} have|capital of)\b", _I)

# A greeting or thanks that opens a message ("Hi, …", "Good morning team. …", "Thanks in advance. …").
GREETING = re.compile(
    r"^\s*(?:(?:hi|hello|hey|dear|good (?:morning|afternoon|evening|day)|morning|thanks(?: in advance)?|"
    r"thank you(?: in advance)?|many thanks|cheers|sorry to bother you)(?: (?:there|team|all|everyone|folks|guys))?"
    r"(?:\s*[,.!:;\-–—]+\s*|\s+))+", _I)

# --- Where to go --------------------------------------------------------------------------------
ROUTES: tuple[tuple[Route, re.Pattern], ...] = (
    ("security", re.compile(r"\b(phishing|clicked|suspicious|hacked|malware|breach|siem|security team)\b", _I)),
    ("accounts_payable", re.compile(r"\b(invoice\w*|paid|payment|remittance|reimburse\w*|expense claim|ap)\b", _I)),
    ("hr", re.compile(r"\b(payroll|payslip|salary|pension|leave|holiday|overtime|tax code|health insurance|"
                      r"benefits|mileage|emergency contact|newborn|hr)\b", _I)),
    ("facilities", re.compile(r"\b(room|desk|office|air con\w*|heating|floor|building|parking|facilities|coffee)\b", _I)),
    ("procurement", re.compile(r"\b(po|purchase order|requisition|order|supplier\w*|vendor\w*|contract|rfp|"
                               r"quote|subscription|renewal|p-card|procurement)\b", _I)),
    ("service_desk", re.compile(r"\b(laptop|phone|password|vpn|sso|mfa|login|log in|access|install\w*|app|"
                                r"software|network|server|vm|ticket|portal|api|error|account|email)\b", _I)),
)


# A quotation opens after a space or punctuation and closes before one, so apostrophes ("hasn't",
# "month's") never pair up into one.
_QUOTED = re.compile(r"(?<![\w'’])(['‘][^'‘’\n]{2,}?['’]|\"[^\"\n]{2,}\"|“[^”\n]{2,}”)(?![\w'’])")


def _unquoted(text: str) -> str:
    """The text without what it quotes: an instruction quoted from a supplier's paper is not one to us."""
    return _QUOTED.sub(lambda m: " " * len(m.group()), text)


def _without_greeting(text: str) -> str:
    """The text with an opening greeting blanked (offsets kept for the spots) when a real message follows
    it: a question, or a few words of one. 'Hi, what is a PO?' is a glossary question; 'Thanks, that
    helps!' stays small talk."""
    match = GREETING.match(text)
    rest = text[match.end():] if match else ""
    if match and ("?" in rest or len(rest.split()) >= 6):
        return " " * match.end() + rest
    return text


def _asks_to_do(text: str, ranking: Ranking) -> bool:
    """An imperative or a 'can you / someone …' request; a verb that starts a term's name ('Force majeure
    wording is open', 'Change management is…') is that name, not an imperative."""
    if ASK_TO_DO.search(text):
        return True
    for match in IMPERATIVE.finditer(text):
        verb = match.start("verb")
        if not any(s.start <= verb < s.end for s in ranking.spots):
            return True
    return False


def named_terms(ranking: Ranking) -> list[str]:
    """Terms the question clearly names: a strong mention, the exact name, or a near spelling of one."""
    named: list[str] = []
    for spot in ranking.spots:
        if spot.strong and spot.slugs[0] not in named:
            named.append(spot.slugs[0])
    for c in ranking.candidates[:5]:
        if (c.exact or c.fuzzy >= 0.9) and c.slug not in named:
            named.append(c.slug)
    return named


def _asks_about_term(question: str, ranking: Ranking, named: list[str]) -> str | None:
    """The reason, when some sentence asks what a named term means or what our rule on it is."""
    if not named:
        return None
    if MEANING.search(question):
        return "asks what a named term means"
    starts = [s.start for s in ranking.spots if s.strong] or [0]
    for match in WHAT_IS.finditer(question):
        if any(0 <= start - match.end() <= 3 for start in starts):
            return "asks what a named term is"
    if RULE.search(question):
        return "asks what our rule is"
    return None


def _asked_in_a_question(question: str, ranking: Ranking, named: list[str]) -> bool:
    """Does a sentence ending in '?' itself ask what a term it names means?"""
    pos = 0
    for sentence in _SENTENCE.split(question):
        start = question.find(sentence, pos)
        pos = start + len(sentence)
        if not sentence.strip().endswith("?"):
            continue
        inside = [s for s in ranking.spots if s.strong and start <= s.start < pos]
        slugs = [s.slugs[0] for s in inside]
        if slugs and _asks_about_term(sentence, _shifted(ranking, start), slugs):
            return True
    return False


def _routes(text: str, glossary: Glossary | None, term: str | None) -> tuple[Route, ...]:
    found = [route for route, cue in ROUTES if cue.search(text)]
    if not found and glossary is not None and term in glossary.terms:
        found = ["service_desk" if glossary.terms[term].domain == "it" else "procurement"]
    return tuple(found[:2])


_SENTENCE = re.compile(r"(?<=[.?!])\s+|\n+")
_HYPOTHETICAL = re.compile(r"\b(if|when|whenever|in case|suppose|what if|unless)\b[^,.;?!]*", _I)
_INFORMATION = re.compile(r"^\W*(what|why|which|in what|how (many|much|long|often|does|do (we|they|you))|who (approves|signs|"
                          r"decides|owns)|is (it|there|that|this) |are (we|they|there) |does |do (we|they) )", _I)


def _shifted(ranking: Ranking, offset: int) -> Ranking:
    """The ranking with its spots' offsets relative to a part of the text starting at `offset`."""
    from dataclasses import replace

    spots = [replace(s, start=s.start - offset, end=s.end - offset) for s in ranking.spots]
    return replace(ranking, spots=spots)


def _the_ask(text: str) -> str:
    """The sentence that asks: the last one ending in a question mark, else the whole text."""
    questions = [s for s in _SENTENCE.split(text.strip()) if s.strip().endswith("?")]
    return questions[-1] if questions else text


def classify(question: str, ranking: Ranking, *, glossary: Glossary | None = None) -> Verdict:
    """Decide whether the glossary answers `question`, why, and where to send it when it does not."""
    named = named_terms(ranking)
    term = named[0] if named else None
    text = _without_greeting(_unquoted(question))
    if OVERRIDE.search(text):
        return _with_instructions(question, ranking, named, term)
    if _only_requests(text, ranking):
        return Verdict(False, "action", "asks for something to be done", term, _routes(question, glossary, term))
    ask = _the_ask(text)
    verdict = _glossary_verdict(question, text, ask, ranking, named, term)
    if verdict is not None:
        return verdict
    cues = _cues(question, text, ask, ranking)
    if not cues:
        return Verdict(True, "glossary", "no cue of anything but a glossary question", term)
    category, why = cues[0]
    routes = () if category in ("injection", "chitchat") else _routes(question, glossary, term)
    return Verdict(False, category, why, term, routes)


def _with_instructions(question: str, ranking: Ranking, named: list[str], term: str | None) -> Verdict:
    """Judge a message that tries to change the assistant's instructions."""
    # Instructions get no special behaviour: a real question about a term beside them is answered
    # like any other; a message that only instructs is not a glossary question.
    if _asked_in_a_question(question, ranking, named):
        return Verdict(True, "glossary", "asks about a term (the instructions beside it are ignored)", term)
    return Verdict(False, "injection", "tries to change the assistant's instructions", term)


def _only_requests(text: str, ranking: Ranking) -> bool:
    """True when the message opens with a command (not a term's name) and asks nothing."""
    # A message that opens with a command and asks nothing ("Please add X to the glossary and define it
    # as…") is a request to do something, whatever words of meaning it uses.
    opening = IMPERATIVE.match(_SENTENCE.split(text.strip())[0])
    if opening and "?" not in text and opening.group("verb").lower() not in ("tell", "help"):
        return not any(s.start <= opening.start("verb") < s.end for s in ranking.spots)
    return False


def _glossary_verdict(question: str, text: str, ask: str, ranking: Ranking, named: list[str],
                      term: str | None) -> Verdict | None:
    """An answerable verdict when the message plainly asks the glossary something, else None."""
    reason = _asks_about_term(question, ranking, named)
    if reason:
        return Verdict(True, "glossary", reason, term)
    if NAME_QUESTION.search(question):
        return Verdict(True, "glossary", "describes something and asks what it is called", term)
    offset = text.rfind(ask)
    asks_us = _asks_to_do(ask, _shifted(ranking, offset)) if ask != text else _asks_to_do(text, ranking)
    # A pasted email or note full of terms is for explaining, even when it tells its readers what to do;
    # only a request put to us ("can you / someone…") makes it a ticket.
    if len(set(named)) >= 3 and not ASK_TO_DO.search(ask):
        return Verdict(True, "glossary", "a pasted text full of terms to explain", term)
    if named and len(question.split()) <= 8 and not asks_us and not STATUS.search(text):
        return Verdict(True, "glossary", "a short question naming a term", term)
    return None


def _cues(question: str, text: str, ask: str, ranking: Ranking) -> list[tuple[Category, str]]:
    """The signs that the message is something other than a glossary question, strongest first."""
    cues: list[tuple[Category, str]] = []
    if ROLE_PLAY.search(text):
        cues.append(("injection", "asks the assistant to play a role"))
    information = _INFORMATION.search(ask) is not None and not HOW_DO_I.search(ask)
    if (STATUS.search(text) and not information) or REFERENCE_NUMBER.search(question):
        cues.append(("status", "asks about the status of one case"))
    if HOW_DO_I.search(text) or (PROBLEM.search(_HYPOTHETICAL.sub(" ", text)) and not information):
        cues.append(("helpdesk", "reports a problem or asks how to get something done"))
    if _asks_to_do(text, ranking):
        cues.append(("action", "asks for something to be done"))
    if PERSONAL.search(text):
        cues.append(("personal", "asks for personal advice or about one's own employment"))
    if CHITCHAT.search(text):
        cues.append(("chitchat", "small talk or general knowledge"))
    return cues
