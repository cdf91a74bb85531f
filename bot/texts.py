"""Loads everything the bot says (and the data it says it from) out of ``bot/content/``.

Python code refers to texts by key only; the words live in YAML files the helpline can edit.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.domain import DEFAULT_LANGUAGE, LANGUAGES, Audience

CONTENT_DIR = Path(__file__).resolve().parent / "content"


class ContentInvalid(Exception):
    """Content failed validation; ``errors`` name file and line."""

    def __init__(self, errors: list[Any]) -> None:
        self.errors = errors
        first = "; ".join(str(e) for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(f"content is invalid: {first}{more}")


@dataclass(frozen=True)
class Article:
    id: str
    topics: tuple[str, ...]
    title: dict[str, str]
    sources: tuple[str, ...]
    versions: dict[str, dict[str, list[str]]]  # version (teen|parent) -> language -> messages

    def version_for(self, audience: Audience | str) -> str:
        wanted = "parent" if audience == Audience.ADULT else "teen"
        if wanted in self.versions:
            return wanted
        return next(iter(self.versions))

    def steps(self, version: str, lang: str) -> list[str]:
        by_lang = self.versions.get(version) or next(iter(self.versions.values()))
        return by_lang.get(lang) or by_lang[DEFAULT_LANGUAGE]


@dataclass(frozen=True)
class Contact:
    id: str
    number: str
    kind: str
    emergency: bool
    free: bool
    name: dict[str, str]
    hours: dict[str, str]
    when: dict[str, str]


@dataclass(frozen=True)
class HelplineTopic:
    """A question about the helpline itself and its factual answer (helpline.yaml)."""

    id: str
    patterns: tuple[re.Pattern[str], ...]
    answer: dict[str, str]


@dataclass(frozen=True)
class ProfileHints:
    """What a message says about who is writing (profile.yaml)."""

    child: tuple[re.Pattern[str], ...] = ()
    adult: tuple[re.Pattern[str], ...] = ()
    female: tuple[re.Pattern[str], ...] = ()
    male: tuple[re.Pattern[str], ...] = ()


def _fold(text: str) -> str:
    """Lower-case and strip Azerbaijani/Turkish diacritics, for matching short intents."""
    text = text.replace("İ", "i").replace("I", "ı").lower()
    table = str.maketrans("əışçğöü", "eiscgou")
    text = text.translate(table)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c))


@dataclass
class Content:
    strings: dict[str, dict[str, Any]]  # lang -> key -> text | {teen, adult}
    articles: dict[str, Article]
    contacts: list[Contact]
    taxonomy: dict[str, Any]
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
        info = self.taxonomy["categories"].get(code or "other") or self.taxonomy["categories"]["other"]
        return info.get(lang) or info["az"]

    def topic_label(self, code: str, lang: str) -> str:
        info = self.taxonomy["topics"].get(code)
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


def fold_pattern(pattern: str) -> str:
    """Fold a regular expression like the text it is matched against, but leave its escapes alone
    (lower-casing "\\W" would turn "not a word character" into "a word character")."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append(_fold(pattern[i]))
        i += 1
    return "".join(out)


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def string_files(strings_dir: Path, lang: str) -> list[Path]:
    """``<lang>.yaml`` and any ``<part>.<lang>.yaml`` beside it (e.g. ``telegram.az.yaml``)."""
    return [strings_dir / f"{lang}.yaml", *sorted(strings_dir.glob(f"*.{lang}.yaml"))]


def _load_strings(strings_dir: Path, lang: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in string_files(strings_dir, lang):
        for key, value in (_read_yaml(path) or {}).items():
            if key in merged:
                raise KeyError(f"{path.name}: key {key!r} is defined twice")
            merged[key] = value
    return merged


def load_content(content_dir: Path | None = None, validate: bool = True) -> Content:
    """Load (and by default validate) all content; raises :class:`ContentInvalid`."""
    content_dir = content_dir or CONTENT_DIR
    if validate:
        from bot.content_schema import validate_content

        errors = validate_content(content_dir)
        if errors:
            raise ContentInvalid(errors)
    try:
        strings = {lang: _load_strings(content_dir / "strings", lang) for lang in LANGUAGES}
        articles: dict[str, Article] = {}
        for path in sorted((content_dir / "selfhelp").glob("*.yaml")):
            raw = _read_yaml(path)
            articles[raw["id"]] = Article(
                id=raw["id"],
                topics=tuple(raw.get("topics") or ()),
                title=dict(raw["title"]),
                sources=tuple(raw.get("sources") or ()),
                versions={
                    v: {lang: list(msgs) for lang, msgs in langs.items()}
                    for v, langs in raw["versions"].items()
                },
            )
        contacts_raw = _read_yaml(content_dir / "contacts.yaml") or {}
        contacts = [
            Contact(
                id=c["id"],
                number=str(c.get("number") or c.get("address") or c.get("url") or ""),
                kind=c.get("kind", "phone"),
                emergency=bool(c.get("emergency", False)),
                free=bool(c.get("free", False)),
                name=dict(c.get("name") or {}),
                hours=dict(c.get("hours") or {}),
                when=dict(c.get("when") or {}),
            )
            for c in contacts_raw.get("contacts", [])
        ]
        taxonomy = _read_yaml(content_dir / "taxonomy.yaml")
        intents_raw = _read_yaml(content_dir / "intents.yaml") or {}
        intents = {
            name: [re.compile(fold_pattern(p)) for p in patterns]
            for name, patterns in (intents_raw.get("intents") or {}).items()
        }
        helpline_raw = _read_yaml(content_dir / "helpline.yaml") or {}
        helpline = tuple(
            HelplineTopic(
                id=str(t["id"]),
                patterns=tuple(re.compile(fold_pattern(p)) for p in t["patterns"]),
                answer=dict(t["answer"]),
            )
            for t in helpline_raw.get("topics") or ()
        )
        profile_raw = _read_yaml(content_dir / "profile.yaml") or {}
        gender_raw = profile_raw.get("gender") or {}

        def compiled(patterns: list[str] | None) -> tuple[re.Pattern[str], ...]:
            return tuple(re.compile(fold_pattern(p)) for p in patterns or ())

        profile = ProfileHints(
            child=compiled(profile_raw.get("child")),
            adult=compiled(profile_raw.get("adult")),
            female=compiled(gender_raw.get("female")),
            male=compiled(gender_raw.get("male")),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ContentInvalid([f"{content_dir}: {exc}"]) from exc
    topic_index: dict[str, str] = {}
    for article in articles.values():  # the first article naming a topic as its main one wins
        if article.topics:
            topic_index.setdefault(article.topics[0], article.id)
    for article in articles.values():
        for topic in article.topics:
            topic_index.setdefault(topic, article.id)
    return Content(
        strings,
        articles,
        contacts,
        taxonomy,
        intents,
        topic_index,
        helpline=helpline,
        helpline_source=dict(helpline_raw.get("source") or {}),
        profile=profile,
        specificity=tuple(taxonomy.get("specificity") or ()),
    )
