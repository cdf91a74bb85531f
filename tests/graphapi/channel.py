"""The channel as the tests start it, without Telegram's modules (the child process imports this):
fast options, settings for an App, and ``start_channel`` (the channel on the bot's HTTP server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.app import App
from bot.channels.messenger import MessengerChannel, MessengerOptions
from bot.config import Settings
from bot.http import HttpServer
from tests.graphapi.server import APP_SECRET, PAGE_TOKEN, VERIFY_TOKEN

SECRET = "messenger-test-secret-0123456789"

FAST = MessengerOptions(
    outbox_poll=0.05,
    backoff_base=0.05,
    backoff_cap=0.5,
    rate_limit_wait=0.3,
    rate_limit_cap=3.0,
    handle_backoff=0.01,
    replay_interval=0.2,
    leader_poll=0.2,
    drain_timeout=2.0,
    request_timeout=5.0,
)

MESSENGER_SETTINGS: dict[str, Any] = {
    "messenger_page_token": PAGE_TOKEN,
    "messenger_app_secret": APP_SECRET,
    "messenger_verify_token": VERIFY_TOKEN,
}


def ms_settings(database_url: str, data_dir: Path, graph_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "pseudonym_secret": SECRET,
        "messenger_api_url": graph_url,
        **MESSENGER_SETTINGS,
    }
    values.update(overrides)
    return Settings(**values)


async def start_channel(app: App, base_url: str, options: MessengerOptions = FAST) -> tuple[Any, Any]:
    channel = MessengerChannel(app, base_url=base_url, options=options)
    http = HttpServer(app)
    channel.attach(http)
    await http.start("127.0.0.1", 0)
    await channel.start()
    return channel, http
