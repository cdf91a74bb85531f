"""Wiring: builds the engine, the outbox and the staff desk from settings. One place, used by every
command and by the tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.engine import Engine, TriagePort
from bot.outbox import Outbox
from bot.privacy import Pseudonymizer
from bot.staff import StaffDesk
from bot.storage.db import make_engine, session_factory, upgrade
from bot.storage.models import utcnow
from bot.texts import Content, load_content

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    content: Content
    engine: Engine
    outbox: Outbox
    desk: StaffDesk

    async def close(self) -> None:
        await self.db.dispose()


def default_triager(settings: Settings) -> TriagePort:
    from bot.triage import load_triager

    return load_triager(settings.cache_dir)


async def build_app(
    settings: Settings,
    *,
    content: Content | None = None,
    triager: TriagePort | None = None,
    migrate: bool = True,
    clock: Callable[[], datetime] = utcnow,
) -> App:
    db = make_engine(settings.database_url)
    if migrate:
        await upgrade(db)
    sessions = session_factory(db)
    content = content or load_content()
    triager = triager or default_triager(settings)
    engine = Engine(settings, sessions, content, triager, clock=clock)
    pseudo = Pseudonymizer(settings.pseudonym_secret)
    return App(
        settings=settings,
        db=db,
        sessions=sessions,
        content=content,
        engine=engine,
        outbox=Outbox(sessions, pseudo, clock=clock),
        desk=StaffDesk(sessions, content, pseudo, staff_channel=settings.staff_channel, clock=clock),
    )
