"""Checks that need more than one value or more than one file.

The models (:mod:`bot.content_model.models`) say what each value may be; these checks say how
values fit together: every language has the same keys and placeholders, every topic of
taxonomy.yaml leads to exactly one self-help article, an article's last message names 116111
and each language has as many messages, the numbers the crisis texts rely on are listed, ids
are unique. They read the parsed files (not the models), so that they still run, and name the
line, when a file also has other mistakes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.content_model.errors import ContentError, describe, display
from bot.content_model.values import (
    ARTICLE_VERSIONS,
    CATEGORY_CODES,
    PHONE_RE,
    STRING_VARIANTS,
    placeholders,
)
from bot.content_model.yamlsource import Document, Loc
from bot.domain import LANGUAGES

if TYPE_CHECKING:
    from bot.content_model.loader import Loaded

# Topic codes that are answered by the flows themselves, not by a self-help article.
TOPICS_WITHOUT_ARTICLE = frozenset({"service_info"})
# Phone numbers the crisis texts give: contacts.yaml must list them.
REQUIRED_NUMBERS = ("116111", "112")


def check_content(loaded: Loaded) -> list[ContentError]:
    """Every check across values and files; returns the problems found."""
    errors: list[ContentError] = []
    topics = _taxonomy(loaded.taxonomy.doc, errors)
    _strings(loaded, errors)
    _articles(loaded, topics, errors)
    _contacts(loaded.contacts.doc, topics, errors)
    _unique_ids(loaded.helpline.doc, "topics", "topic", errors)
    for section in ("forbidden", "required"):
        _unique_ids(loaded.safe_messaging.doc, section, "rule", errors)
    return errors


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _unique_ids(doc: Document, section: str, noun: str, errors: list[ContentError]) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(_list(_dict(doc.data).get(section))):
        ident = _dict(item).get("id")
        if not isinstance(ident, str):
            continue
        loc: Loc = (section, i, "id")
        if ident in seen:
            errors.append(doc.error(loc, f"{noun} '{ident}' is defined twice (first at line {seen[ident]})"))
        else:
            seen[ident] = doc.line(loc)


# ---------------------------------------------------------------------------------------
# taxonomy.yaml
# ---------------------------------------------------------------------------------------


def _taxonomy(doc: Document, errors: list[ContentError]) -> set[str]:
    """Every category present, the specificity order names known topics; returns the topic codes
    (empty if the file is unusable)."""
    data = _dict(doc.data)
    categories = data.get("categories")
    if isinstance(categories, dict):
        for code in CATEGORY_CODES:
            if code not in categories:
                errors.append(doc.error(("categories",), f"category '{code}' is missing"))
    topics = set(_dict(data.get("topics")))
    for i, code in enumerate(_list(data.get("specificity"))):
        if isinstance(code, str) and code not in topics:
            errors.append(doc.error(("specificity", i), f"specificity: unknown topic '{code}'"))
    return topics


# ---------------------------------------------------------------------------------------
# UI strings: the same keys and placeholders in every language
# ---------------------------------------------------------------------------------------


@dataclass
class _Entry:
    key: str
    doc: Document
    value: Any  # a text, or {teen, adult}
    placeholders: set[str] | None  # None when a text is broken (the model reports it)

    @property
    def line(self) -> int:
        return self.doc.line((self.key,))


def _entry_placeholders(doc: Document, key: str, value: Any, errors: list[ContentError]) -> set[str] | None:
    """The placeholders of a string; its teen and adult variants must use the same ones."""
    if isinstance(value, str):
        texts: list[tuple[Loc, Any]] = [((key,), value)]
    else:
        texts = [((key, v), text) for v, text in _dict(value).items() if v in STRING_VARIANTS]
    found: set[str] | None = None
    for loc, text in texts:
        if not isinstance(text, str):
            return None
        try:
            names = placeholders(text)
        except ValueError:
            return None
        if found is None:
            found = names
        elif names != found:
            message = f"placeholders {sorted(names)} differ from the other variant's {sorted(found)}"
            errors.append(doc.error(loc, f"{describe(doc.data, loc)}: {message}"))
    return found


def _merged_strings(loaded: Loaded, lang: str, errors: list[ContentError]) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for part in loaded.strings[lang]:
        doc = part.doc
        for key, value in _dict(doc.data).items():
            first = entries.get(key)
            if first is not None:
                message = f"key '{key}' is already defined in {first.doc.name}:{first.line}"
                errors.append(doc.error((key,), message))
                continue
            entries[key] = _Entry(key, doc, value, _entry_placeholders(doc, key, value, errors))
    return entries


def _strings(loaded: Loaded, errors: list[ContentError]) -> None:
    merged = {lang: _merged_strings(loaded, lang, errors) for lang in LANGUAGES}
    main = {lang: loaded.strings[lang][0].doc for lang in LANGUAGES}
    for lang in LANGUAGES:
        if not main[lang].usable:
            continue
        for other in LANGUAGES:
            if other == lang or not main[other].usable:
                continue
            for key, entry in merged[other].items():
                if key not in merged[lang]:
                    message = f"key '{key}' is missing (it is in {entry.doc.name}:{entry.line})"
                    errors.append(main[lang].error(1, message))
    base = merged[LANGUAGES[0]]
    for lang in LANGUAGES[1:]:
        for key, entry in merged[lang].items():
            ref = base.get(key)
            if ref is None or ref.placeholders is None or entry.placeholders is None:
                continue
            if entry.placeholders != ref.placeholders:
                message = (
                    f"'{key}': placeholders {sorted(entry.placeholders)} differ from "
                    f"{sorted(ref.placeholders)} in {ref.doc.name}:{ref.line}"
                )
                errors.append(entry.doc.error((key,), message))


# ---------------------------------------------------------------------------------------
# Self-help articles: one article per topic, the last message names 116111
# ---------------------------------------------------------------------------------------


def _articles(loaded: Loaded, topics: set[str], errors: list[ContentError]) -> None:
    owner: dict[str, tuple[str, int]] = {}
    for part in loaded.articles:
        doc = part.doc
        data = _dict(doc.data)
        ident = data.get("id")
        if isinstance(ident, str) and ident.strip() and ident != doc.path.stem:
            errors.append(doc.error(("id",), f"id '{ident}' must equal the file name '{doc.path.stem}'"))
        for i, code in enumerate(_list(data.get("topics"))):
            if not isinstance(code, str):
                continue
            loc: Loc = ("topics", i)
            if topics and code not in topics:
                message = f"unknown topic '{code}' (topic codes are defined in taxonomy.yaml)"
                errors.append(doc.error(loc, message))
            elif code in owner and owner[code][0] != doc.name:
                first = f"{owner[code][0]}:{owner[code][1]}"
                message = f"topic '{code}' is already answered by {first}; a topic belongs to one article"
                errors.append(doc.error(loc, message))
            else:
                owner.setdefault(code, (doc.name, doc.line(loc)))
        for version, by_lang in _dict(data.get("versions")).items():
            if version in ARTICLE_VERSIONS:
                _article_version(doc, version, _dict(by_lang), errors)
    folder = display(loaded.content_dir / "selfhelp")
    if loaded.articles:
        for code in sorted(topics - set(owner) - TOPICS_WITHOUT_ARTICLE):
            message = (
                f"topic '{code}' from taxonomy.yaml has no self-help article; "
                "add it to the 'topics' of the closest article"
            )
            errors.append(ContentError(folder, 1, message))


def _article_version(
    doc: Document, version: str, by_lang: dict[str, Any], errors: list[ContentError]
) -> None:
    counts: dict[str, int] = {}
    for lang, messages in by_lang.items():
        if lang not in LANGUAGES or not isinstance(messages, list):
            continue
        counts[lang] = len(messages)
        if messages and isinstance(messages[-1], str) and "116111" not in messages[-1]:
            message = (
                f"versions.{version}.{lang}: the last message must invite them to a counsellor "
                "and name 116111"
            )
            errors.append(doc.error(("versions", version, lang, len(messages) - 1), message))
    if len(set(counts.values())) > 1:
        base_lang = LANGUAGES[0] if LANGUAGES[0] in counts else next(iter(counts))
        for lang, n in counts.items():
            if n != counts[base_lang]:
                message = (
                    f"versions.{version}.{lang} has {n} messages but {base_lang} has "
                    f"{counts[base_lang]}; every language needs the same number"
                )
                errors.append(doc.error(("versions", version, lang), message))


# ---------------------------------------------------------------------------------------
# contacts.yaml
# ---------------------------------------------------------------------------------------


def _contacts(doc: Document, topics: set[str], errors: list[ContentError]) -> None:
    contacts = _dict(doc.data).get("contacts")
    seen: dict[str, int] = {}
    numbers: set[str] = set()
    for i, item in enumerate(_list(contacts)):
        contact = _dict(item)
        ident = contact.get("id")
        label = f"contact '{ident}'" if isinstance(ident, str) else "contact"
        if isinstance(ident, str):
            loc: Loc = ("contacts", i, "id")
            if ident in seen:
                errors.append(doc.error(loc, f"{label}: duplicate id (first at line {seen[ident]})"))
            else:
                seen[ident] = doc.line(loc)
        number = contact.get("number")
        if contact.get("kind") == "phone" and isinstance(number, str) and PHONE_RE.match(number.strip()):
            numbers.add(re.sub(r"\D", "", number))
        for j, code in enumerate(_list(contact.get("topics"))):
            if isinstance(code, str) and topics and code not in topics:
                errors.append(doc.error(("contacts", i, "topics", j), f"{label}: unknown topic '{code}'"))
    if isinstance(contacts, list):
        for number in REQUIRED_NUMBERS:
            if number not in numbers:
                message = f"the phone number {number} must be listed (crisis texts rely on it)"
                errors.append(doc.error(("contacts",), message))
