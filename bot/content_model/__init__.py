"""The bot's content files (everything under ``bot/content/``), read once and typed.

The helpline edits the YAML files in ``bot/content/`` without touching code. Each file is parsed
once, with the line of every key and value (:mod:`.yamlsource`), validated by a pydantic model
(:mod:`.models`) and checked across files (:mod:`.checks`); every problem names the file and the
line, e.g. ``bot/content/strings/ru.yaml:41: key 'menu.start' is missing``. The validated models
are what the bot runs on (:func:`bot.texts.load_content`).

Public API:

* :func:`validate_content` -- every problem in the content (a list of :class:`ContentError`).
* :func:`scan_safe_messaging` -- every user-facing text against ``safe_messaging.yaml``.
* :func:`check_address_forms` -- "sən" to teenagers, "Siz" to adults in Azerbaijani texts.
* :func:`load` -- the parsed files, their models and the problems, for a loader.
"""

from __future__ import annotations

from pathlib import Path

from bot.content_model.errors import ContentError
from bot.content_model.loader import Loaded, Part, article_files, load, read_content, string_files
from bot.content_model.safety import check_address_forms, scan_safe_messaging


def validate_content(content_dir: Path) -> list[ContentError]:
    """Validates every content file; returns the problems found (empty when all is well)."""
    return load(Path(content_dir)).sorted_errors()


__all__ = [
    "ContentError",
    "Loaded",
    "Part",
    "article_files",
    "check_address_forms",
    "load",
    "read_content",
    "scan_safe_messaging",
    "string_files",
    "validate_content",
]
