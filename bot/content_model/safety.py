"""Safe messaging and address forms: checks of the words of every text the bot shows.

* :func:`scan_safe_messaging` applies ``safe_messaging.yaml`` to every user-facing text (UI
  strings, self-help articles, contacts, the helpline's answers): no method details, no
  minimising or sensational wording, and the required elements of crisis texts.
* :func:`check_address_forms` is a style check for Azerbaijani texts: "sən" to teenagers,
  "Siz" to adults. The tests run it, not the start-up (a style slip must not stop the bot).

Both read the parsed files, so a text is found (and its line named) even when its file has
other mistakes; those are :func:`bot.content_model.validate_content`'s business.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content_model.errors import ContentError, display
from bot.content_model.loader import Loaded, read_content
from bot.content_model.models import SafeMessaging
from bot.content_model.values import STRING_VARIANTS
from bot.content_model.yamlsource import Document, Loc
from bot.domain import LANGUAGES


@dataclass
class _Text:
    """One user-facing text, where it lives, and whether crisis rules apply to it."""

    file: str
    line: int
    where: str  # e.g. "'crisis.ask'.teen" or "versions.teen.ru message 2"
    language: str
    text: str
    crisis: bool
    group: tuple[str, str, str] | None = None  # (kind, name, language/variant) for required checks
    literal: bool = False  # a '|' block: each line of the text is a line of the file

    def line_at(self, pos: int) -> int:
        """The file line of character ``pos`` of the text (exact for '|' blocks)."""
        return self.line + 1 + self.text.count("\n", 0, pos) if self.literal else self.line


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(doc: Document, loc: Loc, where: str, lang: str, text: str, crisis: bool, **kw: Any) -> _Text:
    return _Text(doc.name, doc.value_line(loc), where, lang, text, crisis, literal=doc.literal(loc), **kw)


def _strings_texts(loaded: Loaded, crisis_globs: tuple[str, ...]) -> Iterator[_Text]:
    for lang in LANGUAGES:
        seen: set[str] = set()
        for part in loaded.strings[lang]:
            doc = part.doc
            for key, value in _dict(doc.data).items():
                if key in seen:  # the first definition counts (validate_content reports the second)
                    continue
                seen.add(key)
                crisis = any(fnmatch.fnmatchcase(key, g) for g in crisis_globs)
                if isinstance(value, str):
                    variants: list[tuple[str, Any]] = [("", value)]
                else:
                    variants = [(v, text) for v, text in _dict(value).items() if v in STRING_VARIANTS]
                for variant, text in variants:
                    if not isinstance(text, str) or not text.strip():
                        continue
                    loc: Loc = (key, variant) if variant else (key,)
                    label = f"'{key}'" + (f".{variant}" if variant else "")
                    for audience in (variant,) if variant else STRING_VARIANTS:
                        group = ("strings", "crisis texts", f"{lang}/{audience}") if crisis else None
                        yield _text(doc, loc, label, lang, text, crisis, group=group)


def _article_texts(loaded: Loaded, crisis_articles: tuple[str, ...]) -> Iterator[_Text]:
    for part in loaded.articles:
        doc = part.doc
        data = _dict(doc.data)
        name = doc.path.stem
        crisis = name in crisis_articles
        for lang, text in _dict(data.get("title")).items():
            if isinstance(text, str):
                yield _text(doc, ("title", lang), f"title.{lang}", lang, text, crisis)
        for version, by_lang in _dict(data.get("versions")).items():
            for lang, messages in _dict(by_lang).items():
                group = ("articles", name, f"{version}/{lang}") if crisis else None
                for i, text in enumerate(_list(messages)):
                    if isinstance(text, str):
                        where = f"versions.{version}.{lang} message {i + 1}"
                        yield _text(
                            doc, ("versions", version, lang, i), where, lang, text, crisis, group=group
                        )


def _contact_texts(loaded: Loaded) -> Iterator[_Text]:
    doc = loaded.contacts.doc
    for i, contact in enumerate(_list(_dict(doc.data).get("contacts"))):
        for field in ("name", "hours", "when"):
            for lang, text in _dict(_dict(contact).get(field)).items():
                if isinstance(text, str):
                    yield _text(
                        doc, ("contacts", i, field, lang), f"contact {field}.{lang}", lang, text, False
                    )


def _helpline_texts(loaded: Loaded) -> Iterator[_Text]:
    doc = loaded.helpline.doc
    for i, topic in enumerate(_list(_dict(doc.data).get("topics"))):
        for lang, text in _dict(_dict(topic).get("answer")).items():
            if isinstance(text, str):
                yield _text(doc, ("topics", i, "answer", lang), f"helpline answer.{lang}", lang, text, False)


def _excerpt(text: str, match: re.Match[str]) -> str:
    start, end = max(0, match.start() - 20), min(len(text), match.end() + 20)
    return " ".join(text[start:end].split())


def scan_safe_messaging(content_dir: Path | Loaded) -> list[ContentError]:
    """Checks every user-facing text against ``safe_messaging.yaml``.

    * ``forbidden`` rules: a match anywhere (scope ``all``) or in crisis texts (scope
      ``crisis``: strings whose keys match ``crisis.string_keys`` and the articles in
      ``crisis.articles``) is an error at the text's line. Patterns of every language are
      applied to every text, so a phrase pasted into the wrong file is still caught.
    * ``required`` rules: the crisis texts of each language and audience, taken together,
      must match at least one pattern of that language (e.g. a bot disclosure, a direct
      question about safety, 112 and 116111); likewise each version of a crisis article.

    If ``safe_messaging.yaml`` itself is not valid, its problems are returned instead.
    """
    loaded = content_dir if isinstance(content_dir, Loaded) else read_content(Path(content_dir))
    rules = loaded.safe_messaging.model
    if rules is None:
        return [e for e in loaded.errors if e.file == loaded.safe_messaging.doc.name]
    errors: list[ContentError] = []
    texts = [
        *_strings_texts(loaded, rules.crisis.string_keys),
        *_article_texts(loaded, rules.crisis.articles),
        *_contact_texts(loaded),
        *_helpline_texts(loaded),
    ]
    groups: dict[tuple[str, str, str], list[_Text]] = {}
    for t in texts:
        errors.extend(_forbidden(rules, t))
        if t.group is not None:
            groups.setdefault(t.group, []).append(t)
    errors.extend(_required(loaded, rules, groups))
    return sorted(set(errors), key=lambda e: (e.file, e.line, e.message))


def _forbidden(rules: SafeMessaging, t: _Text) -> Iterator[ContentError]:
    for rule in rules.forbidden:
        if rule.scope == "crisis" and not t.crisis:
            continue
        for _, patterns in rule.patterns.items():
            m = next((m for m in (p.search(t.text) for p in patterns) if m), None)
            if m:
                message = f"{t.where}: {rule.id} ({rule.what}): '{_excerpt(t.text, m)}'"
                yield ContentError(t.file, t.line_at(m.start()), message)
                break


def _required(
    loaded: Loaded, rules: SafeMessaging, groups: dict[tuple[str, str, str], list[_Text]]
) -> Iterator[ContentError]:
    content_dir = loaded.content_dir
    if rules.crisis.string_keys and not any(g[0] == "strings" for g in groups):
        message = (
            f"no crisis texts found: no key matches {list(rules.crisis.string_keys)} "
            "(safe_messaging.yaml crisis.string_keys)"
        )
        yield ContentError(display(content_dir / "strings" / f"{LANGUAGES[0]}.yaml"), 1, message)
    for name in rules.crisis.articles:
        if not any(g[0] == "articles" and g[1] == name for g in groups):
            message = f"crisis article '{name}' not found or has no messages"
            yield ContentError(display(content_dir / "selfhelp" / f"{name}.yaml"), 1, message)
    for (kind, name, part), members in sorted(groups.items()):
        lang = part.split("/")[1] if kind == "articles" else part.split("/")[0]
        combined = "\n".join(m.text for m in members)
        for rule in rules.required:
            if kind not in rule.applies_to:
                continue
            if not any(p.search(combined) for p in rule.patterns.get(lang, ())):
                first = members[0]
                message = f"{name} ({part}) lack a required element: {rule.id} ({rule.what})"
                yield ContentError(first.file, first.line, message)


# ---------------------------------------------------------------------------------------
# Azerbaijani address forms (style check for the tests)
# ---------------------------------------------------------------------------------------

_SEN = re.compile(r"(?<!\w)sən(in|inlə|ə|i|də|dən|lə)?(?!\w)", re.IGNORECASE)
_SIZ = re.compile(r"(?<!\w)siz(in|inlə|ə|i|də|dən|lə)?(?!\w)", re.IGNORECASE)
_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"|„[^“”]*[“”]")


def check_address_forms(content_dir: Path | Loaded) -> list[ContentError]:
    """Azerbaijani texts must say "sən" to teenagers and "Siz" to adults.

    Teen versions of articles and ``teen`` string variants must not use the pronoun
    siz/sizin/sizə...; parent versions and ``adult`` variants must not use sən/sənin/sənə...
    Text in quotes is skipped (an article for parents may quote what to say to a child).
    """
    loaded = content_dir if isinstance(content_dir, Loaded) else read_content(Path(content_dir))
    texts: list[tuple[_Text, str]] = []
    for t in _strings_texts(loaded, ()):
        if t.language == "az" and t.where.endswith((".teen", ".adult")):
            texts.append((t, "teen" if t.where.endswith(".teen") else "adult"))
    for t in _article_texts(loaded, ()):
        if t.where.startswith("versions.") and t.language == "az":
            texts.append((t, "teen" if t.where.startswith("versions.teen") else "adult"))
    errors: list[ContentError] = []
    for t, audience in texts:
        unquoted = _QUOTED.sub(lambda q: re.sub(r"[^\n]", " ", q.group(0)), t.text)  # keep positions
        pattern, wrong, right = (_SIZ, "Siz", "sən") if audience == "teen" else (_SEN, "sən", "Siz")
        m = pattern.search(unquoted)
        if m:
            whom = "teenagers" if audience == "teen" else "adults"
            message = f"{t.where}: '{m.group(0)}' — write to {whom} with '{right}', not '{wrong}'"
            errors.append(ContentError(t.file, t.line_at(m.start()), message))
    return errors
