"""Unclaimed urgent and imminent cases are announced again until someone claims them
(imminent every REMIND_IMMINENT_SECONDS, default a minute; urgent every REMIND_URGENT_SECONDS,
default five minutes)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.channels.telegram.sender import describe

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramChannel

log = logging.getLogger(__name__)

CHANNEL = "telegram"


async def remind_once(channel: TelegramChannel) -> int:
    """Queue a reminder for every case that is due one; returns how many."""
    app = channel.app
    settings = app.settings
    due = await app.desk.due_reminders(settings.remind_imminent_seconds, settings.remind_urgent_seconds)
    for view in due:
        await app.outbox.enqueue_staff(
            CHANNEL,
            "reminder",
            view.id,
            {"case": view.id, "priority": view.priority, "risk": view.risk.value},
        )
        await app.desk.mark_announced(view.id)
    if due:
        log.info("reminders queued for %d unclaimed case(s)", len(due))
        channel.wake_sender()
    return len(due)


async def run_reminders(channel: TelegramChannel) -> None:
    while True:
        try:
            await remind_once(channel)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be away for a moment
            log.error("reminder check failed: %s", describe(exc))
        await asyncio.sleep(channel.options.reminder_interval)
