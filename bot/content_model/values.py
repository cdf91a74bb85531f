"""The values content files hold: texts, templates, codes, numbers, patterns, with their limits.

Each type is an ``Annotated`` pydantic type whose validators raise :func:`problem`, in words for
the person editing the file; the models of whole files are in :mod:`bot.content_model.models`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StrictStr
from pydantic_core import PydanticCustomError

from bot.content_model.fold import fold_pattern
from bot.domain import Category

# Self-help articles: limits agreed with the self-help flow.
MAX_MESSAGE_CHARS = 700
MIN_MESSAGES = 3
MAX_MESSAGES = 7
MAX_ANSWER_CHARS = MAX_MESSAGE_CHARS + 200  # the helpline's answers about itself
ARTICLE_VERSIONS = ("teen", "parent")
# UI strings: audience variants.
STRING_VARIANTS = ("teen", "adult")
KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CATEGORY_CODES = tuple(c.value for c in Category)
# Contacts.
CONTACT_KINDS = ("phone", "email", "web", "app")
CONTACT_TARGET_FIELD = {"phone": "number", "email": "address", "web": "url", "app": "url"}
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{1,19}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL_RE = re.compile(r"^https?://\S+$")
# Plain text only: these look like Markdown/HTML and would show as raw symbols in a chat.
MARKUP_RE = re.compile(r"\*\*|__|`|^\s*#{1,6}\s|\[[^\]]+\]\([^)]+\)|</?[a-zA-Z][^>]*>", re.MULTILINE)


def problem(message: str) -> PydanticCustomError:
    """A validation error in words for the person editing the file."""
    return PydanticCustomError("content", "{message}", {"message": message})


def placeholders(text: str) -> set[str]:
    """Names used as {name} in a str.format template; raises ValueError on broken braces."""
    names: set[str] = set()
    for _, name, _, _ in string.Formatter().parse(text):
        if name is None:
            continue
        base = re.split(r"[.\[]", name, maxsplit=1)[0]
        if not base or base.isdigit():
            raise ValueError("use named placeholders like {name}, not {} or {0}")
        names.add(base)
    return names


def _not_empty(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("empty", "is empty")
    return value


def _template(value: str) -> str:
    try:
        placeholders(value)
    except ValueError as exc:
        raise problem(f"broken placeholder: {exc} (write a literal brace as {{{{ or }}}})") from None
    return value


def _at_most(limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) > limit:
            raise problem(f"{len(value)} characters; the limit is {limit} (split it)")
        return value

    return check


def _plain_text(value: str) -> str:
    if MARKUP_RE.search(value):
        raise problem("plain text only, no Markdown or HTML")
    return value


def _message_count(messages: list[str]) -> list[str]:
    if not MIN_MESSAGES <= len(messages) <= MAX_MESSAGES:
        raise problem(f"{len(messages)} messages; an article has {MIN_MESSAGES} to {MAX_MESSAGES}")
    return messages


def _looks_like(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.match(value.strip()):
            raise problem(f"'{value}' does not look like a valid {what}")
        return value

    return check


def code(value: str) -> str:
    if not CODE_RE.match(value):
        raise problem(f"'{value}' must be lower_case_with_underscores")
    return value


def string_key(value: str) -> str:
    if not KEY_RE.match(value):
        raise problem(f"key '{value}': use letters, digits, '_', '.' or '-' only")
    return value


def category_key(value: str) -> str:
    if value not in CATEGORY_CODES:
        raise problem(f"unknown category '{value}' (expected: {', '.join(sorted(CATEGORY_CODES))})")
    return value


def _regex(flags: int, folded: bool) -> Callable[[Any], Any]:
    """Compiles a pattern (folded like the text it is matched against, where ``folded``)."""

    def compile_(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # pydantic names the wrong type
        _not_empty(value)
        try:
            re.compile(value, flags)
            return re.compile(fold_pattern(value) if folded else value, flags)
        except re.error as exc:
            raise problem(f"bad regular expression {value!r}: {exc}") from None

    return compile_


Text = Annotated[StrictStr, AfterValidator(_not_empty)]
Template = Annotated[Text, AfterValidator(_template)]
Code = Annotated[Text, AfterValidator(code)]
CategoryCode = Annotated[Text, AfterValidator(category_key)]
Message = Annotated[Text, AfterValidator(_at_most(MAX_MESSAGE_CHARS)), AfterValidator(_plain_text)]
Messages = Annotated[list[Message], AfterValidator(_message_count)]
Answer = Annotated[Text, AfterValidator(_at_most(MAX_ANSWER_CHARS))]
Phone = Annotated[Text, AfterValidator(_looks_like(PHONE_RE, "number"))]
Email = Annotated[Text, AfterValidator(_looks_like(EMAIL_RE, "address"))]
Url = Annotated[Text, AfterValidator(_looks_like(URL_RE, "url"))]
# Patterns over folded text (intents, helpline, profile); safe-messaging patterns ignore case.
FoldedPattern = Annotated[re.Pattern[str], BeforeValidator(_regex(0, folded=True))]
SafePattern = Annotated[re.Pattern[str], BeforeValidator(_regex(re.IGNORECASE, folded=False))]
