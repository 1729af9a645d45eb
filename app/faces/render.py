"""An answer's Markdown, re-rendered for chat: Slack mrkdwn and Teams Markdown.

The answer is parsed with the same markdown-it-py configuration as the web pages, and every text
node is escaped for the target on the way out, so nothing in a question, a pasted text or a term
file can become a mention, a link or formatting: only the structure our templates made (bold term
names, lists, tables, links to term pages) is rendered.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit

from markdown_it.token import Token

from app.render import _markdown

# Slack: "&", "<" and ">" are control characters (mentions, links, commands) and must be HTML-escaped.
_SLACK_CONTROL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Slack formats *bold*, _italic_, ~strike~ and `code` only when the marker touches a word; a zero-width
# space after each marker (and before it) breaks that pairing without changing what people read.
_SLACK_FORMAT = re.compile(r"([*_~`])")
ZWSP = "\u200b"
# Teams Markdown: numeric character references are literal text to a CommonMark parser and to HTML.
_TEAMS_SPECIAL = {c: f"&#{ord(c)};" for c in "&<>*_[]`#~|\\!"}
_TEAMS_LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))", re.M)


def slack_escape(text: str) -> str:
    """Text that Slack shows as written: no mentions, links, commands or mrkdwn formatting."""
    text = (text or "").translate(_SLACK_CONTROL)
    return _SLACK_FORMAT.sub(lambda m: f"{ZWSP}{m.group(1)}{ZWSP}", text)


def teams_escape(text: str) -> str:
    """Text that Teams shows as written: no HTML, no Markdown."""
    text = "".join(_TEAMS_SPECIAL.get(c, c) for c in (text or ""))
    # List markers and setext underlines only mean something at the start of a line.
    return _TEAMS_LINE_START.sub(lambda m: m.group(1) + "".join(f"&#{ord(c)};" for c in m.group(2)), text)


def absolute(url: str, base: str) -> str | None:
    """An absolute http(s) URL for a link, or None when it cannot be one (relative without a base, other schemes)."""
    if not url:
        return None
    if url.startswith("/"):
        if not base:
            return None
        url = urljoin(base.rstrip("/") + "/", url.lstrip("/"))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    # Characters that would end the link early in either target (spaces, >, |, parentheses) are percent-encoded.
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")


def _table_close(tokens: list[Token], start: int) -> int:
    """The index of the table_close token that ends the table opened at `start`."""
    j = start
    while tokens[j].type != "table_close":
        j += 1
    return j


class _Renderer:
    """Walk markdown-it tokens into one chat dialect."""

    def __init__(self, base: str):
        self.base = base

    # Dialect hooks -------------------------------------------------------------------------
    def text(self, text: str) -> str:
        raise NotImplementedError

    def strong(self, inner: str) -> str:
        raise NotImplementedError

    def em(self, inner: str) -> str:
        raise NotImplementedError

    def code(self, inner: str) -> str:
        raise NotImplementedError

    def link(self, label: str, url: str) -> str:
        raise NotImplementedError

    def bullet(self, n: int | None) -> str:
        return f"{n}. " if n is not None else "• "

    # The walk ------------------------------------------------------------------------------
    def inline(self, tokens: list[Token]) -> str:
        out: list[str] = []
        stack: list[tuple[str, list[str], str | None]] = []

        def emit(s: str) -> None:
            (stack[-1][1] if stack else out).append(s)

        for tok in tokens:
            if tok.type == "text":
                emit(self.text(tok.content))
            elif tok.type in ("softbreak",):
                emit(" ")
            elif tok.type == "hardbreak":
                emit("\n")
            elif tok.type == "code_inline":
                emit(self.code(tok.content))
            elif tok.type in ("html_inline",):
                emit(self.text(tok.content))
            elif tok.type in ("strong_open", "em_open", "link_open", "s_open"):
                stack.append((tok.type, [], str(tok.attrGet("href") or "") if tok.type == "link_open" else None))
            elif tok.type in ("strong_close", "em_close", "link_close", "s_close") and stack:
                kind, parts, href = stack.pop()
                inner = "".join(parts)
                if kind == "strong_open":
                    emit(self.strong(inner))
                elif kind == "em_open":
                    emit(self.em(inner))
                elif kind == "link_open":
                    url = absolute(str(href or ""), self.base)
                    emit(self.link(inner, url) if url else inner)
                else:
                    emit(inner)
            elif tok.type == "image":
                emit(self.text(tok.content))
        while stack:  # unbalanced (cannot happen with markdown-it, but never lose text)
            _, parts, _ = stack.pop()
            emit("".join(parts))
        return "".join(out)

    def blocks(self, markdown: str) -> list[str]:
        """The answer as a list of blocks (paragraphs, lists, tables), each already in the dialect."""
        tokens = _markdown().parse(markdown or "")
        blocks: list[str] = []
        lists: list[list] = []  # [ordered counter or None, lines]
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            t = tok.type
            if t in ("bullet_list_open", "ordered_list_open"):
                start = int(tok.attrGet("start") or 1) if t == "ordered_list_open" else None
                lists.append([start, []])
            elif t in ("bullet_list_close", "ordered_list_close"):
                self._close_list(lists, blocks)
            elif t == "inline":
                self._add_inline(tokens, i, lists, blocks)
            elif t in ("fence", "code_block"):
                blocks.append(self.code(tok.content.rstrip("\n")))
            elif t == "table_open":
                j = _table_close(tokens, i)
                blocks.extend(self.table(tokens[i:j]))
                i = j
            elif t == "hr":
                blocks.append("———")
            i += 1
        return [b for b in blocks if b.strip()]

    def _close_list(self, lists: list[list], blocks: list[str]) -> None:
        """End the innermost list: indent it into its parent list, or make it a block."""
        _, lines = lists.pop()
        text = "\n".join(lines)
        if lists:
            lists[-1][1].append("\n".join("    " + line for line in text.split("\n")))
        else:
            blocks.append(text)

    def _add_inline(self, tokens: list[Token], i: int, lists: list[list], blocks: list[str]) -> None:
        """Render inline token `i` as a list line (bulleted when it opens an item) or as a block."""
        text = self.inline(tokens[i].children or [])
        if lists:
            counter, lines = lists[-1]
            prev = tokens[i - 2] if i >= 2 else None
            if prev is not None and prev.type == "list_item_open":
                lines.append(self.bullet(counter) + text)
                if counter is not None:
                    lists[-1][0] = counter + 1
            else:
                lines.append("  " + text)
        else:
            heading = tokens[i - 1].type == "heading_open" if i else False
            blocks.append(self.strong(text) if heading else text)

    def table(self, tokens: list[Token]) -> list[str]:
        """A table as one block per row: the row's first cell in bold, then each column's cell labelled."""
        rows: list[list[str]] = []
        for tok in tokens:
            if tok.type == "tr_open":
                rows.append([])
            elif tok.type == "inline" and rows:
                rows[-1].append(self.inline(tok.children or []))
        if not rows:
            return []
        header, body = rows[0], rows[1:]
        out = []
        for row in body:
            lines = [self.strong(row[0])] if row and row[0] else []
            for col, cell in enumerate(row[1:], start=1):
                label = header[col] if col < len(header) else ""
                lines.append(self.bullet(None) + (f"{self.strong(label)}: " if label else "") + cell)
            out.append("\n".join(lines))
        return out


class SlackRenderer(_Renderer):
    def text(self, text: str) -> str:
        return slack_escape(text)

    def strong(self, inner: str) -> str:
        return f"*{inner}*" if inner.strip() else inner

    def em(self, inner: str) -> str:
        return f"_{inner}_" if inner.strip() else inner

    def code(self, inner: str) -> str:
        # Inside code Slack still reads &, < and >; backticks would close it.
        return "`" + inner.replace("`", "'").translate(_SLACK_CONTROL) + "`"

    def link(self, label: str, url: str) -> str:
        # The label is already escaped text; a "|" or ">" in it would end the link markup.
        return f"<{url}|{label.replace('|', '¦')}>"


class TeamsRenderer(_Renderer):
    def text(self, text: str) -> str:
        return teams_escape(text)

    def strong(self, inner: str) -> str:
        return f"**{inner}**" if inner.strip() else inner

    def em(self, inner: str) -> str:
        return f"*{inner}*" if inner.strip() else inner

    def code(self, inner: str) -> str:
        return teams_escape(inner)

    def link(self, label: str, url: str) -> str:
        return f"[{label}]({url.replace('(', '%28').replace(')', '%29')})"

    def bullet(self, n: int | None) -> str:
        return f"{n}. " if n is not None else "- "


def to_slack(markdown: str, base: str) -> list[str]:
    """The answer as Slack mrkdwn blocks."""
    return SlackRenderer(base).blocks(markdown)


def to_teams(markdown: str, base: str) -> str:
    """The answer as one Teams Markdown message text."""
    return "\n\n".join(TeamsRenderer(base).blocks(markdown))
