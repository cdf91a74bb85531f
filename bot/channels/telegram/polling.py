"""Long polling: an update is confirmed to Telegram (by the next getUpdates' offset) only after it
is in the journal, so a crash never loses one."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramConflictError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)

from bot.channels.telegram.sender import describe
from bot.outbox import backoff

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


async def run_polling(channel: TelegramChannel) -> None:
    bot, options = channel.bot, channel.options
    offset: int | None = None
    failures = 0
    webhook_cleared = True  # start() removed any webhook; again after a conflict
    while True:
        try:
            if not webhook_cleared:
                await bot.delete_webhook(drop_pending_updates=False)
                webhook_cleared = True
            updates = await bot.get_updates(
                offset=offset,
                timeout=options.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                request_timeout=int(options.poll_timeout + options.request_timeout),
            )
            failures = 0
        except asyncio.CancelledError:
            raise
        except TelegramRetryAfter as exc:
            await asyncio.sleep(exc.retry_after)
            continue
        except TelegramUnauthorizedError:
            failures += 1
            log.critical("Telegram rejected the bot token (401): check TELEGRAM_BOT_TOKEN")
            await asyncio.sleep(backoff(failures, options.backoff_base, options.backoff_cap))
            continue
        except TelegramConflictError:
            failures += 1
            webhook_cleared = False
            log.error("getUpdates conflict: another instance of this bot is running, or a webhook is set")
            await asyncio.sleep(backoff(failures, options.backoff_base, options.backoff_cap))
            continue
        except TelegramAPIError as exc:
            failures += 1
            log.warning("polling failed (%s); retrying", type(exc).__name__)
            await asyncio.sleep(backoff(failures, options.backoff_base, options.backoff_cap))
            continue
        if not updates:
            continue
        try:
            await channel.pipeline.accept_many(updates)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the journal cannot be written: leave them with Telegram
            failures += 1
            log.error("could not journal updates: %s", describe(exc))
            await asyncio.sleep(backoff(failures, options.backoff_base, options.backoff_cap))
            continue
        offset = updates[-1].update_id + 1
