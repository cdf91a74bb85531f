"""Loads everything the bot says (and the data it says it from) out of ``bot/content/``.

Python code refers to texts by key only; the words live in YAML files the helpline can edit.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from bot.content_model import Loaded, Part, load, string_files
from bot.content_model.fold import fold as _fold
from bot.content_model.fold import fold_pattern
from bot.content_model.models import Article, Contact, HelplineTopic, ProfileHints, Taxonomy
from bot.domain import DEFAULT_LANGUAGE, LANGUAGES, Audience

CONTENT_DIR = Path(__file__).resolve().parent / "content"


class ContentInvalid(Exception):
    """Content failed validation; ``errors`` name file and line."""

    def __init__(self, errors: list[Any]) -> None:
        self.errors = errors
        first = "; ".join(str(e) for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(f"content is invalid: {first}{more}")


@dataclass
class Content:
    strings: dict[str, dict[str, Any]]  # lang -> key -> text | {teen, adult}
    articles: dict[str, Article]
    contacts: list[Contact]
    taxonomy: Taxonomy
    intents: dict[str, list[re.Pattern[str]]]
    _topic_index: dict[str, str] = field(default_factory=dict)
    helpline: tuple[HelplineTopic, ...] = ()
    helpline_source: dict[str, str] = field(default_factory=dict)
    profile: ProfileHints = field(default_factory=ProfileHints)
    specificity: tuple[str, ...] = ()  # topics, the most specific first (taxonomy.yaml)

    # ---- strings -------------------------------------------------------------------------------
    def t(
        self, key: str, lang: str | None = None, audience: Audience | str = Audience.UNKNOWN, **kw: Any
    ) -> str:
        lang = lang if lang in self.strings else DEFAULT_LANGUAGE
        value = self.strings[lang].get(key)
        if value is None:
            value = self.strings[DEFAULT_LANGUAGE].get(key)
        if value is None:
            raise KeyError(f"no text for key {key!r}")
        if isinstance(value, dict):
            value = value["teen"] if audience == Audience.CHILD else value["adult"]
        if kw:
            return string.Formatter().vformat(value, (), _SafeDict(kw))
        return value

    def has(self, key: str) -> bool:
        return key in self.strings[DEFAULT_LANGUAGE]

    def signal_label(self, signal: Any, lang: str) -> str:
        """A risk signal's label in the staff side's language (the triage's own labels)."""
        try:
            from bot.triage import signal_label
        except ImportError:  # pragma: no cover - the triage always provides it
            return signal.label or signal.code
        return signal_label(signal.code, lang) or signal.label or signal.code

    def button_label(self, data: str, lang: str) -> str:
        """The text of the button that sends ``data`` (a counsellor reads "[Not safe]", not "safe:no")."""
        from bot.payloads import label_key

        key = label_key(data)
        return self.t(key, lang) if key and self.has(key) else data

    # ---- taxonomy ------------------------------------------------------------------------------
    def category_label(self, code: str | None, lang: str) -> str:
        info = self.taxonomy.categories.get(code or "other") or self.taxonomy.categories["other"]
        return info.get(lang) or info["az"]

    def topic_label(self, code: str, lang: str) -> str:
        info = self.taxonomy.topics.get(code)
        return (info.get(lang) or info["az"]) if info else code

    def most_specific_first(self, topics: tuple[str, ...] | list[str]) -> list[str]:
        rank = {t: i for i, t in enumerate(self.specificity)}
        given = list(topics)
        return sorted(given, key=lambda t: (rank.get(t, len(rank)), given.index(t)))

    # ---- self-help -----------------------------------------------------------------------------
    def article_for_topics(
        self, topics: tuple[str, ...] | list[str], skip: tuple[str, ...] | list[str] = ()
    ) -> Article | None:
        """The article for the most specific of ``topics`` (taxonomy.yaml's order), not one in ``skip``."""
        for topic in self.most_specific_first(topics):
            article_id = self._topic_index.get(topic)
            if article_id and article_id not in skip:
                return self.articles[article_id]
        return None

    # ---- intents -------------------------------------------------------------------------------
    def intent(self, text: str, name: str) -> bool:
        folded = _fold(text)
        return any(p.search(folded) for p in self.intents.get(name, ()))

    # ---- the helpline's own knowledge and who is writing ------------------------------------------
    def helpline_topic(self, text: str) -> HelplineTopic | None:
        folded = _fold(text)
        return next((t for t in self.helpline if any(p.search(folded) for p in t.patterns)), None)

    def infer_profile(self, text: str) -> tuple[str | None, str | None]:
        """(audience, gender) the message tells about its writer, where it does."""
        folded = _fold(text)
        hints = self.profile
        audience = None
        if any(p.search(folded) for p in hints.adult):
            audience = Audience.ADULT.value
        elif any(p.search(folded) for p in hints.child):
            audience = Audience.CHILD.value
        gender = None
        if any(p.search(folded) for p in hints.female):
            gender = "female"
        elif any(p.search(folded) for p in hints.male):
            gender = "male"
        return audience, gender


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def load_content(content_dir: Path | None = None, validate: bool = True) -> Content:
    """Load and validate all content; raises :class:`ContentInvalid` naming file and line.

    Each file is parsed once and validated by its model; the models are the content. With
    ``validate=False`` the checks across files (the same keys in every language, one article per
    topic...) are skipped, but every file must still be readable and match its model.
    """
    loaded = load(Path(content_dir or CONTENT_DIR), check=validate)
    if loaded.errors:
        raise ContentInvalid(loaded.sorted_errors())
    return _content_from(loaded)


M = TypeVar("M", bound=BaseModel)


def _model(part: Part[M]) -> M:
    if part.model is None:  # not reached: a file without a model always comes with an error
        raise ContentInvalid([f"{part.doc.name}: not valid"])
    return part.model


def _content_from(loaded: Loaded) -> Content:
    """The bot's :class:`Content`, made of the validated models."""
    strings: dict[str, dict[str, Any]] = {}
    for lang in LANGUAGES:
        merged = strings.setdefault(lang, {})
        for part in loaded.strings[lang]:
            for key, value in _model(part).root.items():
                merged.setdefault(key, value if isinstance(value, str) else value.model_dump())
    articles = {article.id: article for article in map(_model, loaded.articles)}
    taxonomy = _model(loaded.taxonomy)
    intents = _model(loaded.intents).intents if loaded.intents is not None else {}
    helpline = _model(loaded.helpline)
    topic_index: dict[str, str] = {}
    for article in articles.values():  # the first article naming a topic as its main one wins
        topic_index.setdefault(article.topics[0], article.id)
    for article in articles.values():
        for topic in article.topics:
            topic_index.setdefault(topic, article.id)
    return Content(
        strings,
        articles,
        list(_model(loaded.contacts).contacts),
        taxonomy,
        {name: list(patterns) for name, patterns in intents.items()},
        topic_index,
        helpline=helpline.topics,
        helpline_source=dict(helpline.source.items()),
        profile=_model(loaded.profile),
        specificity=taxonomy.specificity,
    )


__all__ = [
    "CONTENT_DIR",
    "Article",
    "Contact",
    "Content",
    "ContentInvalid",
    "HelplineTopic",
    "ProfileHints",
    "fold_pattern",
    "load_content",
    "string_files",
]
