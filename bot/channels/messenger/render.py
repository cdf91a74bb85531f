"""How an outbox item looks on Messenger and Instagram: the ``message`` objects of the Send API calls.

- Text: Messenger takes 2,000 characters a message, Instagram 1,000 bytes: a longer text is split at
  sentence ends (then at spaces; a single word longer than a message is the only thing ever cut).
- Buttons: quick replies on the last part (at most 13, titles at most 20 characters). A label that is
  too long is replaced by its short label from content (``messenger.short.<key>`` in
  ``bot/content/strings/messenger.*.yaml``), never cut; with no short label that fits, the options are
  numbered in the text and the quick replies carry the numbers.
- Quick replies vanish when the next message arrives. When more messages for the person follow right
  behind this one (the engine often answers with two or three), up to three buttons go in a button
  template (postback buttons, text up to 640 characters), which stays usable in the thread. More than
  13 options go in button templates of three.
- A counsellor's file (from the Telegram staff chat) cannot be copied to Meta: its label is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import payloads
from bot.deliveries import MediaToPerson, ToPerson
from bot.domain import LANGUAGES, Audience
from bot.texts import Content

MESSENGER_TEXT = 2000  # characters (counted in UTF-16 units, as Meta's clients do)
INSTAGRAM_TEXT_BYTES = 1000  # UTF-8 bytes
QUICK_REPLIES = 13
TITLE = 20  # a quick reply's or a button's title
TEMPLATE_TEXT = 640
TEMPLATE_BUTTONS = 3
SHORT = "messenger.short."
MORE = "…"
_BOUNDARY = re.compile(r"[.!?…]+[\"'»”’)\]]*[ \t]+|\n+")


def units(text: str) -> int:
    """Length as Meta counts it: UTF-16 code units (an emoji may count two)."""
    return len(text.encode("utf-16-le")) // 2


def text_fits(channel: str) -> Callable[[str], bool]:
    if channel == "instagram":
        return lambda s: len(s.encode("utf-8")) <= INSTAGRAM_TEXT_BYTES
    return lambda s: units(s) <= MESSENGER_TEXT


def _pieces(text: str, boundary: re.Pattern[str]) -> list[str]:
    pieces, start = [], 0
    for match in boundary.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _pack(pieces: list[str], fits: Callable[[str], bool], smaller: Callable[[str], list[str]]) -> list[str]:
    parts: list[str] = []
    current = ""
    for piece in pieces:
        if fits(current + piece):
            current += piece
            continue
        if current.strip():
            parts.append(current)
        current = ""
        if fits(piece):
            current = piece
        else:
            *whole, current = smaller(piece) or [""]
            parts.extend(whole)
    if current.strip():
        parts.append(current)
    return parts


def _hard(text: str, fits: Callable[[str], bool]) -> list[str]:
    """A word longer than a message (a long link): cut by characters, the only cut ever made."""
    parts, current = [], ""
    for char in text:
        if not fits(current + char):
            parts.append(current)
            current = ""
        current += char
    return [*parts, current] if current else parts


def split_text(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Parts that each fit, split at sentence ends (or line breaks), else at spaces."""
    text = text.strip()
    if not text:
        return []
    if fits(text):
        return [text]

    def by_words(sentence: str) -> list[str]:
        return _pack(_pieces(sentence, re.compile(r"\s+")), fits, lambda word: _hard(word, fits))

    parts = _pack(_pieces(text, _BOUNDARY), fits, by_words)
    return [p.strip() for p in parts if p.strip()]


@dataclass(frozen=True)
class Choice:
    title: str  # what the button shows (at most 20)
    data: str  # the payload it sends back


