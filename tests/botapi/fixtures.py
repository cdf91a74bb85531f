"""pytest fixture factories for the local Bot API server (used in a test module or a conftest).

    from tests.botapi.fixtures import make_bot_fixture, make_server_fixture
    server = make_server_fixture("server", staff_members={501: "administrator"})
    bot = make_bot_fixture("bot", "server")

The server fixture fails the test at teardown if the bot made a call Telegram would reject
(``server.violations``) or one this server could not answer (``server.internal_errors``); a test that
provokes those on purpose clears the lists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from aiogram import Bot

from .server import BotAPIServer


def make_server_fixture(name: str, **server_kwargs: Any) -> Any:
    """A function-scoped async fixture named ``name`` yielding a started ``BotAPIServer(**server_kwargs)``."""

    @pytest_asyncio.fixture(name=name)
    async def _server() -> AsyncIterator[BotAPIServer]:
        async with BotAPIServer(**server_kwargs) as server:
            yield server
            server.assert_no_violations()

    return _server


def make_bot_fixture(name: str, server_fixture: str) -> Callable[..., Any]:
    """A fixture named ``name`` yielding an aiogram ``Bot`` bound to the server fixture ``server_fixture``."""

    @pytest_asyncio.fixture(name=name)
    async def _bot(request: Any) -> AsyncIterator[Bot]:
        server: BotAPIServer = request.getfixturevalue(server_fixture)
        bot = server.make_bot()
        try:
            yield bot
        finally:
            await bot.session.close()

    return _bot
