"""pytest fixtures for the local Bot API server (import them into a conftest or a test module).

    # conftest.py
    from tests.botapi.fixtures import botapi_bot, botapi_server  # noqa: F401  (fixtures)

    # or a server configured differently, under another fixture name:
    from tests.botapi.fixtures import make_server_fixture
    forum_server = make_server_fixture("forum_server", staff_members={501: "administrator"})

The server fixture fails the test at teardown if the bot made a call Telegram would reject
(``server.violations``); a test that provokes violations on purpose clears the list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from aiogram import Bot

from .server import BotAPIServer


def make_server_fixture(
    name: str = "botapi_server", *, check_violations: bool = True, **server_kwargs: Any
) -> Any:
    """A function-scoped async fixture named ``name`` yielding a started ``BotAPIServer(**server_kwargs)``."""

    @pytest_asyncio.fixture(name=name)
    async def _server() -> AsyncIterator[BotAPIServer]:
        async with BotAPIServer(**server_kwargs) as server:
            yield server
            if check_violations:
                server.assert_no_violations()

    return _server


def make_bot_fixture(name: str = "botapi_bot", server_fixture: str = "botapi_server") -> Callable[..., Any]:
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


botapi_server = make_server_fixture()
botapi_bot = make_bot_fixture()
