"""Telegram-like parsing of formatted message text (HTML, MarkdownV2, legacy Markdown).

The real Bot API turns ``text`` + ``parse_mode`` into plain text plus ``entities`` and answers
``400 Bad Request: can't parse entities: ...`` for markup it cannot parse (an unsupported tag such as
``<br>``, an unclosed tag, an unescaped ``.`` in MarkdownV2, ...). This module reproduces that closely
enough to catch the bugs a bot really makes, and gives the server the visible text to store.

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
    elif mode == "markdownv2":
        rendered = _MarkdownV2Parser(text).parse()
    elif mode == "markdown":
        rendered = _parse_legacy_markdown(text)
    else:
        raise ValueError(f"Bad Request: unsupported parse_mode {parse_mode!r}")
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


# ---------------------------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


class _MarkdownV2Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.out: list[str] = []
        self.pos = 0
        self.stack: list[tuple[str, int, int]] = []  # (kind, utf16 start, byte offset)
        self.entities: list[dict[str, Any]] = []
        self.quote: tuple[int, bool] | None = None  # (start, expandable)

    def _emit(self, chars: str) -> None:
        self.out.append(chars)
        self.pos += utf16_len(chars)

    def _fail_reserved(self, ch: str) -> None:
        raise EntityParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")

    def parse(self) -> Rendered:
        src, n, i = self.src, len(self.src), 0
        while i < n:
            ch = src[i]
            at_line_start = i == 0 or src[i - 1] == "\n"
            if ch == "\\":
                if i + 1 < n and 1 <= ord(src[i + 1]) <= 126:
                    self._emit(src[i + 1])
                    i += 2
                    continue
                self._fail_reserved("\\")
            if at_line_start and (ch == ">" or src.startswith("**>", i)):
                expandable = ch == "*"
                if self.quote is None:
                    self.quote = (self.pos, expandable)
                i += 3 if expandable else 1
                continue
            if ch == "\n":
                if self.quote is not None and not (
                    src.startswith(">", i + 1) or src.startswith("**>", i + 1)
                ):
                    self._close_quote()
                self._emit("\n")
                i += 1
            elif ch == "`":
                i = self._code(i)
            elif ch == "*":
                self._toggle("bold", i)
                i += 1
            elif ch == "_":
                if src.startswith("__", i):
                    self._toggle("underline", i)
                    i += 2
                else:
                    self._toggle("italic", i)
                    i += 1
            elif ch == "~":
                self._toggle("strikethrough", i)
                i += 1
            elif ch == "|":
                if not src.startswith("||", i):
                    self._fail_reserved("|")
                closes_quote = (
                    self.quote is not None
                    and self.quote[1]
                    and not any(kind == "spoiler" for kind, _, _ in self.stack)
                    and (i + 2 == n or src[i + 2] == "\n")
                )
                if not closes_quote:
                    self._toggle("spoiler", i)
                i += 2
            elif ch == "!" and src.startswith("![", i):
                self.stack.append(("custom_emoji", self.pos, _byte_offset(src, i)))
                i += 2
            elif ch == "[":
                self.stack.append(("link", self.pos, _byte_offset(src, i)))
                i += 1
            elif ch == "]":
                i = self._link_end(i)
            elif ch in _MDV2_RESERVED:
                self._fail_reserved(ch)
            else:
                self._emit(ch)
                i += 1
        if self.stack:
            kind, _, offset = self.stack[-1]
            raise EntityParseError(f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {offset}")
        if self.quote is not None:
            self._close_quote()
        return Rendered("".join(self.out), self.entities)

    def _close_quote(self) -> None:
        assert self.quote is not None
        start, expandable = self.quote
        if self.pos > start:
            kind = "expandable_blockquote" if expandable else "blockquote"
            self.entities.append({"type": kind, "offset": start, "length": self.pos - start})
        self.quote = None

    def _toggle(self, kind: str, i: int) -> None:
        if any(k == kind for k, _, _ in self.stack):
            top, start, offset = self.stack.pop()
            if top != kind:
                raise EntityParseError(f"Can't find end of {_MDV2_NAMES[top]} entity at byte offset {offset}")
            if self.pos > start:
                self.entities.append({"type": kind, "offset": start, "length": self.pos - start})
        else:
            self.stack.append((kind, self.pos, _byte_offset(self.src, i)))

    def _read_escaped_until(self, i: int, end: str, what: str, start_index: int) -> tuple[str, int]:
        """Read from i to the unescaped ``end``; inside, only ``\\`` escapes are honoured."""
        src, buf = self.src, []
        while i < len(src):
            if src[i] == "\\" and i + 1 < len(src):
                buf.append(src[i + 1])
                i += 2
            elif src.startswith(end, i):
                return "".join(buf), i + len(end)
            else:
                buf.append(src[i])
                i += 1
        raise EntityParseError(
            f"Can't find end of {what} entity at byte offset {_byte_offset(src, start_index)}"
        )

    def _code(self, i: int) -> int:
        src = self.src
        if src.startswith("```", i):
            body, nxt = self._read_escaped_until(i + 3, "```", "Pre", i)
            language = ""
            first, sep, rest = body.partition("\n")
            if sep and first and " " not in first:
                language, body = first, rest
            start = self.pos
            self._emit(body)
            if self.pos > start:
                entity = {"type": "pre", "offset": start, "length": self.pos - start}
                if language:
                    entity["language"] = language
                self.entities.append(entity)
            return nxt
        body, nxt = self._read_escaped_until(i + 1, "`", "Code", i)
        start = self.pos
        self._emit(body)
        if self.pos > start:
            self.entities.append({"type": "code", "offset": start, "length": self.pos - start})
        return nxt

    def _link_end(self, i: int) -> int:
        if not self.stack or self.stack[-1][0] not in ("link", "custom_emoji"):
            self._fail_reserved("]")
        kind, start, offset = self.stack.pop()
        if not self.src.startswith("(", i + 1):
            raise EntityParseError(f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {offset}")
        url, nxt = self._read_escaped_until(i + 2, ")", _MDV2_NAMES[kind], i)
        length = self.pos - start
        if length > 0:
            if kind == "custom_emoji":
                emoji_id = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
                if not emoji_id:
                    raise EntityParseError("Custom emoji URL must have emoji identifier")
                self.entities.append(
                    {
                        "type": "custom_emoji",
                        "offset": start,
                        "length": length,
                        "custom_emoji_id": emoji_id[1],
                    }
                )
            else:
                self.entities.append(_link_entity(url, start, length))
        return nxt


# ----------------------------------------------------------------------------------- legacy Markdown

_LEGACY_KINDS = {"*": "bold", "_": "italic"}


def _parse_legacy_markdown(src: str) -> Rendered:
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    pos, i, n = 0, 0, len(src)

    def unterminated(index: int) -> EntityParseError:
        return EntityParseError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(src, index)}"
        )

    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            out.append(src[i + 1])
            pos += 1
            i += 2
        elif ch in _LEGACY_KINDS or ch == "`":
            fence = "```" if src.startswith("```", i) else ch
            end = src.find(fence, i + len(fence))
            if end < 0:
                raise unterminated(i)
            body = src[i + len(fence) : end]
            kind = "pre" if fence == "```" else _LEGACY_KINDS.get(ch, "code")
            if body:
                entities.append({"type": kind, "offset": pos, "length": utf16_len(body)})
            out.append(body)
            pos += utf16_len(body)
            i = end + len(fence)
        elif ch == "[":
            m = re.compile(r"\[([^\]]*)\]\(([^)]*)\)").match(src, i)
            if not m:
                raise unterminated(i)
            label = m.group(1)
            if label:
                entities.append(_link_entity(m.group(2), pos, utf16_len(label)))
            out.append(label)
            pos += utf16_len(label)
            i = m.end()
        else:
            out.append(ch)
            pos += utf16_len(ch)
            i += 1
    return Rendered("".join(out), entities)
