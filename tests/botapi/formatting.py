"""Telegram-like parsing of formatted message text: parse_mode HTML (the only one the bot uses).

The real Bot API turns ``text`` + ``parse_mode`` into plain text plus ``entities`` and answers
``400 Bad Request: can't parse entities: ...`` for markup it cannot parse (an unsupported tag such as
``<br>``, an unclosed tag, ...). This module reproduces that closely enough to catch the bugs a bot
really makes, and gives the server the visible text to store. MarkdownV2 and legacy Markdown are not
simulated: they are refused as an unsupported parse_mode.

Offsets and lengths of entities are in UTF-16 code units, as in the real API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class EntityParseError(ValueError):
    """Raised for markup the real Bot API rejects; ``str(exc)`` is the Telegram description."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Bad Request: can't parse entities: {detail}")


@dataclass(frozen=True)
class Rendered:
    text: str
    entities: list[dict[str, Any]]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8"))


def render(
    text: str, parse_mode: str | None = None, entities: list[dict[str, Any]] | None = None
) -> Rendered:
    """Return the visible (stripped) text and its entities, as Telegram would store them."""
    mode = (parse_mode or "").lower()
    if entities is not None or not mode:
        rendered = Rendered(text, list(entities or []))
    elif mode == "html":
        rendered = _HtmlParser(text).parse()
    else:
        raise ValueError("Bad Request: unsupported parse_mode")
    return _strip(rendered)


def _strip(rendered: Rendered) -> Rendered:
    text = rendered.text
    stripped = text.strip()
    if stripped == text:
        return Rendered(text, _sorted(rendered.entities))
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    out = []
    for entity in rendered.entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            out.append({**entity, "offset": start, "length": end - start})
    return Rendered(stripped, _sorted(out))


def _sorted(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _link_entity(url: str, offset: int, length: int) -> dict[str, Any]:
    mention = re.fullmatch(r"tg://user\?id=(\d+)", url)
    if mention:
        user = {"id": int(mention.group(1)), "is_bot": False, "first_name": "User"}
        return {"type": "text_mention", "offset": offset, "length": length, "user": user}
    return {"type": "text_link", "offset": offset, "length": length, "url": url}


# --------------------------------------------------------------------------------------------- HTML

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SUPPORTED_TAGS = {*_SIMPLE_TAGS, "span", "a", "tg-emoji", "blockquote", "tg-time"}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^>]*)?)>")
_ATTR_RE = re.compile(r"""([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_ENTITY_RE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _HtmlParser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.out: list[str] = []
        self.pos = 0  # UTF-16 offset in the visible text
        self.stack: list[tuple[str, int, dict[str, str]]] = []
        self.entities: list[dict[str, Any]] = []

    def _emit(self, chars: str) -> None:
        self.out.append(chars)
        self.pos += utf16_len(chars)

    def parse(self) -> Rendered:
        src, i = self.src, 0
        while i < len(src):
            ch = src[i]
            if ch == "<":
                i = self._tag(i)
            elif ch == "&":
                m = _ENTITY_RE.match(src, i)
                if m and (decoded := self._decode_entity(m.group(1))) is not None:
                    self._emit(decoded)
                    i = m.end()
                else:  # Telegram keeps an unknown or bare ampersand as it is
                    self._emit("&")
                    i += 1
            else:
                self._emit(ch)
                i += 1
        if self.stack:
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')
        return Rendered("".join(self.out), self.entities)

    @staticmethod
    def _decode_entity(body: str) -> str | None:
        if body.startswith(("#x", "#X")):
            return chr(int(body[2:], 16))
        if body.startswith("#"):
            return chr(int(body[1:]))
        return _NAMED.get(body.lower())

    def _tag(self, i: int) -> int:
        m = _TAG_RE.match(self.src, i)
        offset = _byte_offset(self.src, i)
        if not m:
            name = re.match(r"</?([^\s>]*)", self.src[i:])
            raise EntityParseError(
                f'Unsupported start tag "{name.group(1) if name else ""}" at byte offset {offset}'
            )
        closing, name, raw_attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if closing:
            self._close(name, offset)
            return m.end()
        if name not in _SUPPORTED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
        attrs = {
            a.group(1).lower(): next((g for g in a.groups()[1:] if g is not None), "")
            for a in _ATTR_RE.finditer(raw_attrs)
        }
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise EntityParseError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}')
        self.stack.append((name, self.pos, attrs))
        return m.end()

    def _close(self, name: str, offset: int) -> None:
        if not self.stack:
            raise EntityParseError(f'Unexpected end tag "{name}" at byte offset {offset}')
        top, start, attrs = self.stack.pop()
        if top != name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {offset}, expected "</{top}>", found "</{name}>"'
            )
        length = self.pos - start
        if length <= 0:
            return
        entity: dict[str, Any] = {"offset": start, "length": length}
        if name == "code" and self.stack and self.stack[-1][0] == "pre":
            language = attrs.get("class", "")
            if language.startswith("language-"):
                self.stack[-1][2]["language"] = language.removeprefix("language-")
                return
        if name in _SIMPLE_TAGS:
            entity["type"] = _SIMPLE_TAGS[name]
            if name == "pre" and attrs.get("language"):
                entity["language"] = attrs["language"]
        elif name == "span":
            entity["type"] = "spoiler"
        elif name == "a":
            if not attrs.get("href"):
                return
            entity = _link_entity(attrs["href"], start, length)
        elif name == "tg-emoji":
            entity.update(type="custom_emoji", custom_emoji_id=attrs["emoji-id"])
        elif name == "blockquote":
            entity["type"] = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        elif name == "tg-time":
            entity.update(type="date_time", unix_time=int(attrs.get("unix", "0") or 0))
        self.entities.append(entity)
