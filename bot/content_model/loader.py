"""Reads ``bot/content/`` once: every file parsed, validated by its model, then checked across files.

:func:`read_content` parses each file once (:mod:`~bot.content_model.yamlsource`) and validates it
against its model (:mod:`~bot.content_model.models`); :func:`load` adds the checks across files
(:mod:`~bot.content_model.checks`). The result, :class:`Loaded`, keeps for every file its parsed
value with the line map (for the checks and the safe-messaging scan) and its validated model
(for the bot: :func:`bot.texts.load_content` builds the content from the models).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from bot.content_model.checks import check_content
from bot.content_model.errors import ContentError, display, from_validation
from bot.content_model.models import (
    Article,
    ContactsFile,
    HelplineFile,
    IntentsFile,
    ProfileHints,
    SafeMessaging,
    StringsFile,
    Taxonomy,
)
from bot.content_model.yamlsource import Document, read
from bot.domain import LANGUAGES

M = TypeVar("M", bound=BaseModel)


@dataclass
class Part(Generic[M]):
    """One file: its parsed value with lines, and its model (None if it is not valid)."""

    doc: Document
    model: M | None = None


@dataclass
class Loaded:
    content_dir: Path
    errors: list[ContentError]
    taxonomy: Part[Taxonomy]
    strings: dict[str, list[Part[StringsFile]]]  # language -> <lang>.yaml, then <part>.<lang>.yaml
    articles: list[Part[Article]]  # selfhelp/*.yaml by file name
    contacts: Part[ContactsFile]
    intents: Part[IntentsFile] | None  # the file is optional
    helpline: Part[HelplineFile]
    profile: Part[ProfileHints]
    safe_messaging: Part[SafeMessaging]

    def sorted_errors(self) -> list[ContentError]:
        return sorted(set(self.errors), key=lambda e: (e.file, e.line, e.message))


def string_files(strings_dir: Path, lang: str) -> list[Path]:
    """``<lang>.yaml`` and any ``<part>.<lang>.yaml`` beside it (e.g. ``telegram.az.yaml``)."""
    return [strings_dir / f"{lang}.yaml", *sorted(strings_dir.glob(f"*.{lang}.yaml"))]


def article_files(content_dir: Path) -> list[Path]:
    folder = content_dir / "selfhelp"
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def _part(path: Path, model: type[M], errors: list[ContentError]) -> Part[M]:
    doc = read(path, errors)
    part: Part[M] = Part(doc)
    if doc.usable:
        try:
            part.model = model.model_validate(doc.data)
        except ValidationError as exc:
            errors.extend(from_validation(doc, model, exc))
    return part


def read_content(content_dir: Path) -> Loaded:
    """Every content file parsed once and validated against its model (no checks across files)."""
    content_dir = Path(content_dir)
    errors: list[ContentError] = []
    folder = content_dir / "selfhelp"
    for stray in sorted(folder.glob("*.yml")) if folder.is_dir() else ():
        errors.append(ContentError(display(stray), 1, "rename to .yaml: only *.yaml articles are loaded"))
    articles = [_part(path, Article, errors) for path in article_files(content_dir)]
    if not articles:
        errors.append(ContentError(display(folder), 1, "no self-help articles found"))
    intents_path = content_dir / "intents.yaml"
    return Loaded(
        content_dir=content_dir,
        errors=errors,
        taxonomy=_part(content_dir / "taxonomy.yaml", Taxonomy, errors),
        strings={
            lang: [_part(path, StringsFile, errors) for path in string_files(content_dir / "strings", lang)]
            for lang in LANGUAGES
        },
        articles=articles,
        contacts=_part(content_dir / "contacts.yaml", ContactsFile, errors),
        intents=_part(intents_path, IntentsFile, errors) if intents_path.exists() else None,
        helpline=_part(content_dir / "helpline.yaml", HelplineFile, errors),
        profile=_part(content_dir / "profile.yaml", ProfileHints, errors),
        safe_messaging=_part(content_dir / "safe_messaging.yaml", SafeMessaging, errors),
    )


def load(content_dir: Path, check: bool = True) -> Loaded:
    """:func:`read_content`, then (with ``check``) the checks across files; problems in ``errors``."""
    loaded = read_content(content_dir)
    if check:
        loaded.errors.extend(check_content(loaded))
    return loaded
