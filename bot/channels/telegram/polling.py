"""Long polling: an update is confirmed to Telegram (by the next getUpdates' offset) only after it
is in the inbox, so a crash never loses one. One replica polls (``Leadership("polling:telegram")``);
any error, including a proxy's HTML error page that aiogram cannot decode, is logged and retried with
backoff: the loop never dies of it. While the database is away the poller goes on polling (it cannot
check its lock then) so that people who write hear where help is; their updates stay with Telegram."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiogram.exceptions import (
    TelegramConflictError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)

from bot.jobs import Leadership, describe
from bot.storage.outbox import backoff

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


async def run_polling(channel: TelegramChannel) -> None:
    bot, options = channel.bot, channel.options
    leader = Leadership(channel.app.db, "polling:telegram")
    offset: int | None = None
    failures = 0
    webhook_cleared = True  # start() removed any webhook; again after a conflict
    leading = False
    try:
        while True:
            channel.app.health.beat("telegram-polling")
            try:
                try:
                    leading = await leader.acquire()
                except Exception:
                    if not leading:
                        raise
                    # The database is away: the poller keeps polling, so that people who write now
                    # hear where help is; nothing is confirmed to Telegram until the inbox has it.
                if not leading:
                    await asyncio.sleep(options.leader_poll)
                    continue
                if not webhook_cleared:
                    await bot.delete_webhook(drop_pending_updates=False)
                    webhook_cleared = True
                updates = await bot.get_updates(
                    offset=offset,
                    timeout=options.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    request_timeout=int(options.poll_timeout + options.request_timeout),
                )
                if updates:
                    try:
                        await channel.pipeline.accept_many(updates)
                    except Exception:
                        # The inbox cannot be written (the database is away): the updates stay with
                        # Telegram (not confirmed) and are taken again; meanwhile people hear where help is.
                        for update in updates:
                            await channel.pipeline.tell_person(update)
                        raise
                    offset = updates[-1].update_id + 1
                failures = 0
            except asyncio.CancelledError:
                raise
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
            except Exception as exc:
                failures += 1
                if isinstance(exc, TelegramUnauthorizedError):
                    log.critical("Telegram rejected the bot token (401): check TELEGRAM_BOT_TOKEN")
                elif isinstance(exc, TelegramConflictError):
                    webhook_cleared = False
                    if not leader.held:  # polling without the lock, and another replica polls: it leads
                        leading = False
                    log.error(
                        "getUpdates conflict: another instance of this bot is running, or a webhook is set"
                    )
                else:  # network, 5xx, an HTML page instead of JSON, the inbox unwritable ...
                    log.warning("polling failed (%s); retrying", describe(exc))
                await asyncio.sleep(backoff(failures, options.backoff_base, options.backoff_cap))
    finally:
        await leader.release()
