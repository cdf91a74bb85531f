"""Validation of the bot's content files: the names the tests and tools have always imported.

The work is done in :mod:`bot.content_model` (one parse per file, pydantic models, checks across
files, the safe-messaging scan); this module keeps the old import path working.

* :func:`validate_content` -- every problem in the content, each naming file and line.
* :func:`scan_safe_messaging` -- every user-facing text against ``safe_messaging.yaml``.
* :func:`check_address_forms` -- "sən" to teenagers, "Siz" to adults (a style check for the tests).
"""

from __future__ import annotations

from bot.content_model import (
    ContentError,
    check_address_forms,
    scan_safe_messaging,
    string_files,
    validate_content,
)
from bot.content_model.checks import REQUIRED_NUMBERS, TOPICS_WITHOUT_ARTICLE
from bot.content_model.values import (
    ARTICLE_VERSIONS,
    CODE_RE,
    CONTACT_KINDS,
    CONTACT_TARGET_FIELD,
    EMAIL_RE,
    KEY_RE,
    MARKUP_RE,
    MAX_MESSAGE_CHARS,
    MAX_MESSAGES,
    MIN_MESSAGES,
    PHONE_RE,
    STRING_VARIANTS,
    URL_RE,
)

__all__ = [
    "ARTICLE_VERSIONS",
    "CODE_RE",
    "CONTACT_KINDS",
    "CONTACT_TARGET_FIELD",
    "EMAIL_RE",
    "KEY_RE",
    "MARKUP_RE",
    "MAX_MESSAGES",
    "MAX_MESSAGE_CHARS",
    "MIN_MESSAGES",
    "PHONE_RE",
    "REQUIRED_NUMBERS",
    "STRING_VARIANTS",
    "TOPICS_WITHOUT_ARTICLE",
    "URL_RE",
    "ContentError",
    "check_address_forms",
    "scan_safe_messaging",
    "string_files",
    "validate_content",
]
