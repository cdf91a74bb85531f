"""What a Bot API error means for a delivery: wait and retry this chat, or give up on the item."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot.jobs import describe

__all__ = [
    "Verdict",
    "api_error",
    "classify",
    "describe",
    "error_text",
    "message_gone",
    "not_modified",
    "thread_gone",
]


def api_error(exc: BaseException) -> str:
    """Telegram's error description (it never contains message text) for the outbox and the log."""
    return f"{type(exc).__name__}: {getattr(exc, 'message', '')}"[:300]


def error_text(exc: Exception) -> str:
    return str(getattr(exc, "message", "") or exc).lower()


def thread_gone(exc: Exception) -> bool:
    text = error_text(exc)
    return "thread not found" in text or "topic_id_invalid" in text or "topic_deleted" in text


def not_modified(exc: Exception) -> bool:
    text = error_text(exc)
    return "not modified" in text or "topic_not_modified" in text


def message_gone(exc: Exception) -> bool:
    text = error_text(exc)
    return "not found" in text and (
        "to edit" in text or "to copy" in text or "to be replied" in text or "to delete" in text
    )


@dataclass(frozen=True)
class Verdict:
    """``wait``: pause the chat this long (``None``: the lane's backoff) and retry; else give up."""

    retry: bool
    error: str
    wait: float | None = None
    count: bool = True  # counts as an attempt
    why: str = ""  # for the log: rate limit | unavailable | refused | migrate | other


def classify(exc: BaseException, to_staff: bool, notice: bool = False) -> Verdict:
    if isinstance(exc, TelegramRetryAfter):
        return Verdict(
            True, f"429 retry after {exc.retry_after}", float(exc.retry_after) + 0.05, why="rate limit"
        )
    if isinstance(exc, TelegramMigrateToChat):
        return Verdict(True, api_error(exc), why="migrate")
    if isinstance(exc, TelegramServerError | TelegramNetworkError | TelegramNotFound):
        return Verdict(True, api_error(exc), why="unavailable")
    if isinstance(exc, TelegramForbiddenError | TelegramBadRequest):
        if not to_staff or notice:
            # Blocked by the person, chat gone, or a message Telegram will never take.
            return Verdict(False, api_error(exc), why="refused")
        # The staff chat must get everything: wrong rights or settings are fixed by a human.
        return Verdict(True, api_error(exc), why="staff refused")
    if isinstance(exc, TelegramAPIError):  # 401 (token revoked), 409, ...: keep trying, slowly
        return Verdict(True, api_error(exc), why="other")
    # Anything else (an HTML error page from a proxy, a bug, the database): keep the item, retry later.
    return Verdict(True, describe(exc), why="unexpected")
