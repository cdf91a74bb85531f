"""Wiring: builds the database, the engine, the inbox and outbox and the staff desk from settings.
One place, used by every command and by the tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.engine import Engine, TriagePort
from bot.jobs import Health
from bot.privacy import Pseudonymizer
from bot.staff import StaffDesk
from bot.storage.db import Database, private_dir, sqlite_path, upgrade
from bot.storage.inbox import Inbox
from bot.storage.models import utcnow
from bot.storage.outbox import Outbox
from bot.texts import Content, load_content

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    db: Database
    content: Content
    engine: Engine
    inbox: Inbox
    outbox: Outbox
    desk: StaffDesk
    pseudo: Pseudonymizer
    health: Health = field(default_factory=Health)

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.db.sessions

    async def close(self) -> None:
        await self.db.dispose()


def default_triager(settings: Settings) -> TriagePort:
    from bot.triage import load_triager

    labels = settings.data_dir / "triage_labels.jsonl"  # the counsellors' reviews (triage-learn)
    return load_triager(settings.cache_dir, extra=labels if labels.is_file() else None)


async def build_app(
    settings: Settings,
    *,
    content: Content | None = None,
    triager: TriagePort | None = None,
    migrate: bool = True,
    clock: Callable[[], datetime] = utcnow,
) -> App:
    if sqlite_path(settings.database_url) is not None:
        private_dir(settings.data_dir)
    db = Database.connect(settings.database_url)
    if migrate:
        await upgrade(db.engine)
    content = content or load_content()
    triager = triager or default_triager(settings)
    pseudo = Pseudonymizer(settings.pseudonym_secret)
    inbox = Inbox(db, clock=clock)
    return App(
        settings=settings,
        db=db,
        content=content,
        engine=Engine(settings, db, content, triager, inbox, clock=clock),
        inbox=inbox,
        outbox=Outbox(db, pseudo, clock=clock),
        desk=StaffDesk(db, content, pseudo, inbox, staff_channel=settings.staff_channel, clock=clock),
        pseudo=pseudo,
    )