class Labels:
    """A button's title on Meta: its label if it fits, else its short label from content."""

    def __init__(self, content: Content) -> None:
        self.content = content

    def _keys(self, data: str) -> tuple[str, str | None, dict[str, Any]] | None:
        """(content key of the full label, short label key, the label's placeholders per language)."""
        decoded = payloads.decode(data)
        if isinstance(decoded, payloads.ArticleStep) and decoded.step == 0:
            article = self.content.articles.get(decoded.article)
            if article is None:
                return None
            return "btn.article", f"{SHORT}article.{article.id}", {"article": article}
        key = payloads.label_key(data)
        return (key, SHORT + key, {}) if key else None

    def _full(self, key: str, lang: str, extra: dict[str, Any]) -> list[str]:
        if not self.content.has(key):
            return []
        if "article" in extra:
            title = extra["article"].title.get(lang) or ""
            return [self.content.t(key, lang, title=title)]
        return [self.content.t(key, lang, audience) for audience in (Audience.CHILD, Audience.ADULT)]

    def title(self, text: str, data: str) -> str | None:
        text = text.strip()
        if 0 < units(text) <= TITLE:
            return text
        keys = self._keys(data)
        if keys is None:
            return None
        key, short, extra = keys
        if not self.content.has(short):
            return None
        for lang in LANGUAGES:
            if text in self._full(key, lang, extra):
                found = self.content.t(short, lang).strip()
                return found if 0 < units(found) <= TITLE else None
        return None


def _quick_replies(choices: list[Choice]) -> list[dict[str, str]]:
    return [{"content_type": "text", "title": c.title, "payload": c.data} for c in choices]


def _template(text: str, choices: list[Choice]) -> dict[str, Any]:
    return {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "text": text,
                "buttons": [{"type": "postback", "title": c.title, "payload": c.data} for c in choices],
            },
        }
    }


class Renderer:
    def __init__(self, content: Content) -> None:
        self.content = content
        self.labels = Labels(content)

    def messages(self, channel: str, payload: Any, followed: bool = False) -> list[dict[str, Any]]:
        """The ``message`` objects to send for one outbox item, in order (empty: nothing to send)."""
        fits = text_fits(channel)
        if isinstance(payload, MediaToPerson):
            return [{"text": part} for part in split_text(payload.label, fits)]
        if not isinstance(payload, ToPerson):
            return []
        buttons = [(b.get("text") or "", b.get("data") or "") for row in payload.buttons for b in row]
        buttons = [(text, data) for text, data in buttons if data]
        text = payload.text
        if not buttons:
            return [{"text": part} for part in split_text(text, fits)]
        titles = [self.labels.title(label, data) for label, data in buttons]
        if any(t is None for t in titles):  # no title fits: number the options, never cut a word
            listing = "\n".join(f"{i}. {label.strip()}" for i, (label, _) in enumerate(buttons, 1))
            text = f"{text.rstrip()}\n\n{listing}"
            titles = [str(i) for i in range(1, len(buttons) + 1)]
        choices = [Choice(t or "", data) for t, (_, data) in zip(titles, buttons, strict=True)]
        if len(choices) > QUICK_REPLIES:
            return self._templates(channel, text, choices)
        if followed and len(choices) <= TEMPLATE_BUTTONS:
            parts = self._with_last(text, fits, lambda s: fits(s) and units(s) <= TEMPLATE_TEXT)
            if parts:
                return [*({"text": p} for p in parts[:-1]), _template(parts[-1], choices)]
        parts = split_text(text, fits)
        if not parts:
            return []
        return [
            *({"text": p} for p in parts[:-1]),
            {"text": parts[-1], "quick_replies": _quick_replies(choices)},
        ]

    def _with_last(
        self, text: str, fits: Callable[[str], bool], last_fits: Callable[[str], bool]
    ) -> list[str]:
        """Split ``text``; the last part also fits ``last_fits`` (split further if it must)."""
        parts = split_text(text, fits)
        if parts and not last_fits(parts[-1]):
            parts = [*parts[:-1], *split_text(parts[-1], last_fits)]
        return parts

    def _templates(self, channel: str, text: str, choices: list[Choice]) -> list[dict[str, Any]]:
        """More options than quick replies can hold: button templates of three, in order."""
        fits = text_fits(channel)
        template_fits: Callable[[str], bool] = lambda s: fits(s) and units(s) <= TEMPLATE_TEXT  # noqa: E731
        parts = self._with_last(text, fits, template_fits)
        if not parts:
            return []
        messages: list[dict[str, Any]] = [{"text": p} for p in parts[:-1]]
        groups = [choices[i : i + TEMPLATE_BUTTONS] for i in range(0, len(choices), TEMPLATE_BUTTONS)]
        for index, group in enumerate(groups):  # the templates after the first: a language-free "…"
            messages.append(_template(parts[-1] if index == 0 else MORE, group))
        return messages
